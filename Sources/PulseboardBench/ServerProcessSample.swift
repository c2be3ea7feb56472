import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time and resident memory of a process, from Linux `/proc/PID/stat` (utime + stime) and
/// `/proc/PID/status` (VmRSS), with the wall-clock time they were read.
struct ServerProcessSample: Sendable {
    /// User + system CPU time, in seconds.
    var cpuSeconds: Double
    var rssKiB: Int
    /// Monotonic time of the reading, in seconds.
    var uptime: Double

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
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ServerProcessSample(cpuSeconds: (utime + stime) / (ticks > 0 ? ticks : 100), rssKiB: rss, uptime: uptime)
    }
}
