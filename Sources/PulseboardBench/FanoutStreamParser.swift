/// Incremental, allocation-light parser of one subscriber's byte stream, for the fan-out benchmark:
/// the HTTP response head, then either Server-Sent Events (chunked or not) or WebSocket frames.
///
/// Only what the benchmark needs is kept: each message's event name and the first
/// `prefixLimit` bytes of its payload (where `type`, `seq` and `ts` sit), so a 20 KiB snapshot
/// costs a scan, not a copy. Server-to-client WebSocket frames may be masked or not; text,
/// continuation, ping and close frames are understood, and extended 16/64-bit lengths too.
struct FanoutStreamParser {
    /// The transport the stream carries once its head is accepted.
    typealias Transport = FanoutBenchmark.Transport

    /// What the parser found, in stream order.
    enum Output {
        /// The response head: its status code, and whether the body is chunked (SSE only).
        case head(status: Int)
        /// An SSE event (`event` is empty without an `event:` line) or a WebSocket text message.
        case message(event: ArraySlice<UInt8>, payloadPrefix: ArraySlice<UInt8>)
        /// A WebSocket ping, to be answered with a pong carrying `payload`.
        case ping(payload: [UInt8])
        /// A WebSocket close frame.
        case close
        /// The (chunked) body ended or the stream is malformed.
        case end(reason: String)
    }

    private enum Phase {
        case head
        case body
        case done
    }

    let transport: Transport
    let prefixLimit: Int
    private var phase = Phase.head
    private var head: [UInt8] = []
    private var chunked = false
    private var chunks = ChunkedDecoder()
    private var events: EventSourceParser
    private var frames: WebSocketParser

    init(transport: Transport, prefixLimit: Int = 384) {
        self.transport = transport
        self.prefixLimit = prefixLimit
        events = EventSourceParser(prefixLimit: prefixLimit)
        frames = WebSocketParser(prefixLimit: prefixLimit)
    }

    /// Parses `bytes`, calling `emit` for every complete item in order.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (Output) -> Void) {
        var rest = bytes[...]
        if case .head = phase {
            guard let bodyStart = consumeHead(rest, emit) else { return }
            rest = rest[bodyStart...]
        }
        guard case .body = phase, !rest.isEmpty else { return }
        let slice = UnsafeRawBufferPointer(rebasing: rest)
        switch transport {
        case .sse:
            if chunked {
                var ended = false
                chunks.feed(slice, { events.feed($0, emit) }, ended: &ended)
                if ended {
                    phase = .done
                    emit(.end(reason: "end of chunked body"))
                } else if chunks.malformed {
                    phase = .done
                    emit(.end(reason: "malformed chunked body"))
                }
            } else {
                events.feed(slice, emit)
            }
        case .webSocket:
            frames.feed(slice, emit)
        }
    }

    /// Accumulates the response head; returns the index where the body starts once it is complete.
    private mutating func consumeHead(_ bytes: Slice<UnsafeRawBufferPointer>, _ emit: (Output) -> Void) -> Int? {
        let old = head.count
        head.append(contentsOf: bytes)
        guard let end = Self.headEnd(head, searchFrom: max(0, old - 3)) else {
            if head.count > 32 * 1024 {
                phase = .done
                emit(.end(reason: "response head too large"))
            }
            return nil
        }
        let status = Self.statusCode(head)
        chunked = Self.hasChunkedEncoding(head[..<end])
        let bodyStart = bytes.startIndex + (end - old)
        head = []
        phase = .body
        emit(.head(status: status))
        return bodyStart
    }

    /// Index just past the first `\r\n\r\n` at or after `searchFrom`.
    private static func headEnd(_ bytes: [UInt8], searchFrom: Int) -> Int? {
        var i = searchFrom
        while i + 3 < bytes.count {
            if bytes[i] == 13, bytes[i + 1] == 10, bytes[i + 2] == 13, bytes[i + 3] == 10 { return i + 4 }
            i += 1
        }
        return nil
    }

    /// The status code of `HTTP/1.x NNN ...`, or 0.
    private static func statusCode(_ head: [UInt8]) -> Int {
        guard let space = head.firstIndex(of: 32), space + 3 < head.count else { return 0 }
        var code = 0
        for byte in head[(space + 1)...(space + 3)] {
            guard byte >= 48, byte <= 57 else { return 0 }
            code = code * 10 + Int(byte - 48)
        }
        return code
    }

    private static func hasChunkedEncoding(_ head: ArraySlice<UInt8>) -> Bool {
        let text = String(decoding: head, as: UTF8.self).lowercased()
        for line in text.split(separator: "\r\n") where line.hasPrefix("transfer-encoding:") {
            if line.contains("chunked") { return true }
        }
        return false
    }
}

