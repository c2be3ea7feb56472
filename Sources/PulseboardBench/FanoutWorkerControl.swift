/// One fan-out worker as the benchmark drives it: `FanoutWorker` in this process, or
/// `FanoutWorkerProcess` for a child process running `pulseboard bench fanout --worker`.
protocol FanoutWorkerControl: Sendable {
    /// Opens all of the worker's subscribers.
    func connect() async throws -> FanoutSubscriberGroup.ConnectSummary
    /// Records frames stamped inside `window` (µs since the epoch) until `grace` µs after it ends,
    /// then closes the subscribers and returns the measurements.
    func measure(window: Range<Int64>, graceMicros: Int64) async throws -> FanoutWorkerReport
    /// Releases the worker (event loop, or child process); safe to call more than once.
    func shutdown() async
}
