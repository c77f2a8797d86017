import Foundation
import Glibc

/// Percentiles of a latency sample.
public struct LatencySummary: Sendable {
    public let p50: Double
    public let p99: Double
    public let max: Double

    public init?(_ samples: [Double]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        func at(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.down)))] }
        p50 = at(0.50)
        p99 = at(0.99)
        max = sorted.last!
    }
}

/// The steady rate of a run: events per second between the 10th and the 90th percentile of
/// their times (seconds), without the start (first fetches, token, the first burst) and the tail.
/// Nil for fewer than 20 times or no time between those percentiles.
public func steadyRate(of times: [Double]) -> Double? {
    rate(of: times, from: 0.1, to: 0.9)
}

/// Events per second between two quantiles of their times (seconds); nil for fewer than 20
/// times or no time between them.
public func rate(of times: [Double], from low: Double, to high: Double) -> Double? {
    let times = times.sorted()
    guard times.count >= 20 else { return nil }
    let first = Int(Double(times.count) * low)
    let last = min(times.count - 1, Int(Double(times.count) * high))
    let span = times[last] - times[first]
    return span > 0 ? Double(last - first) / span : nil
}

/// When the WeChat stand-in delivered a run's messages: the whole run as a user sees it.
public struct DeliveryTimes: Sendable {
    /// Seconds from the first delivery to the last.
    public let firstToLast: Double
    /// Deliveries per second between the 10th and the 60th percentile of their times: steady
    /// whatever the tail does.
    public let rate10to60: Double?
    /// The longest time between two consecutive deliveries to one openid, in seconds.
    public let longestGapPerOpenID: Double

    public init(byOpenID: [[Double]]) {
        let all = byOpenID.flatMap { $0 }
        firstToLast = (all.max() ?? 0) - (all.min() ?? 0)
        rate10to60 = rate(of: all, from: 0.1, to: 0.6)
        longestGapPerOpenID =
            byOpenID.map { times in
                let sorted = times.sorted()
                return zip(sorted, sorted.dropFirst()).map { $1 - $0 }.max() ?? 0
            }.max() ?? 0
    }
}

/// This process's CPU time and peak resident memory.
public enum ProcessUsage {
    public static var cpuSeconds: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Peak RSS in MiB (ru_maxrss is in KiB on Linux).
    public static var peakResidentMiB: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    /// Another process's CPU seconds (user + system) and peak RSS so far, from /proc.
    static func of(pid: Int32) -> DispatcherUsage {
        var cpu = 0.0
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") {
            // Fields after "(comm)": state is the first, utime the 12th, stime the 13th, in clock ticks.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) {
                cpu = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
            }
        }
        var peak = 0.0
        if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kibibytes = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        {
            peak = kibibytes / 1024
        }
        return DispatcherUsage(cpuSeconds: cpu, peakResidentMiB: peak, isolated: true)
    }
}