/// Decodes an HTTP/1.1 chunked body incrementally, handing each piece of chunk data to a sink.
struct ChunkedDecoder {
    private enum State {
        case size
        case extensionOrLineEnd
        case data(remaining: Int)
        case dataLineEnd
        case trailer
    }

    private var state = State.size
    private var size = 0
    private var sizeDigits = 0
    /// Set when the input is not valid chunked encoding; nothing more is decoded.
    private(set) var malformed = false

    mutating func feed(
        _ bytes: UnsafeRawBufferPointer, _ sink: (UnsafeRawBufferPointer) -> Void, ended: inout Bool
    ) {
        var i = 0
        let count = bytes.count
        while i < count, !malformed {
            switch state {
            case .size:
                let byte = bytes[i]
                if let digit = Self.hexValue(byte) {
                    size = size * 16 + digit
                    sizeDigits += 1
                    if sizeDigits > 15 { malformed = true }
                    i += 1
                } else if sizeDigits == 0 {
                    malformed = true
                } else {
                    state = .extensionOrLineEnd
                }
            case .extensionOrLineEnd:
                if bytes[i] == 10 {
                    if size == 0 {
                        state = .trailer
                    } else {
                        state = .data(remaining: size)
                    }
                    size = 0
                    sizeDigits = 0
                }
                i += 1
            case .data(let remaining):
                let take = min(remaining, count - i)
                sink(UnsafeRawBufferPointer(rebasing: bytes[i..<(i + take)]))
                i += take
                state = remaining == take ? .dataLineEnd : .data(remaining: remaining - take)
            case .dataLineEnd:
                if bytes[i] == 10 { state = .size }
                i += 1
            case .trailer:
                ended = true
                return
            }
        }
        if case .trailer = state { ended = true }
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 48...57: Int(byte - 48)
        case 97...102: Int(byte - 87)
        case 65...70: Int(byte - 55)
        default: nil
        }
    }
}

/// Splits a Server-Sent Events stream into events, keeping each event's name and the first bytes
/// of its data (several `data:` lines are joined with `\n`). Comments (`: heartbeat`) are skipped.
struct EventSourceParser {
    private enum Field {
        case data
        case event
        case other
        case comment
    }

    private enum State {
        /// At a line start or inside a field name.
        case name
        /// Just after `name:`, where one space is skipped.
        case valueStart(Field)
        case value(Field)
    }

    let prefixLimit: Int
    private var state = State.name
    private var name: [UInt8] = []
    private var event: [UInt8] = []
    private var data: [UInt8] = []
    private var hasData = false

    init(prefixLimit: Int) {
        self.prefixLimit = prefixLimit
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (FanoutStreamParser.Output) -> Void) {
        var i = 0
        let count = bytes.count
        while i < count {
            let byte = bytes[i]
            if byte == 13 {  // \r: lines end with \n here; a lone \r is ignored
                i += 1
                continue
            }
            switch state {
            case .name:
                if byte == 10 {
                    if name.isEmpty {
                        dispatch(emit)
                    }
                    name.removeAll(keepingCapacity: true)
                } else if byte == 58 {  // ':'
                    let field: Field =
                        if name.isEmpty { .comment } else if name == Self.dataName { .data } else if name == Self.eventName {
                            .event
                        } else { .other }
                    name.removeAll(keepingCapacity: true)
                    if case .data = field {
                        if hasData, data.count < prefixLimit { data.append(10) }
                        hasData = true
                    } else if case .event = field {
                        event.removeAll(keepingCapacity: true)
                    }
                    state = .valueStart(field)
                } else if name.count < 16 {
                    name.append(byte)
                }
                i += 1
            case .valueStart(let field):
                state = .value(field)
                if byte == 32 { i += 1 }
            case .value(let field):
                // Copy (or skip) up to the end of the line in one go.
                var end = i
                while end < count, bytes[end] != 10, bytes[end] != 13 { end += 1 }
                switch field {
                case .data:
                    let room = prefixLimit - data.count
                    if room > 0 { data.append(contentsOf: bytes[i..<min(end, i + room)]) }
                case .event:
                    let room = 32 - event.count
                    if room > 0 { event.append(contentsOf: bytes[i..<min(end, i + room)]) }
                case .other, .comment:
                    break
                }
                i = end
                if end < count, bytes[end] == 10 {
                    state = .name
                    i += 1
                }
            }
        }
    }

