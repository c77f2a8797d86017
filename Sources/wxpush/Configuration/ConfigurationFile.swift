/// The YAML configuration file as written (snake_case keys); every field optional, defaults applied when resolved.
struct ConfigurationFile: Decodable, Sendable {
    struct Kafka: Decodable, Sendable {
        var brokers: String?
        var group: String?
        var topics: Topics?
        var properties: [String: String]?
        /// Per producer role (`ProducerRole`), properties for that producer only.
        var producers: [String: [String: String]]?

        enum CodingKeys: String, CodingKey, CaseIterable { case brokers, group, topics, properties, producers }
    }
    struct Topics: Decodable, Sendable {
        var requests: RequestTopics?
        var results: String?
        var dlq: String?
        var progress: String?
        var msgids: String?
        var sent: String?
        var demand: String?
        var recipients: String?
        /// The delay topics' prefix (`<prefix>.<tier>`); "" keeps deferred requests in memory.
        var delays: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case requests, results, dlq, progress, msgids, sent, demand, recipients, delays
        }
    }
    /// `requests: wxpush.requests`, or a list of topics with a priority each:
    /// `requests: [{ topic: wxpush.requests.high, priority: 1 }, { topic: wxpush.requests, priority: 0 }]`.
    struct RequestTopics: Decodable, Sendable {
        struct Entry: Decodable, Sendable {
            var topic: String
            var priority: Int?

            enum CodingKeys: String, CodingKey, CaseIterable { case topic, priority }
        }
        var entries: [Entry]

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let name = try? container.decode(String.self) {
                entries = [Entry(topic: name, priority: nil)]
            } else {
                entries = try container.decode([Entry].self)
            }
        }
    }
    struct WeChat: Decodable, Sendable {
        var apiBase: String?
        var requestTimeout: String?
        var connectTimeout: String?
        var idleTimeout: String?
        var maxConnections: Int?
        var accounts: [String: Account]?
        var templates: Templates?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case accounts, templates
            case apiBase = "api_base", requestTimeout = "request_timeout", connectTimeout = "connect_timeout"
            case idleTimeout = "idle_timeout", maxConnections = "max_connections"
        }
    }
    /// How the accounts' template libraries are used: `check: strict|warn|off`, `refresh: 1h`.
    struct Templates: Decodable, Sendable {
        var check: String?
        var refresh: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case check, refresh }
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
        var callback: Callback?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case appid, secret, limits, callback
            case secretEnv = "secret_env", secretFile = "secret_file", tokenMode = "token_mode", tokenURL = "token_url"
            case apiBase = "api_base"
        }
    }
    /// The account's callback URL settings (`/wechat/callback/<account>`): the Token, and the
    /// EncodingAESKey for safe mode.
    struct Callback: Decodable, Sendable {
        var token: String?
        var tokenEnv: String?
        var encodingAESKey: String?
        var encodingAESKeyEnv: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case token
            case tokenEnv = "token_env", encodingAESKey = "encoding_aes_key", encodingAESKeyEnv = "encoding_aes_key_env"
        }
    }
    struct HTTP: Decodable, Sendable {
        var host: String?
        var port: Int?
        var adminPort: Int?
        var intakeToken: String?
        var intakeTokenEnv: String?
        var adminToken: String?
        var adminTokenEnv: String?
        var maxConnections: Int?
        var headerTimeout: String?
        var bodyTimeout: String?
        var idleTimeout: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case host, port
            case adminPort = "admin_port"
            case intakeToken = "intake_token", intakeTokenEnv = "intake_token_env"
            case adminToken = "admin_token", adminTokenEnv = "admin_token_env"
            case maxConnections = "max_connections", headerTimeout = "header_timeout", bodyTimeout = "body_timeout"
            case idleTimeout = "idle_timeout"
        }
    }
    struct Limits: Decodable, Sendable {
        var rate: String?
        var burst: Int?
        var dailyQuota: Int?
        var quotaReset: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
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
        var priorityMinShare: Double?
        var stallTimeout: String?
        var dedupWindow: String?
        var delayTiers: [String]?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case retry, buffer
            case delayTiers = "delay_tiers"
            case inFlight = "in_flight", drainTimeout = "drain_timeout", commitInterval = "commit_interval"
            case exactlyOnce = "exactly_once", instanceID = "instance_id", priorityMinShare = "priority_min_share"
            case stallTimeout = "stall_timeout", dedupWindow = "dedup_window"
        }
    }
    struct Buffer: Decodable, Sendable {
        var records: Int?
        var bytes: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case records, bytes }
    }
    struct Retry: Decodable, Sendable {
        var maxAttempts: Int?
        var initialBackoff: String?
        var maxBackoff: String?
        var deadline: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case deadline
            case maxAttempts = "max_attempts", initialBackoff = "initial_backoff", maxBackoff = "max_backoff"
        }
    }

    struct Logging: Decodable, Sendable {
        var format: String?
        var level: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case format, level }
    }

    var kafka: Kafka?
    var wechat: WeChat?
    var dispatcher: Dispatcher?
    var http: HTTP?
    /// The rules file, relative to the configuration file.
    var rules: String?
    var logging: Logging?

    enum CodingKeys: String, CodingKey, CaseIterable { case kafka, wechat, dispatcher, http, rules, logging }
}
