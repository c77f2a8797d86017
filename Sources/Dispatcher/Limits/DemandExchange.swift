import Foundation
import JSON
import Kafka
import Logging
import ServiceLifecycle
import Synchronization
import Waiting

/// Re-divides each limited account's budget by demand, through a small compacted topic and no
/// central service: every `interval` each instance publishes, per account, how many records it
/// holds parked for the limit (key `account/instance`), reads everyone's latest, and takes
///
///     share = 10% × its partition share + 90% × its demand / the group's demand
///
/// (its partition share alone while nobody has demand). The shares still add up to the whole
/// budget, an idle instance keeps a tenth of its partition share for a sudden load, and a skewed
/// load gets nearly all of it. Demand older than three intervals is ignored (an instance gone);
/// a published share keeps its place for ten.
///
/// Instances see each other's demand an interval late, so their shares could add up to more
/// than the budget for a moment. Three rules keep them under it: a demand share within 10 points
/// of the partition share is not taken (an even load stays on partition shares); a share goes
/// down at once but up only when two intervals in a row ask for it (by the smaller of the two);
/// and never above what the others' published shares leave free.
public final class DemandExchange: Service, Sendable {
    static let partitionWeight = 0.1

    private let producer: KafkaProducer
    private let consumer: KafkaConsumer
    private let topic: String
    private let instanceID: String
    private let limits: SendLimits
    private let interval: Duration
    private let logger: Logger
    /// (account, instance) → (demand, published at, in ms since the epoch).
    private let table = Mutex<[String: [String: Entry]]>([:])
    /// The incarnation of another live process under this `instance_id`, once seen.
    private let twin = Mutex<String?>(nil)

    struct Entry: Sendable {
        var demand: Int
        /// The share the instance had taken.
        var share: Double
        var at: Int64
        /// Which process published it, and when that one started (ms since the epoch); absent
        /// from records of versions before them.
        var incarnation: String? = nil
        var started: Int64 = 0
    }

    /// When this process's exchange started, in ms since the epoch.
    static let started = Int64(Date().timeIntervalSince1970 * 1000)
    /// Per account: the share in force here, and an increase asked for in the last interval.
    private let decided = Mutex<[String: (share: Double?, pendingIncrease: Double?)]>([:])

