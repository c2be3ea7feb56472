import Foundation
import Logging

/// Reads journal segments back, record by record. A record that is short or fails its checksum
/// ends the segment: the file is truncated there and the loss logged; it is never fatal.
public struct JournalReader: Sendable {
    public let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    /// What a pass over segments found.
    public struct Summary: Sendable, Equatable {
        public var segments = 0
        public var records = 0
        public var bytes = 0
        public var truncatedBytes = 0
    }

    /// Calls `body` for each valid record of `segments`, in order.
    public func read(_ segments: [Journal.Segment], _ body: (JournalRecord.View) throws -> Void) throws -> Summary {
        try readKeepingSegments(segments) { view, _, _, _ in try body(view) }
    }

    /// Calls `body` for each valid record of `segments`, in order, with its segment's sequence,
    /// the whole segment it is in and the address of the segment's first byte (the view's
    /// buffers point into it), so a later stage can keep the records by offset without copying.
    public func readKeepingSegments(
        _ segments: [Journal.Segment],
        _ body: (JournalRecord.View, _ sequence: UInt64, _ segment: Data, _ base: UnsafeRawPointer) throws -> Void
    ) throws -> Summary {
        var summary = Summary()
        for segment in segments {
            guard let data = FileManager.default.contents(atPath: segment.path) else {
                logger.error("cannot read journal segment", metadata: ["segment": "\(segment.path)"])
                continue
            }
            summary.segments += 1
            summary.bytes += data.count
            let magic = JournalRecord.fileMagic
            var cut: Int? = nil
            try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
                guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else {
                    cut = 0
                    return
                }
                var offset = magic.count
                while offset < bytes.count {
                    guard let (view, next) = JournalRecord.parse(bytes, at: offset) else {
                        cut = offset
                        return
                    }
                    try body(view, segment.sequence, data, bytes.baseAddress!)
                    summary.records += 1
                    offset = next
                }
            }
            if let cut {
                let lost = data.count - cut
                summary.truncatedBytes += lost
                if cut == 0 {
                    logger.warning("journal segment has no valid header; leaving it untouched", metadata: ["segment": "\(segment.path)"])
                } else {
                    logger.warning(
                        "journal segment ends in a torn or corrupt record; truncating",
                        metadata: ["segment": "\(segment.path)", "offset": "\(cut)", "bytes_dropped": "\(lost)"])
                    _ = truncate(segment.path, off_t(cut))
                }
            }
        }
        return summary
    }
}