    private mutating func dispatch(_ emit: (FanoutStreamParser.Output) -> Void) {
        if hasData {
            emit(.message(event: event[...], payloadPrefix: data[...]))
        }
        hasData = false
        data.removeAll(keepingCapacity: true)
        event.removeAll(keepingCapacity: true)
    }

    private static let dataName = Array("data".utf8)
    private static let eventName = Array("event".utf8)
}

/// Parses WebSocket frames (RFC 6455) sent by a server, keeping the first bytes of each text
/// message and the payload of control frames.
struct WebSocketParser {
    let prefixLimit: Int
    private var header: [UInt8] = []
    private var opcode: UInt8 = 0
    private var fin = false
    private var mask: [UInt8]? = nil
    private var remaining = 0
    private var offset = 0
    private var inHeader = true
    /// Opcode of the data message being assembled (text or binary), across continuation frames.
    private var messageOpcode: UInt8 = 0
    private var message: [UInt8] = []
    private var control: [UInt8] = []

    init(prefixLimit: Int) {
        self.prefixLimit = prefixLimit
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (FanoutStreamParser.Output) -> Void) {
        var i = 0
        let count = bytes.count
        while i < count {
            if inHeader {
                header.append(bytes[i])
                i += 1
                guard let length = headerLength(), header.count == length else { continue }
                startPayload()
                if remaining == 0 { finishFrame(emit) }
                continue
            }
            let take = min(remaining, count - i)
            let isControl = opcode >= 8
            let limit = isControl ? 125 : prefixLimit
            let target = isControl ? control.count : message.count
            let room = limit - target
            if room > 0 {
                for j in i..<(i + min(take, room)) {
                    var byte = bytes[j]
                    if let mask { byte ^= mask[(offset + j - i) & 3] }
                    if isControl { control.append(byte) } else { message.append(byte) }
                }
            }
            offset += take
            remaining -= take
            i += take
            if remaining == 0 { finishFrame(emit) }
        }
    }

    /// The full header length once enough of it is known.
    private func headerLength() -> Int? {
        guard header.count >= 2 else { return nil }
        let masked = header[1] & 0x80 != 0
        let base: Int
        switch header[1] & 0x7F {
        case 126: base = 4
        case 127: base = 10
        default: base = 2
        }
        return base + (masked ? 4 : 0)
    }

    private mutating func startPayload() {
        fin = header[0] & 0x80 != 0
        opcode = header[0] & 0x0F
        let masked = header[1] & 0x80 != 0
        var length = Int(header[1] & 0x7F)
        var next = 2
        if length == 126 {
            length = Int(header[2]) << 8 | Int(header[3])
            next = 4
        } else if length == 127 {
            var value: UInt64 = 0
            for k in 2..<10 { value = value << 8 | UInt64(header[k]) }
            length = Int(clamping: value)
            next = 10
        }
        mask = masked ? Array(header[next..<(next + 4)]) : nil
        remaining = length
        offset = 0
        inHeader = false
        header.removeAll(keepingCapacity: true)
        if opcode == 1 || opcode == 2 {
            messageOpcode = opcode
            message.removeAll(keepingCapacity: true)
        } else if opcode >= 8 {
            control.removeAll(keepingCapacity: true)
        }
    }

    private mutating func finishFrame(_ emit: (FanoutStreamParser.Output) -> Void) {
        inHeader = true
        switch opcode {
        case 0, 1, 2:
            if fin {
                if messageOpcode == 1 { emit(.message(event: [][...], payloadPrefix: message[...])) }
                message.removeAll(keepingCapacity: true)
                messageOpcode = 0
            }
        case 8:
            emit(.close)
        case 9:
            emit(.ping(payload: control))
        default:
            break
        }
    }
}
