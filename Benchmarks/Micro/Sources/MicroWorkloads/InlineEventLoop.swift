import Dispatch
import NIOCore

/// An event loop that runs each task at once, on the calling thread: the hub's per-loop
/// delivery task then runs inside `Hub.tick`, so one measured operation covers the whole
/// fan-out, on one thread, with no wake-up latency (and callgrind counts it all). Unlike
/// `EmbeddedEventLoop` it may be used from any thread, as the benchmark runner's setup and
/// measurement may run on different ones. Scheduling is not supported (the hub never asks).
final class InlineEventLoop: EventLoop {
    var inEventLoop: Bool { true }

    func execute(_ task: @escaping @Sendable () -> Void) { task() }

    func scheduleTask<T>(deadline: NIODeadline, _ task: @escaping @Sendable () throws -> T) -> Scheduled<T> {
        let promise = makePromise(of: T.self)
        promise.fail(EventLoopError.unsupportedOperation)
        return Scheduled(promise: promise, cancellationTask: {})
    }

    func scheduleTask<T>(in delay: TimeAmount, _ task: @escaping @Sendable () throws -> T) -> Scheduled<T> {
        scheduleTask(deadline: .now() + delay, task)
    }

    func preconditionInEventLoop(file: StaticString, line: UInt) {}

    func preconditionNotInEventLoop(file: StaticString, line: UInt) {
        preconditionFailure("an inline event loop is always current", file: file, line: line)
    }

    func shutdownGracefully(queue: DispatchQueue, _ callback: @escaping @Sendable ((any Error)?) -> Void) {
        queue.async { callback(nil) }
    }
}
