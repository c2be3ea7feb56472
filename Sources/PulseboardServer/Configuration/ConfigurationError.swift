/// A configuration problem found at start-up; names the key and where the value came from.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var key: String
    public var message: String
    public var source: String?

    public init(key: String, _ message: String, source: String? = nil) {
        self.key = key
        self.message = message
        self.source = source
    }

    public var description: String {
        "configuration key '\(key)': \(message)" + (source.map { " (from \($0))" } ?? "")
    }
}
