import Foundation
import Kafka

/// Metrics read when `/metrics` is scraped, in Prometheus text: the build, the process (from
/// /proc, as Prometheus' own clients name them), and the consumer's rebalances.
enum ScrapeMetrics {
    static func text(consumer: KafkaConsumer) -> String {
        var lines: [String] = []
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Double)]) {
            lines += ["# HELP \(name) \(help)", "# TYPE \(name) \(type)"]
            lines += samples.map { "\(name)\($0.labels) \(format($0.value))" }
        }
        metric(
            "wxpush_build_info", "gauge", "The running wxpush and the librdkafka it loaded (always 1).",
            [("{version=\"\(WXPush.version)\",librdkafka=\"\(KafkaLibrary.version)\"}", 1)])
        let counts = consumer.rebalanceCounts
        metric(
            "wxpush_rebalances_total", "counter", "Consumer group rebalance events of this instance.",
            [
                ("{event=\"assigned\"}", Double(counts.assigned)), ("{event=\"revoked\"}", Double(counts.revoked)),
                ("{event=\"lost\"}", Double(counts.lost)),
            ])
        let process = ProcessStats.read()
        if let cpu = process.cpuSeconds {
            metric("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.", [("", cpu)])
        }
        if let resident = process.residentBytes {
            metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", [("", resident)])
        }
        if let fds = process.openFDs { metric("process_open_fds", "gauge", "Open file descriptors.", [("", fds)]) }
        if let start = process.startTime {
            metric("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.", [("", start)])
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// The process's CPU, memory, file descriptors and start time from Linux's /proc (nil elsewhere).
struct ProcessStats {
    var cpuSeconds: Double?
    var residentBytes: Double?
    var openFDs: Double?
    var startTime: Double?

    static func read() -> ProcessStats {
        var stats = ProcessStats()
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        // /proc/self/stat: the fields after the command's closing parenthesis, from field 3 (state).
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") {
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 21, let user = Double(fields[11]), let system = Double(fields[12]), let started = Double(fields[19]),
                let resident = Double(fields[21])
            {
                stats.cpuSeconds = (user + system) / ticks
                stats.residentBytes = resident * page
                if let boot = bootTime() { stats.startTime = boot + started / ticks }
            }
        }
        stats.openFDs = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")).map { Double($0.count) }
        return stats
    }

    private static func bootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        let line = text.split(separator: "\n").first { $0.hasPrefix("btime ") }
        return line.flatMap { Double($0.dropFirst(6)) }
    }
}
