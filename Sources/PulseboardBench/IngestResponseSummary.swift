import NIOCore

/// The parts of an ingest response the benchmark counts: status, and the `accepted` and
/// `duplicates` numbers of a 200 JSON body (`{"accepted":100,"duplicates":0,"rejected":[]}`).
struct IngestResponseSummary: Sendable {
    let status: Int
    let accepted: Int?
    let duplicates: Int?
    /// The start of the body, for error messages.
    let bodyPrefix: String

    init(status: Int, body: ByteBuffer) {
        self.status = status
        self.accepted = Self.intField(#""accepted":"#, in: body)
        self.duplicates = Self.intField(#""duplicates":"#, in: body)
        self.bodyPrefix = String(buffer: body.getSlice(at: body.readerIndex, length: min(body.readableBytes, 300)) ?? ByteBuffer())
    }

    /// The non-negative integer following `key` (optional whitespace allowed), if present.
    static func intField(_ key: StaticString, in body: ByteBuffer) -> Int? {
        body.withUnsafeReadableBytes { b -> Int? in
            key.withUTF8Buffer { k -> Int? in
                let n = b.count
                guard k.count > 0, n >= k.count else { return nil }
                var i = 0
                outer: while i + k.count <= n {
                    for j in 0..<k.count where b[i + j] != k[j] {
                        i += 1
                        continue outer
                    }
                    var p = i + k.count
                    while p < n, b[p] == UInt8(ascii: " ") { p += 1 }
                    var value = 0
                    var digits = 0
                    while p < n, b[p] >= 48, b[p] <= 57, digits < 18 {
                        value = value * 10 + Int(b[p] - 48)
                        p += 1
                        digits += 1
                    }
                    return digits > 0 ? value : nil
                }
                return nil
            }
        }
    }
}
