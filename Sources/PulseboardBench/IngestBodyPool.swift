import NIOCore
import PulseboardCore

/// A pool of pre-generated ingest batches (JSON from `SyntheticTraffic`, or the same events as
/// ClickHouse JSONEachRow rows) with the byte offsets of every event id counter and timestamp, so
/// each send can be made unique by patching bytes in place instead of generating JSON on the hot path.
struct IngestBodyPool: Sendable {
    /// How the synthetic events are written, which fixes the timestamp text.
    enum Format: Sendable {
        /// Pulseboard batches `{"events":[…]}`; timestamps `YYYY-MM-DDTHH:MM:SS.mmmZ` (24 bytes).
        case pulseboard
        /// ClickHouse JSONEachRow rows, one per event (`IngestClickHouseRows`); timestamps
        /// `YYYY-MM-DD hh:mm:ss` (19 bytes, UTC).
        case clickHouseRows

        /// Bytes of every timestamp value in a body of this format.
        var timestampLength: Int {
            switch self {
            case .pulseboard: 24
            case .clickHouseRows: 19
            }
        }

        /// Epoch milliseconds as a timestamp value of this format (`timestampLength` ASCII bytes).
        func timestamp(millis: Int64) -> [UInt8] {
            var text = Array(Timestamp.format(millis: millis).utf8)
            if case .clickHouseRows = self, text.count == 24 {
                text[10] = UInt8(ascii: " ")
                text.removeLast(5)
            }
            return text
        }
    }

    /// One pre-generated batch.
    struct Body: Sendable {
        let bytes: [UInt8]
        /// Offsets of the 16 hex digits of the counter half of each `"event_id":"e-<32 hex>"`.
        let eventIdCounterOffsets: [Int]
        /// Offsets of each timestamp value (`Format.timestampLength` bytes).
        let timestampOffsets: [Int]
        let contentLength: String
    }

    static let maxPoolBytes = 64 << 20

    let bodies: [Body]
    let batchSize: Int
    let format: Format

    /// Bytes of every timestamp value in the pool's bodies.
    var timestampLength: Int { format.timestampLength }

    /// Generates up to `count` batches of `batchSize` events each (fewer if they would exceed
    /// `maxPoolBytes` in total), converted to `format` once here.
    init(format: Format = .pulseboard, batchSize: Int, users: Int, count: Int, seed: UInt64, nowMillis: Int64) throws {
        var configuration = SyntheticTraffic.Configuration()
        configuration.users = max(1, users)
        var traffic = SyntheticTraffic(configuration: configuration, seed: seed)
        var bodies: [Body] = []
        var target = max(1, count)
        while bodies.count < target {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(bodies.first.map { $0.bytes.count + 4096 } ?? batchSize * 400)
            traffic.appendMixedBatch(into: &bytes, count: batchSize, atMillis: nowMillis, eventIds: true)
            if case .clickHouseRows = format {
                bytes = try IngestClickHouseRows.convert(bytes)
            }
            let body = try Self.index(bytes, batchSize: batchSize, timestampLength: format.timestampLength)
            bodies.append(body)
            if bodies.count == 1 {
                target = max(8, min(target, Self.maxPoolBytes / max(1, bytes.count)))
            }
        }
        self.bodies = bodies
        self.batchSize = batchSize
        self.format = format
    }

    /// Locates the patchable byte ranges of one batch (timestamps of `timestampLength` bytes) and
    /// checks there is one of each per event.
    static func index(_ bytes: [UInt8], batchSize: Int, timestampLength: Int) throws -> Body {
        let idKey = Array(#""event_id":"e-"#.utf8)
        let tsKey = Array(#""timestamp":""#.utf8)
        var ids: [Int] = []
        var stamps: [Int] = []
        ids.reserveCapacity(batchSize)
        stamps.reserveCapacity(batchSize)
        bytes.withUnsafeBufferPointer { b in
            var i = 0
            let n = b.count
            while i < n {
                if b[i] == UInt8(ascii: "\"") {
                    if matches(b, at: i, idKey), i + idKey.count + 33 <= n, b[i + idKey.count + 32] == UInt8(ascii: "\"") {
                        ids.append(i + idKey.count + 16)
                        i += idKey.count + 33
                        continue
                    }
                    if matches(b, at: i, tsKey), i + tsKey.count + timestampLength < n,
                        b[i + tsKey.count + timestampLength] == UInt8(ascii: "\"")
                    {
                        stamps.append(i + tsKey.count)
                        i += tsKey.count + timestampLength + 1
                        continue
                    }
                }
                i += 1
            }
        }
        guard ids.count == batchSize, stamps.count == batchSize else {
            throw IngestBenchmarkError.invalidPool(
                "expected \(batchSize) event ids and timestamps per batch, found \(ids.count) and \(stamps.count)")
        }
        return Body(bytes: bytes, eventIdCounterOffsets: ids, timestampOffsets: stamps, contentLength: String(bytes.count))
    }

    private static func matches(_ b: UnsafeBufferPointer<UInt8>, at i: Int, _ key: [UInt8]) -> Bool {
        guard i + key.count <= b.count else { return false }
        for j in 0..<key.count where b[i + j] != key[j] { return false }
        return true
    }

    /// Writes body `index` into `buffer`, with event ids counting up from `firstEventNumber` and every
    /// timestamp set to `timestamp` (exactly `timestampLength` ASCII bytes, from `format.timestamp`).
    func write(_ index: Int, firstEventNumber: UInt64, timestamp: [UInt8], into buffer: inout ByteBuffer) {
        let body = bodies[index]
        let start = buffer.writerIndex - buffer.readerIndex
        buffer.writeBytes(body.bytes)
        buffer.withUnsafeMutableReadableBytes { raw in
            let p = raw.baseAddress!.advanced(by: start).assumingMemoryBound(to: UInt8.self)
            var number = firstEventNumber
            for offset in body.eventIdCounterOffsets {
                Self.writeHex(number, to: p + offset)
                number &+= 1
            }
            let length = timestampLength
            precondition(timestamp.count == length, "timestamp of the wrong length")
            timestamp.withUnsafeBufferPointer { ts in
                for offset in body.timestampOffsets {
                    (p + offset).update(from: ts.baseAddress!, count: length)
                }
            }
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    @inline(__always)
    private static func writeHex(_ v: UInt64, to p: UnsafeMutablePointer<UInt8>) {
        hexDigits.withUnsafeBufferPointer { digits in
            var v = v
            var i = 15
            while i >= 0 {
                p[i] = digits[Int(v & 0xF)]
                v >>= 4
                i -= 1
            }
        }
    }
}
