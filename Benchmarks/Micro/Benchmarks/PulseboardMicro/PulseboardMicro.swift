import Benchmark
import MicroWorkloads

/// The micro-benchmark suite: one benchmark per workload of `MicroWorkloads` (each workload
/// type's doc comment says what it measures), one operation per iteration.
///
/// Metrics, checked against the committed `Thresholds/PulseboardMicro.*.p90.json` with these
/// tolerances (check.sh's table mirrors them; keep the two in step):
/// - `mallocCountTotal`: exact (absolute tolerance 0). The counts are deterministic (fixed
///   seeds, fixed clock, fixed iteration count, warm state), so any new allocation on a path
///   fails the check; this is the main regression guard.
/// - `wallClock`, `throughput`: loose, a failure only past 4× the committed p90, so a noisy
///   shared 2-core machine never fails the check while an algorithmic blow-up still does.
/// - instructions: not here. package-benchmark's `.instructions` reads perf counters, which
///   this VM does not have: it records no sample, and still costs 16 mallocs per iteration
///   that would pollute `mallocCountTotal`. `callgrind.sh` counts instructions instead.
let benchmarks: @Sendable () -> Void = {
    micro(MicroWorkloads.decode, iterations: 5_000)
    micro(MicroWorkloads.windowInsert, iterations: 5_000)
    micro(MicroWorkloads.frameDelta, iterations: 2_000)
    micro(MicroWorkloads.hubPublish, iterations: 200)
}

/// Registers workload `name`: 10 warm-up operations, then exactly `iterations` measured ones
/// (`maxDuration` is never the limit), so every run measures the same operation sequence.
/// Only `run()` is measured; `prepare()` happens before `startMeasurement()`.
func micro(_ name: String, iterations: Int) {
    let thresholds: [BenchmarkMetric: BenchmarkThresholds] = [
        .mallocCountTotal: .init(absolute: [.p90: 0]),
        // +300 %: 4× the committed time per operation.
        .wallClock: .init(relative: [.p90: 300]),
        // -75 %: a quarter of the committed operations per second (throughput prefers larger).
        .throughput: .init(relative: [.p90: 75]),
    ]
    Benchmark(
        name,
        configuration: .init(
            metrics: [.wallClock, .throughput, .mallocCountTotal],
            warmupIterations: 10,
            scalingFactor: .one,
            maxDuration: .seconds(600),
            maxIterations: iterations,
            thresholds: thresholds)
    ) { (benchmark: Benchmark, workload: any MicroWorkload) in
        workload.prepare()
        benchmark.startMeasurement()
        workload.run()
        benchmark.stopMeasurement()
    } setup: {
        guard let workload = MicroWorkloads.make(name) else { preconditionFailure("unknown workload \(name)") }
        return workload
    }
}