    public init(
        kafka: KafkaConfiguration, producer: KafkaProducer, topic: String, group: String, instanceID: String, limits: SendLimits,
        interval: Duration = .seconds(1), logger: Logger
    ) throws(KafkaError) {
        // A group of this process's own (the incarnation), so twins with one id both read it all.
        consumer = try KafkaConsumer.tailing(
            topic, group: "\(group).demand.\(instanceID).\(DispatcherSettings.incarnation)", configuration: kafka, logger: logger)
        self.producer = producer
        self.topic = topic
        self.instanceID = instanceID
        _ = Self.started  // a static is set when first read: fix this process's start now
        self.limits = limits
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    try await self.consumer.run(closeTimeout: .seconds(1)) { partition in
                        // Per partition: what follows this process's own record in it was published
                        // while it runs (a predecessor's records come before it).
                        var readOwn = false
                        for await message in partition.messages {
                            guard let (account, instance, entry) = Self.decode(message.value) else {
                                DispatchMetrics.skipped(.demand)
                                continue
                            }
                            if instance == self.instanceID, let incarnation = entry.incarnation {
                                if incarnation == DispatcherSettings.incarnation {
                                    readOwn = true
                                } else if readOwn, entry.at >= Self.started,
                                    (entry.started, incarnation) < (Self.started, DispatcherSettings.incarnation)
                                {
                                    // The later of the two stops; the one that was there goes on.
                                    self.twin.withLock { $0 = $0 ?? incarnation }
                                }
                            }
                            self.table.withLock { $0[account, default: [:]][instance] = entry }
                        }
                    }
                }
                while !Task.isCancelled && !consumer.isShuttingDown {
                    if let twin = twin.withLock({ $0 }) {
                        let error = DuplicateInstance(instanceID: instanceID, own: DispatcherSettings.incarnation, other: twin)
                        logger.critical("\(error)")
                        throw error
                    }
                    await publishAndReshare()
                    try? await Task.sleep(for: interval)
                }
                group.cancelAll()
            }
        } onGracefulShutdown: { [consumer] in
            consumer.triggerGracefulShutdown()
        }
    }

    private func publishAndReshare() async {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let partitionShare = limits.partitionShare
        for account in limits.limitedAccounts {
            let demand = limits.demand(of: account)
            let milliseconds = interval.nanoseconds / 1_000_000
            let known = table.withLock { $0[account] ?? [:] }.filter { $0.key != instanceID }
            // Demand counts from the last three intervals; a share holds its place for ten (an
            // instance late to publish, under load, must not look gone and have its share taken).
            let total = known.values.filter { $0.at >= now - 3 * milliseconds }.reduce(demand) { $0 + $1.demand }
            let free = 1 - known.values.filter { $0.at >= now - 10 * milliseconds }.reduce(0) { $0 + $1.share }
            let proposed = Self.share(partitionShare: partitionShare, demand: demand, totalDemand: total)
            let (share, taken) = decided.withLock { decided -> (Double?, Double) in
                var entry = decided[account] ?? (nil, nil)
                defer { decided[account] = entry }
                let current = entry.share ?? partitionShare
                var next = Self.step(
                    current: current, proposed: proposed, partitionShare: partitionShare, pendingIncrease: &entry.pendingIncrease)
                // Up only into what the others leave free.
                if (next ?? partitionShare) > current, (next ?? partitionShare) > max(current, free) { next = max(current, free) }
                entry.share = next
                return (next, next ?? partitionShare)
            }
            limits.setExchangedShare(share, for: account)
            var out = JSONWriter()
            out.object {
                $0.field("account", account)
                $0.field("instance", instanceID)
                $0.field("incarnation", DispatcherSettings.incarnation)
                $0.field("started", number: Self.started)
                $0.field("demand", number: Int64(demand))
                $0.field("share_ppm", number: Int64((taken * 1_000_000).rounded()))
                $0.field("at", number: now)
            }
            let record = KafkaRecord(topic: topic, key: Array("\(account)/\(instanceID)".utf8), value: out.bytes)
            do throws(KafkaError) { try await producer.send(record) } catch {
                logger.debug("demand not published", metadata: ["account": "\(account)", "error": "\(error)"])
            }
        }
    }

    /// The incarnation of another live process publishing under `instanceID`, if one does:
    /// reads the topic for `wait` (instances publish every interval) and reports a record of
    /// that id published after the probe began; a crashed predecessor's records are all older.
    /// Run before the transactional producer starts, so a twin is refused before it fences the
    /// instance that was there.
    public static func liveTwin(
        kafka: KafkaConfiguration, topic: String, group: String, instanceID: String, wait: Duration = .milliseconds(2_500),
        logger: Logger
    ) async throws -> String? {
        let since = Int64(Date().timeIntervalSince1970 * 1000)
        let consumer = try KafkaConsumer.tailing(
            topic, group: "\(group).demand.probe.\(DispatcherSettings.incarnation)", configuration: kafka, logger: logger)
        final class Found: Sendable { let incarnation = Mutex<String?>(nil) }
        let found = Found()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                try await consumer.run(closeTimeout: .seconds(1)) { partition in
                    for await message in partition.messages {
                        guard let (_, instance, entry) = decode(message.value), instance == instanceID, entry.at >= since,
                            let incarnation = entry.incarnation, incarnation != DispatcherSettings.incarnation
                        else { continue }
                        found.incarnation.withLock { $0 = $0 ?? incarnation }
                    }
                }
            }
            try await Task.sleep(for: wait)
            consumer.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        return found.incarnation.withLock { $0 }
    }

    /// nil while nobody has demand: the partition share.
    static func share(partitionShare: Double, demand: Int, totalDemand: Int) -> Double? {
        guard totalDemand > 0 else { return nil }
        return partitionWeight * partitionShare + (1 - partitionWeight) * Double(demand) / Double(totalDemand)
    }

    /// The share to take now (nil: the partition share), from the one in force and the proposal.
    static func step(current: Double, proposed: Double?, partitionShare: Double, pendingIncrease: inout Double?) -> Double? {
        guard let proposed, abs(proposed - partitionShare) > 0.1 else {
            // Back to partition shares: a decrease to it at once, an increase after one interval.
            if partitionShare <= current {
                pendingIncrease = nil
                return nil
            }
            defer { pendingIncrease = partitionShare }
            return pendingIncrease != nil ? nil : current
        }
        if proposed <= current {
            pendingIncrease = nil
            return proposed
        }
        defer { pendingIncrease = proposed }
        guard let previous = pendingIncrease else { return current }
        return min(previous, proposed)
    }

    /// The most records one instance can have parked for an account: far above any buffer.
    static let maxDemand: Int64 = 100_000_000

    /// A record of the demand topic, range-checked: anyone with produce rights can write one, and
    /// one trusted bad value (a demand of 2^62 overflows the sum) would stop every instance.
    static func decode(_ bytes: [UInt8]) -> (account: String, instance: String, entry: Entry)? {
        guard bytes.count <= 4096, case .object(let fields)? = try? JSONValue(parsing: bytes),
            let account = fields["account"]?.string, (1...256).contains(account.utf8.count),
            let instance = fields["instance"]?.string, (1...256).contains(instance.utf8.count),
            let demand = fields["demand"]?.int64, (0...maxDemand).contains(demand),
            let at = fields["at"]?.int64, at >= 0,
            let share = fields["share_ppm"]?.int64, (0...1_000_000).contains(share)
        else { return nil }
        return (
            account, instance,
            Entry(
                demand: Int(demand), share: Double(share) / 1_000_000, at: at, incarnation: fields["incarnation"]?.string,
                started: max(0, fields["started"]?.int64 ?? 0))
        )
    }
}

/// Two live processes run with one `dispatcher.instance_id`: they would share a transactional id
/// and one share of the account limits, and send at a multiple of the limit. The one that
/// started later stops with this; the other goes on.
public struct DuplicateInstance: Error, CustomStringConvertible {
    public let instanceID: String
    public let own: String
    public let other: String

    public init(instanceID: String, own: String, other: String) {
        self.instanceID = instanceID
        self.own = own
        self.other = other
    }

    public var description: String {
        "another live wxpush (incarnation \(other)) runs with dispatcher.instance_id \(instanceID), as this one (incarnation \(own)) does: give each instance its own id (WXPUSH_INSTANCE_ID), or leave it unset for a unique one"
    }
}
