import Foundation
import Kafka
import WeChat

/// `GET /readyz`: ready when the consumer has its assignment (possibly none) and the brokers
/// answer. Each account's access token is reported in the body but not required: one WeChat
/// problem (an IP whitelist change) must not take every instance out of the Service, whose
/// callbacks and intake need no token; it shows on `/metrics` (`wxpush_token_fetches_total`).
/// Each check is bounded; the body names what fails.
struct Readiness: Sendable {
    let consumer: KafkaConsumer
    let requestsTopic: String
    let wechat: WeChatClient
    let accounts: [String]
    var timeout: Duration = .seconds(3)

    struct Report: Sendable {
        var checks: [(name: String, problem: String?)]
        /// Only the group and the brokers decide; `token.*` checks inform.
        var isReady: Bool { checks.allSatisfy { $0.problem == nil || $0.name.hasPrefix("token.") } }

        /// `{"ready":…,"checks":{"name":"ok"|"the problem",…}}`, names in order.
        var json: String {
            let fields = checks.map { "\"\($0.name)\":\"\(($0.problem ?? "ok").replacingOccurrences(of: "\"", with: "'"))\"" }
            return "{\"ready\":\(isReady),\"checks\":{\(fields.joined(separator: ","))}}\n"
        }
    }

    func check() async -> Report {
        await withTaskGroup(of: (Int, String, String?).self) { group in
            group.addTask {
                let problem =
                    consumer.isShuttingDown
                    ? "shutting down (draining)"
                    : consumer.isGroupMember ? nil : "no assignment from the consumer group (yet, or it was lost)"
                return (0, "group", problem)
            }
            group.addTask {
                let problem = await bounded {
                    do throws(KafkaError) {
                        _ = try await consumer.partitionCount(of: requestsTopic, timeout: timeout)
                        return nil
                    } catch {
                        return "brokers unreachable or \(requestsTopic) unknown: \(error)"
                    }
                }
                return (1, "kafka", problem)
            }
            for (index, account) in accounts.enumerated() {
                group.addTask { (2 + index, "token.\(account)", await bounded { await wechat.tokenProblem(account: account) }) }
            }
            var results: [(Int, String, String?)] = []
            for await result in group { results.append(result) }
            return Report(checks: results.sorted { $0.0 < $1.0 }.map { ($0.1, $0.2) })
        }
    }

    /// The check's answer, or a timeout problem after `timeout`.
    private func bounded(_ check: @escaping @Sendable () async -> String?) async -> String? {
        await withTaskGroup(of: String??.self) { group in
            group.addTask { .some(await check()) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return .none
            }
            defer { group.cancelAll() }
            return (await group.next() ?? nil) ?? "no answer within \(timeout)"
        }
    }
}
