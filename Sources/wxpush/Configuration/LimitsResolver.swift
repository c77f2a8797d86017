import Dispatcher
import Foundation

/// Reads `wechat.accounts.<name>.limits`: `rate` (N/s or N/min), `burst`, `daily_quota`, `quota_reset`.
enum LimitsResolver {
    static func resolve(_ file: ConfigurationFile.Limits, field: String, _ problems: inout [String]) -> AccountLimits {
        var limits = AccountLimits()
        if let text = file.rate {
            if let rate = parseRate(text) {
                limits.rate = rate
            } else {
                problems.append("\(field).rate: \"\(text)\" is not a rate; write it like 200/s or 6000/min (above 0)")
            }
        }
        if let burst = file.burst {
            if burst >= 1 {
                limits.burst = Double(burst)
            } else {
                problems.append("\(field).burst: \(burst); use 1 or more (sends at once after a quiet spell)")
            }
            if limits.rate == nil, file.rate == nil { problems.append("\(field).burst: given without a rate; add rate") }
        }
        if let quota = file.dailyQuota {
            if quota >= 1 {
                limits.dailyQuota = quota
            } else {
                problems.append("\(field).daily_quota: \(quota); use 1 or more, or leave it out")
            }
        }
        if let text = file.quotaReset {
            if let reset = QuotaReset(parsing: text) {
                limits.quotaReset = reset
            } else {
                problems.append(
                    "\(field).quota_reset: \"\(text)\" is not a time and zone; write it like \"00:00 Asia/Shanghai\" or \"00:00 +08:00\"")
            }
        }
        return limits
    }

    /// "200/s", "12000/min" (also "/sec", "/m", "/second", "/minute") → sends per second.
    static func parseRate(_ text: String) -> Double? {
        let parts = text.split(separator: "/").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let count = Double(parts[0]), count > 0, count.isFinite else { return nil }
        switch parts[1] {
        case "s", "sec", "second": return count
        case "m", "min", "minute": return count / 60
        default: return nil
        }
    }
}
