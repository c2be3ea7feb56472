/// An API key from `auth.keys`: a name for logs, a secret, and what it may do.
public struct APIKey: Sendable, Equatable {
    /// What a key may do; `admin` implies every other scope.
    public enum Scope: String, Sendable, CaseIterable {
        case ingest, read, admin
    }

    public var name: String
    public var secret: String
    public var scopes: Set<Scope>

    public init(name: String, secret: String, scopes: Set<Scope>) {
        self.name = name
        self.secret = secret
        self.scopes = scopes
    }

    public func allows(_ scope: Scope) -> Bool { scopes.contains(scope) || scopes.contains(.admin) }
}
