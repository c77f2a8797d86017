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
}
