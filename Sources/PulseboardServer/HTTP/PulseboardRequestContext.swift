import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// The request context of every route: Hummingbird's core context plus the connection's
/// channel, so a stream whose writer is stuck can still be disconnected from outside.
public struct PulseboardRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
