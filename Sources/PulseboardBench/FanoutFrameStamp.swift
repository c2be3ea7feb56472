import PulseboardCore

/// The identity and server timestamp of one pushed message, read from the first bytes of its JSON
/// payload: Pulseboard's `{"type":…,"seq":N,"ts":"2026-11-22T01:51:38.438Z",…}` (SSE data carries
/// no `type`), or any peer's JSON body with a `"ts"` (and optionally `"seq"`), such as the
/// messages `Benchmarks/nchan.sh` publishes.
struct FanoutFrameStamp: Equatable {
    enum Kind: Equatable {
        /// A full frame sent on subscribe: proves the subscription, but is not a measured delivery.
        case snapshot
        /// A frame pushed because something changed: what the benchmark measures.
        case frame
        /// `{"type":"error",…}` from the server.
        case error
        /// Anything else (`pong`, messages without a `ts`).
        case other
    }

    var kind: Kind
    /// `seq` when present, else the timestamp in ms: what makes frames distinct.
    var key: Int64
    /// Server time the frame was computed, in µs since the epoch.
    var timestampMicros: Int64

    /// Classifies one message. `event` is the SSE event name (empty for WebSocket or none).
    static func parse(event: ArraySlice<UInt8>, payload: ArraySlice<UInt8>) -> FanoutFrameStamp? {
        var kind = Kind.frame
        if !event.isEmpty {
            if event.elementsEqual(snapshotName) {
                kind = .snapshot
            } else if !event.elementsEqual(deltaName) {
                kind = .other
            }
        }
        // Pulseboard's WebSocket messages start with their type; a "type" further in belongs to a widget.
        if payload.starts(with: typePrefix), let type = stringValue(of: typeKey, in: payload) {
            if type.elementsEqual(snapshotName) {
                kind = .snapshot
            } else if type.elementsEqual(errorName) {
                return FanoutFrameStamp(kind: .error, key: 0, timestampMicros: 0)
            } else if !type.elementsEqual(deltaName) {
                kind = .other
            }
        }
        guard let tsText = stringValue(of: tsKey, in: payload), let micros = parseRFC3339Micros(tsText) else {
            return kind == .snapshot ? FanoutFrameStamp(kind: .snapshot, key: 0, timestampMicros: 0) : nil
        }
        let key = integerValue(of: seqKey, in: payload) ?? micros / 1000
        return FanoutFrameStamp(kind: kind, key: key, timestampMicros: micros)
    }

    /// The phase of a Pulseboard topic a frame key (its `seq`) belongs to: phase p's seqs start
    /// at p << 44 (`Hub.phaseSeqShift`). Timestamps and peers' small sequence numbers are phase 0.
    static func phase(of key: Int64) -> Int { key > 0 ? Int(key >> 44) : 0 }

    private static let snapshotName = Array("snapshot".utf8)
    private static let deltaName = Array("delta".utf8)
    private static let errorName = Array("error".utf8)
    private static let typeKey = Array("\"type\":".utf8)
    private static let typePrefix = Array("{\"type\":".utf8)
    private static let seqKey = Array("\"seq\":".utf8)
    private static let tsKey = Array("\"ts\":".utf8)

    /// Index just past the first occurrence of `key` (and any spaces after it).
    private static func valueStart(of key: [UInt8], in bytes: ArraySlice<UInt8>) -> Int? {
        guard bytes.count >= key.count else { return nil }
        var i = bytes.startIndex
        let last = bytes.endIndex - key.count
        while i <= last {
            if bytes[i] == key[0], bytes[i..<(i + key.count)].elementsEqual(key) {
                var j = i + key.count
                while j < bytes.endIndex, bytes[j] == 32 { j += 1 }
                return j
            }
            i += 1
        }
        return nil
    }

    private static func stringValue(of key: [UInt8], in bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        guard let start = valueStart(of: key, in: bytes), start < bytes.endIndex, bytes[start] == 34 else { return nil }
        guard let end = bytes[(start + 1)...].firstIndex(of: 34) else { return nil }
        return bytes[(start + 1)..<end]
    }

    private static func integerValue(of key: [UInt8], in bytes: ArraySlice<UInt8>) -> Int64? {
        guard var i = valueStart(of: key, in: bytes) else { return nil }
        var value: Int64 = 0
        var digits = 0
        while i < bytes.endIndex, bytes[i] >= 48, bytes[i] <= 57, digits < 18 {
            value = value * 10 + Int64(bytes[i] - 48)
            digits += 1
            i += 1
        }
        return digits > 0 ? value : nil
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` into µs since the epoch.
    static func parseRFC3339Micros(_ text: ArraySlice<UInt8>) -> Int64? {
        let b = Array(text)
        guard b.count >= 20 else { return nil }
        func number(_ from: Int, _ length: Int) -> Int64? {
            var value: Int64 = 0
            for k in from..<(from + length) {
                guard k < b.count, b[k] >= 48, b[k] <= 57 else { return nil }
                value = value * 10 + Int64(b[k] - 48)
            }
            return value
        }
        guard let year = number(0, 4), b[4] == 45, let month = number(5, 2), b[7] == 45, let day = number(8, 2),
            b[10] == 84 || b[10] == 116 || b[10] == 32, let hour = number(11, 2), b[13] == 58,
            let minute = number(14, 2), b[16] == 58, let second = number(17, 2)
        else { return nil }
        var i = 19
        var micros: Int64 = 0
        if i < b.count, b[i] == 46 {
            i += 1
            var scale: Int64 = 100_000
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                micros += Int64(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
        }
        var offsetSeconds: Int64 = 0
        guard i < b.count else { return nil }
        if b[i] == 43 || b[i] == 45 {
            guard let oh = number(i + 1, 2), i + 3 < b.count, b[i + 3] == 58, let om = number(i + 4, 2) else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (b[i] == 45 ? -1 : 1)
        } else if b[i] != 90 && b[i] != 122 {
            return nil
        }
        let days = Int64(Timestamp.daysFromCivil(year: Int(year), month: Int(month), day: Int(day)))
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return seconds * 1_000_000 + micros
    }
}
