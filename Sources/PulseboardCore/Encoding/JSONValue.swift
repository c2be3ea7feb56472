import Foundation

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
        case let (.object(x), .object(y)):
            // Member order does not matter in JSON objects.
            x.count == y.count && {
                let index = Dictionary(y, uniquingKeysWith: { a, _ in a })
                return x.allSatisfy { k, v in index[k].map { $0 == v } ?? false }
            }()
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
            var none: [String: Int]? = nil
            do throws(JSONSyntaxError) {
                let v = try parseValue(&r, depth: 0, path: "", offsets: &none)
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

    /// Parses a document and records where each value starts: JSON path (`$.widgets[2].query`)
    /// to 1-based line and column, so validators can point at the exact spot in the file.
    public static func parseWithPositions(_ bytes: [UInt8]) throws(ParseError) -> (JSONValue, [String: (line: Int, column: Int)]) {
        let result: Result<(JSONValue, [String: (line: Int, column: Int)]), ParseError> = bytes.withUnsafeBytes { p in
            var r = JSONReader(p)
            var offsets: [String: Int]? = [:]
            do throws(JSONSyntaxError) {
                let v = try parseValue(&r, depth: 0, path: "$", offsets: &offsets)
                r.skipWhitespace()
                guard r.atEnd else { throw r.error("unexpected data after the JSON value") }
                // One pass turns offsets into line/column.
                let sorted = (offsets ?? [:]).sorted { $0.value < $1.value }
                var positions: [String: (line: Int, column: Int)] = [:]
                var line = 1
                var column = 1
                var at = 0
                for (path, offset) in sorted {
                    while at < offset {
                        if p[at] == 0x0A { line += 1; column = 1 } else { column += 1 }
                        at += 1
                    }
                    positions[path] = (line, column)
                }
                return .success((v, positions))
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

    /// Parses one value; records value offsets by path when `offsets` is non-nil.
    static func parseValue(_ r: inout JSONReader, depth: Int, path: String, offsets: inout [String: Int]?) throws(JSONSyntaxError) -> JSONValue {
        guard depth < 128 else { throw r.error("nesting too deep") }
        let kind = r.nextKind()
        if offsets != nil { offsets![path] = r.pos }
        switch kind {
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
            repeat {
                let childPath = offsets == nil ? "" : path + "[\(items.count)]"
                items.append(try parseValue(&r, depth: depth + 1, path: childPath, offsets: &offsets))
            } while r.consume(UInt8(ascii: ","))
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
                let childPath = offsets == nil ? "" : path + JSONValue.pathComponent(key)
                members.append((key, try parseValue(&r, depth: depth + 1, path: childPath, offsets: &offsets)))
            } while r.consume(UInt8(ascii: ","))
            try r.expect(UInt8(ascii: "}"))
            return .object(members)
        case .invalid:
            throw r.error(r.atEnd ? "unexpected end of input" : "unexpected character")
        }
    }

    /// `.key` for identifier-like keys, `["key"]` otherwise.
    public static func pathComponent(_ key: String) -> String {
        let simple = !key.isEmpty && key.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
        return simple ? "." + key : "[\"" + key.replacingOccurrences(of: "\"", with: "\\\"") + "\"]"
    }

    /// The member `key` of an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members.first { $0.0 == key }?.1 }
        return nil
    }

    /// Writes the value as JSON.
    public func write(into w: inout JSONWriter) {
        switch self {
        case .string(let s): w.string(s)
        case .number(let d): w.number(d)
        case .bool(let b): w.bool(b)
        case .null: w.null()
        case .array(let items):
            w.beginArray()
            for i in items { i.write(into: &w) }
            w.endArray()
        case .object(let members):
            w.beginObject()
            for (k, v) in members {
                w.key(k)
                v.write(into: &w)
            }
            w.endObject()
        }
    }

    /// The value encoded as JSON bytes.
    public var jsonBytes: [UInt8] {
        var w = JSONWriter()
        write(into: &w)
        return w.bytes
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
