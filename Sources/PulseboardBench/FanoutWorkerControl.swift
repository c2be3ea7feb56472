/// One fan-out worker as the benchmark drives it: `FanoutWorker` in this process, or
/// `FanoutWorkerProcess` for a child process running `pulseboard bench fanout --worker`.
protocol FanoutWorkerControl: Sendable {
    /// Opens all of the worker's subscribers.
    func connect() async throws -> FanoutSubscriberGroup.ConnectSummary
    /// Records frames stamped inside `window` (µs since the epoch) until `grace` µs after it ends,
    /// then returns the measurements; after the `last` window it also closes the subscribers.
    func measure(window: Range<Int64>, graceMicros: Int64, last: Bool) async throws -> FanoutWorkerReport
    /// Releases the worker (event loop, or child process); safe to call more than once.
    func shutdown() async
}
