import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time and resident memory of a process, from Linux `/proc`, with the time they were read.
/// CPU time is read twice: per thread in nanoseconds (`/proc/PID/task/TID/schedstat`, time on
/// a CPU, user and kernel), and for the whole process in clock ticks (`/proc/PID/stat` utime +
/// stime, 10 ms each), which also keeps the time of threads that have exited.
struct ServerProcessSample: Sendable {
    /// User + system CPU time from `/proc/PID/stat`, in seconds (10 ms resolution).
    var cpuSeconds: Double
    /// CPU time of each live thread, in nanoseconds; empty where schedstat is not available.
    var threadNanos: [Int: UInt64]
    /// The size of one clock tick, in seconds.
    var tickSeconds: Double
    var rssKiB: Int
    /// Monotonic time of the reading, in seconds.
    var uptime: Double

    /// Seconds of CPU the process used between `start` and `end`. The per-thread figures make it
    /// exact (a 1,000-subscriber window is only a few ticks); a thread that exited in between
    /// takes its time with it, so when the tick count says more was used, that count is taken.
    static func cpuSeconds(from start: ServerProcessSample, to end: ServerProcessSample) -> Double {
        let ticks = end.cpuSeconds - start.cpuSeconds
        guard !start.threadNanos.isEmpty, !end.threadNanos.isEmpty else { return ticks }
        var nanos: UInt64 = 0
        for (tid, t) in end.threadNanos {
            let before = start.threadNanos[tid] ?? 0
            if t >= before { nanos += t - before }
        }
        let exact = Double(nanos) / 1e9
        // Both tick readings may be off by up to one tick each.
        return ticks - exact > 2 * end.tickSeconds ? ticks : exact
    }

    static func read(pid: Int32) throws -> ServerProcessSample {
        let uptime = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        let stat: String
        let status: String
        do {
            stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        } catch {
            throw FanoutBenchmarkError.serverProcess("process \(pid): \(error)")
        }
        // The command name (field 2) may hold spaces: fields are counted after its closing ')'.
        guard let close = stat.lastIndex(of: ")") else { throw FanoutBenchmarkError.serverProcess("bad /proc/\(pid)/stat") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
        guard fields.count > 12, let utime = Double(fields[11]), let stime = Double(fields[12]) else {
            throw FanoutBenchmarkError.serverProcess("bad /proc/\(pid)/stat")
        }
        var rss = 0
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            rss = Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? 0
        }
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        let tick = 1 / (hz > 0 ? hz : 100)
        return ServerProcessSample(
            cpuSeconds: (utime + stime) * tick, threadNanos: threadNanos(pid: pid), tickSeconds: tick, rssKiB: rss, uptime: uptime)
    }

    /// The first field of each thread's schedstat: nanoseconds spent on a CPU.
    static func threadNanos(pid: Int32) -> [Int: UInt64] {
        guard let tids = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return [:] }
        var out: [Int: UInt64] = [:]
        for name in tids {
            guard let tid = Int(name),
                let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(name)/schedstat", encoding: .utf8),
                let first = text.split(separator: " ").first, let nanos = UInt64(first)
            else { continue }
            out[tid] = nanos
        }
        return out
    }
}
