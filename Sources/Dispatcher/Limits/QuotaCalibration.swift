import Logging
import ServiceLifecycle
import WeChat

/// Asks WeChat (`/cgi-bin/openapi/quota/get`) for each limited account's real daily quota and
/// today's use: at start, every `interval` (at most every few minutes: the call has a quota of
/// its own), and after an operator's quota reset. A failure leaves the configured quota in force.
public struct QuotaCalibration: Service {
    let wechat: WeChatClient
    let limits: SendLimits
    let interval: Duration
    let logger: Logger

    public init(wechat: WeChatClient, limits: SendLimits, interval: Duration = .seconds(300), logger: Logger) {
        self.wechat = wechat
        self.limits = limits
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                for account in limits.limitedAccounts {
                    do throws(WeChatError) {
                        let quota = try await wechat.dailyQuota(account: account)
                        limits.calibrate(account: account, dailyLimit: quota.dailyLimit, usedToday: quota.used)
                    } catch {
                        logger.warning(
                            "account \(account): quota/get failed (errcode \(error.errcode ?? SendResult.transportErrcode): \(error.errmsg)); the configured daily quota stays in force"
                        )
                    }
                }
                await limits.recalibrate.wait(until: .now + interval)
            }
        }
    }
}
