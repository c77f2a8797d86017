/// The YAML configuration file as written (snake_case keys); every field optional, defaults applied when resolved.
struct ConfigurationFile: Decodable, Sendable {
    struct Kafka: Decodable, Sendable {
        var brokers: String?
        var group: String?
        var topics: Topics?
        var properties: [String: String]?
    }
    struct Topics: Decodable, Sendable {
        var requests: String?
        var results: String?
        var dlq: String?
        var progress: String?
    }
    struct WeChat: Decodable, Sendable {
        var apiBase: String?
        var requestTimeout: String?
        var maxConnections: Int?
        var accounts: [String: Account]?

        enum CodingKeys: String, CodingKey {
            case accounts
            case apiBase = "api_base", requestTimeout = "request_timeout", maxConnections = "max_connections"
        }
    }
    struct Account: Decodable, Sendable {
        var appid: String?
        var secret: String?
        var secretEnv: String?
        var secretFile: String?
        var tokenMode: String?
        var tokenURL: String?
        var apiBase: String?
        var limits: Limits?

        enum CodingKeys: String, CodingKey {
            case appid, secret, limits
            case secretEnv = "secret_env", secretFile = "secret_file", tokenMode = "token_mode", tokenURL = "token_url"
            case apiBase = "api_base"
        }
    }
    struct Limits: Decodable, Sendable {
        var rate: String?
        var burst: Int?
        var dailyQuota: Int?
        var quotaReset: String?

        enum CodingKeys: String, CodingKey {
            case rate, burst
            case dailyQuota = "daily_quota", quotaReset = "quota_reset"
        }
    }
    struct Dispatcher: Decodable, Sendable {
        var inFlight: Int?
        var buffer: Buffer?
        var drainTimeout: String?
        var commitInterval: String?
        var exactlyOnce: Bool?
        var instanceID: String?
        var retry: Retry?

        enum CodingKeys: String, CodingKey {
            case retry, buffer
            case inFlight = "in_flight", drainTimeout = "drain_timeout", commitInterval = "commit_interval"
            case exactlyOnce = "exactly_once", instanceID = "instance_id"
        }
    }
    struct Buffer: Decodable, Sendable {
        var records: Int?
        var bytes: String?
    }
    struct Retry: Decodable, Sendable {
        var maxAttempts: Int?
        var initialBackoff: String?
        var maxBackoff: String?
        var deadline: String?

        enum CodingKeys: String, CodingKey {
            case deadline
            case maxAttempts = "max_attempts", initialBackoff = "initial_backoff", maxBackoff = "max_backoff"
        }
    }

    var kafka: Kafka?
    var wechat: WeChat?
    var dispatcher: Dispatcher?
    /// The rules file, relative to the configuration file.
    var rules: String?
}
