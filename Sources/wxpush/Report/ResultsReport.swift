import Dispatcher
import Foundation
import JSON

/// What an analytics team first builds on the results topic: per account and type, the outcomes
/// by status, the delivery rate from receipts, the send latency (received → completed) and the
/// top reasons for what was not sent. Receipts join their outcome by request id.
struct ResultsReport {
    struct Key: Hashable, Comparable {
        var account: String
        var type: String
        static func < (a: Key, b: Key) -> Bool { (a.account, a.type) < (b.account, b.type) }
    }

    struct Tally {
        var byStatus: [String: Int] = [:]
        var receipts: [String: Int] = [:]
        var latencies: [Double] = []
        /// Why what was not sent was not, by reason (the first 72 characters).
        var reasons: [String: Int] = [:]
    }

    private(set) var tallies: [Key: Tally] = [:]
    private(set) var outcomes = 0
    private var keyByID: [String: Key] = [:]
    /// Receipts waiting for the end, when every outcome is known: (id, account, status).
    private var receipts: [(id: String?, account: String, status: String)] = []

    mutating func add(_ bytes: [UInt8]) {
        guard case .object(let fields)? = try? JSONValue(parsing: bytes), let kind = fields["kind"]?.string else { return }
        let account = fields["app"]?.string ?? "?"
        switch kind {
        case "dispatch":
            guard let status = fields["status"]?.string else { return }
            let key = Key(account: account, type: fields["type"]?.string ?? "(raw)")
            outcomes += 1
            if let id = fields["id"]?.string { keyByID[id] = key }
            tallies[key, default: Tally()].byStatus[status, default: 0] += 1
            if status == "sent", let received = Self.date(fields["received_at"]), let completed = Self.date(fields["completed_at"]) {
                tallies[key, default: Tally()].latencies.append(completed.timeIntervalSince(received) * 1000)
            }
            if status != "sent", let reason = fields["reason"]?.string {
                tallies[key, default: Tally()].reasons[String(reason.prefix(72)), default: 0] += 1
            }
        case "receipt":
            guard let status = fields["status"]?.string else { return }
            receipts.append((fields["id"]?.string, account, status))
        default:
            return
        }
    }

    /// The receipts joined to their outcomes' account and type (unknown request: type "?").
    private var joined: [Key: Tally] {
        var result = tallies
        for receipt in receipts {
            let key = receipt.id.flatMap { keyByID[$0] } ?? Key(account: receipt.account, type: "?")
            result[key, default: Tally()].receipts[receipt.status, default: 0] += 1
        }
        return result
    }

    func text(topic: String, since: Date?) -> String {
        let window = since.map { "since \(ISO8601DateFormatter().string(from: $0))" } ?? "all retained"
        var lines = ["\(topic), \(window): \(outcomes) outcomes, \(receipts.count) receipts", ""]
        let header = [
            "account", "type", "sent", "rejected", "failed", "expired", "delivered", "blocked", "sys_failed", "delivery", "p50 ms",
            "p99 ms",
        ]
        var rows = [header]
        for (key, tally) in joined.sorted(by: { $0.key < $1.key }) {
            let sent = tally.byStatus["sent", default: 0]
            let delivered = tally.receipts["delivered", default: 0]
            let sorted = tally.latencies.sorted()
            func percentile(_ p: Double) -> String {
                sorted.isEmpty ? "-" : String(format: "%.0f", sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))])
            }
            rows.append(
                [key.account, key.type]
                    + ["sent", "rejected", "failed", "expired"].map { String(tally.byStatus[$0, default: 0]) }
                    + ["delivered", "user_blocked", "system_failed"].map { String(tally.receipts[$0, default: 0]) }
                    + [sent > 0 && !tally.receipts.isEmpty ? String(format: "%.1f%%", Double(delivered) * 100 / Double(sent)) : "-"]
                    + [percentile(0.5), percentile(0.99)])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            lines.append(
                row.enumerated().map { column, cell in
                    column < 2
                        ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                        : String(repeating: " ", count: widths[column] - cell.count) + cell
                }.joined(separator: "  "))
        }
        let withReasons = tallies.filter { !$0.value.reasons.isEmpty }.sorted { $0.key < $1.key }
        if !withReasons.isEmpty { lines += ["", "top reasons (not sent), per account and type:"] }
        for (key, tally) in withReasons {
            lines.append("  \(key.account) \(key.type)")
            for (reason, count) in tally.reasons.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }).prefix(5) {
                lines.append(String(format: "%8d  ", count) + reason)
            }
        }
        return lines.joined(separator: "\n")
    }

    private static func date(_ value: JSONValue?) -> Date? {
        value?.string.flatMap(Timestamp.parse)
    }
}
