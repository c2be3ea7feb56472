import Synchronization

/// The requests a step with an event budget (`--events`) may still send, shared by all connections
/// (which may run on different event loops): each connection claims one before every send, and
/// gives it back when the server refused it outright, so the step ends with exactly the budget acked.
final class IngestSendBudget: Sendable {
    private let remaining: Atomic<Int>

    init(requests: Int) {
        remaining = Atomic(max(0, requests))
    }

    /// Takes one request from the budget; false once it is used up.
    func claim() -> Bool {
        var current = remaining.load(ordering: .relaxed)
        while current > 0 {
            let (exchanged, original) = remaining.compareExchange(
                expected: current, desired: current - 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Returns a claimed request whose events the server did not take (a non-200 answer).
    func giveBack() {
        remaining.wrappingAdd(1, ordering: .relaxed)
    }
}

/// Prints the first non-200 answer of a run (status and the start of its body) through the
/// benchmark's progress callback, once for all connections; later ones are only counted.
final class IngestErrorLog: Sendable {
    private let printed = Atomic(false)
    private let sink: (@Sendable (String) -> Void)?

    init(sink: (@Sendable (String) -> Void)?) {
        self.sink = sink
    }

    /// Whether nothing has been printed yet (cheap: callers build the message only when true).
    var isArmed: Bool { !printed.load(ordering: .relaxed) }

    /// Prints `line` if it is the first one.
    func reportOnce(_ line: String) {
        guard printed.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        sink?(line)
    }
}
