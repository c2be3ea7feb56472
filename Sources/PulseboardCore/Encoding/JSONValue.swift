/// A parsed JSON document (configuration files, later dashboard specs). Parsing is strict and
/// errors carry the line and column of the problem.
public indirect enum JSONValue: Sendable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    /// Members in document order.
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.string(x), .string(y)): x == y
        case let (.number(x), .number(y)): x == y
        case let (.bool(x), .bool(y)): x == y
        case (.null, .null): true
        case let (.array(x), .array(y)): x == y
        case let (.object(x), .object(y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// A parse failure with its position.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var column: Int
        public var message: String
        public var description: String { "line \(line), column \(column): \(message)" }
    }

    /// Parses a whole document.
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> JSONValue {
        let result: Result<JSONValue, ParseError> = bytes.withUnsafeBytes { p in
            var r = JSONReader(p)
            do throws(JSONSyntaxError) {
                let v = try parseValue(&r, depth: 0)
                r.skipWhitespace()
                guard r.atEnd else { throw r.error("unexpected data after the JSON value") }
                return .success(v)
            } catch {
                let (line, column) = position(of: error.offset, in: p)
                return .failure(ParseError(line: line, column: column, message: error.message))
            }
        }
        return try result.get()
    }

    /// Parses a UTF-8 string.
    public static func parse(_ text: String) throws(ParseError) -> JSONValue { try parse(Array(text.utf8)) }

    /// 1-based line and column of a byte offset.
    public static func position(of offset: Int, in bytes: UnsafeRawBufferPointer) -> (Int, Int) {
        var line = 1
        var column = 1
        for i in 0..<min(offset, bytes.count) {
            if bytes[i] == 0x0A { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    static func parseValue(_ r: inout JSONReader, depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard depth < 128 else { throw r.error("nesting too deep") }
        switch r.nextKind() {
        case .string: return .string(r.string(try r.readString()))
        case .number: return .number(try r.readNumber())
        case .bool: return .bool(try r.readBool())
        case .null:
            guard r.readNull() else { throw r.error("expected null") }
            return .null
        case .array:
            r.pos += 1
            var items: [JSONValue] = []
            if r.consume(UInt8(ascii: "]")) { return .array(items) }
            repeat { items.append(try parseValue(&r, depth: depth + 1)) } while r.consume(UInt8(ascii: ","))
            try r.expect(UInt8(ascii: "]"))
            return .array(items)
        case .object:
            r.pos += 1
            var members: [(String, JSONValue)] = []
            if r.consume(UInt8(ascii: "}")) { return .object(members) }
            repeat {
                r.skipWhitespace()
                let key = r.string(try r.readString())
                try r.expect(UInt8(ascii: ":"))
                members.append((key, try parseValue(&r, depth: depth + 1)))
            } while r.consume(UInt8(ascii: ","))
            try r.expect(UInt8(ascii: "}"))
            return .object(members)
        case .invalid:
            throw r.error(r.atEnd ? "unexpected end of input" : "unexpected character")
        }
    }

    /// The member `key` of an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members.first { $0.0 == key }?.1 }
        return nil
    }

    /// A short name of the value's JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
