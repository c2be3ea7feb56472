import CCallgrind
import MicroWorkloads

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `micro-workload NAME ITERATIONS`: sets up workload NAME, then runs `prepare()` and `run()`
/// ITERATIONS times, printing nothing but a summary line. On its own it is a quick way to
/// profile one workload; `callgrind.sh` runs it under
/// `valgrind --tool=callgrind --instr-atstart=no --collect-atstart=no`, and the client
/// requests below make callgrind record only the `run()` calls: instrumentation starts after
/// setup (and is off again during each `prepare()`, so not even its calls to malloc are
/// recorded), and event collection is on only around `run()`. The totals divided by
/// ITERATIONS are per operation.
let arguments = CommandLine.arguments
guard arguments.count == 3, let iterations = Int(arguments[2]), iterations > 0,
    let workload = MicroWorkloads.make(arguments[1])
else {
    print("usage: micro-workload NAME ITERATIONS   (NAME: \(MicroWorkloads.names.joined(separator: ", ")))")
    exit(64)
}

let prepares = workload.prepares
if !prepares { micro_callgrind_start_instrumentation() }
for _ in 0..<iterations {
    if prepares {
        workload.prepare()
        micro_callgrind_start_instrumentation()
    }
    micro_callgrind_toggle_collect()
    workload.run()
    micro_callgrind_toggle_collect()
    if prepares { micro_callgrind_stop_instrumentation() }
}
let mode = micro_running_on_valgrind() > 0 ? "under valgrind" : micro_callgrind_available() != 0 ? "native" : "native, built without valgrind headers"
print("\(arguments[1]): \(iterations) operations (\(mode))")
