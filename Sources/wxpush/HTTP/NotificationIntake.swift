import DequeModule
import Dispatcher
import Foundation
import JSON
import Kafka
import Logging
import Metrics
import Synchronization

/// `POST /v1/notifications`: request events over HTTP for backends without a Kafka client. One
/// event or an array of up to 1,000, each validated against the contract; all of them produced
/// to the requests topic (keyed by `to`) in one Kafka transaction, so a batch lands whole or not
/// at all, and `202` only once the brokers committed it.
///
/// A commit the brokers did not confirm in time is not aborted: librdkafka may still complete it,
/// so the caller gets 503 saying the batch may land, and the next request first finishes that
/// transaction (commit again, or abort). Retrying with the same ids is safe for users: the id is
/// the WeChat `client_msg_id`.
final class NotificationIntake: Sendable {
    static let maxEvents = 1_000
    static let maxBodyBytes = 8 << 20

    enum Answer: Sendable {
        case accepted(ids: [String])
        case invalid([(index: Int, id: String?, problem: String)])
        case unavailable(String)
    }

    private let producer: KafkaProducer
    private let topic: String
    /// What this configuration can send: an event naming another type or account is sure to be
    /// rejected, so it is refused here (400) instead of accepted, rejected and copied to the DLQ.
    private let ruleTypes: Set<String>
    private let accounts: Set<String>
    private let timeout: Duration
    private let logger: Logger
    /// One transaction at a time. `initialized` once `initTransactions` succeeded; `unfinished`
    /// while a transaction's commit or abort did not complete (the brokers were away).
    /// `waiters` hold their batches' bytes (`waitingBytes`) until their turn: bounded by
    /// `maxWaiters` and `maxWaitingBytes`; past them a request is answered 503 at once.
    private let gate = Mutex<
        (
            busy: Bool, initialized: Bool, unfinished: Unfinished?, waiters: Deque<(CheckedContinuation<Void, Never>, Int)>,
            waitingBytes: Int
        )
    >((false, false, nil, [], 0))
    static let maxWaiters = 16
    static let maxWaitingBytes = 32 << 20

    private enum Unfinished { case commit, abort }

    /// `timeout` bounds the commit (a request answers within it plus 2 s for the abort).
    init(
        kafka: KafkaConfiguration, topic: String, transactionalID: String, ruleTypes: [String], accounts: [String],
        timeout: Duration = .seconds(5), logger: Logger
    )
        throws(KafkaError)
    {
        var configuration = ProducerRole.intake.configuration(kafka)
        configuration.properties["transactional.id"] = transactionalID
        configuration.properties["transaction.timeout.ms"] = "60000"
        configuration.properties["message.timeout.ms"] = "30000"
        producer = try KafkaProducer(configuration: configuration, logger: logger)
        self.topic = topic
        self.ruleTypes = Set(ruleTypes)
        self.accounts = Set(accounts)
        self.timeout = timeout
        self.logger = logger
    }

    /// `trace`: the caller's trace header for every record; nil: a new traceparent for each.
    func accept(_ body: [UInt8], trace: KafkaHeader?) async -> Answer {
        let items: [JSONValue]
        switch try? JSONValue(parsing: body) {
        case .array(let array)?: items = array
        case .object(let object)?: items = [.object(object)]
        default: return .invalid([(0, nil, "the body is not a JSON object or array")])
        }
        guard !items.isEmpty else { return .invalid([(0, nil, "the array is empty")]) }
        guard items.count <= Self.maxEvents else {
            return .invalid([(0, nil, "\(items.count) events; at most \(Self.maxEvents) per request")])
        }
        var records: [KafkaRecord] = []
        var problems: [(index: Int, id: String?, problem: String)] = []
        var ids: [String] = []
        for (index, item) in items.enumerated() {
            var writer = JSONWriter()
            writer.value(item)
            switch RequestEvent.decode(writer.bytes) {
            case .success(let event):
                if let problem = sureRejection(event) {
                    problems.append((index, event.id, problem))
                    continue
                }
                ids.append(event.id)
                let header = trace ?? KafkaHeader(name: "traceparent", string: Self.newTraceparent())
                records.append(KafkaRecord(topic: topic, key: Array(event.to.utf8), value: writer.bytes, headers: [header]))
            case .failure(let invalid):
                problems.append((index, invalid.id, invalid.problem))
            }
        }
        guard problems.isEmpty else { return .invalid(problems) }
        guard await enter(bytes: body.count) else {
            Counter(label: "wxpush_intake_events_total", dimensions: [("result", "busy")]).increment(by: records.count)
            return .unavailable("the intake is busy (\(Self.maxWaiters) batches or \(Self.maxWaitingBytes >> 20) MiB waiting); retry")
        }
        defer { leave() }
        return await produceAtomically(records, ids: ids)
    }

    /// Why the dispatcher would reject `event` whatever happens (nil: it may be sent).
    private func sureRejection(_ event: RequestEvent) -> String? {
        if !accounts.contains(event.app) {
            return "app \(event.app.prefix(64)) is no configured account (\(accounts.sorted().joined(separator: ", ")))"
        }
        if event.message == nil, let type = event.type, !ruleTypes.contains(type) {
            return "type \(type.prefix(64)) has no rule; rules.yaml defines \(ruleTypes.sorted().prefix(20).joined(separator: ", "))"
        }
        return nil
    }

    /// One batch at a time; the caller holds the turn until `leave`.
    private func produceAtomically(_ records: [KafkaRecord], ids: [String]) async -> Answer {
        do throws(KafkaError) {
            if !gate.withLock({ $0.initialized }) {
                try await producer.initTransactions(timeout: timeout)
                gate.withLock { $0.initialized = true }
            }
            try await finishUnfinished()
            try producer.beginTransaction()
            let handler = KafkaDeliveryHandler { _ in }
            do throws(KafkaError) {
                for record in records { try producer.enqueue(record, handler: handler) }
                try await producer.commitTransaction(timeout: timeout)
            } catch {
                if error.isRetriable && !error.isFatal {
                    // Not confirmed in time, not refused: it may still commit. Finished by the next request.
                    gate.withLock { $0.unfinished = .commit }
                    throw error
                }
                gate.withLock { $0.unfinished = .abort }
                try? await finishUnfinished()
                throw error
            }
            Counter(label: "wxpush_intake_events_total", dimensions: [("result", "accepted")]).increment(by: records.count)
            return .accepted(ids: ids)
        } catch {
            Counter(label: "wxpush_intake_events_total", dimensions: [("result", "unavailable")]).increment(by: records.count)
            logger.warning("intake batch not produced (aborted)", metadata: ["events": "\(records.count)", "error": "\(error)"])
            return .unavailable(
                "Kafka did not confirm the batch (\(error)); it was produced whole or not at all and may still land: retry with the same ids"
            )
        }
    }

    /// Completes the previous transaction when it was left open: commit again (librdkafka
    /// resumes it; a refused one is then aborted), or abort.
    private func finishUnfinished() async throws(KafkaError) {
        guard let unfinished = gate.withLock({ $0.unfinished }) else { return }
        if unfinished == .commit {
            do throws(KafkaError) {
                try await producer.commitTransaction(timeout: timeout)
                gate.withLock { $0.unfinished = nil }
                return
            } catch {
                if error.isRetriable && !error.isFatal { throw error }
            }
        }
        try await producer.abortTransaction(timeout: .seconds(2))
        gate.withLock { $0.unfinished = nil }
    }

    /// Waits for the turn; false at once when the line is full.
    private func enter(bytes: Int) async -> Bool {
        enum Turn { case now, wait, refused }
        var turn = Turn.refused
        await withCheckedContinuation { continuation in
            turn = gate.withLock { gate -> Turn in
                guard gate.busy else {
                    gate.busy = true
                    return .now
                }
                guard gate.waiters.count < Self.maxWaiters, gate.waitingBytes + bytes <= Self.maxWaitingBytes else { return .refused }
                gate.waiters.append((continuation, bytes))
                gate.waitingBytes += bytes
                return .wait
            }
            if turn != .wait { continuation.resume() }
        }
        return turn != .refused
    }

    private func leave() {
        let next = gate.withLock { gate -> CheckedContinuation<Void, Never>? in
            guard let (next, bytes) = gate.waiters.popFirst() else {
                gate.busy = false
                return nil
            }
            gate.waitingBytes -= bytes
            return next
        }
        next?.resume()
    }

    /// A W3C trace context for a request that came without one.
    static func newTraceparent() -> String {
        func hex(_ count: Int) -> String { (0..<count).map { _ in String(UInt8.random(in: 0...255), radix: 16).leftPadded }.joined() }
        return "00-\(hex(16))-\(hex(8))-01"
    }
}

extension String {
    fileprivate var leftPadded: String { count == 1 ? "0" + self : self }
}

extension NotificationIntake.Answer {
    /// The HTTP status and JSON body.
    var response: (status: Int, body: [UInt8]) {
        var out = JSONWriter()
        switch self {
        case .accepted(let ids):
            out.value(.object(["accepted": .array(ids.map(JSONValue.string))]))
            return (202, out.bytes)
        case .invalid(let problems):
            let items = problems.map { problem -> JSONValue in
                var fields: [String: JSONValue] = ["index": .number(String(problem.index)), "problem": .string(problem.problem)]
                if let id = problem.id { fields["id"] = .string(id) }
                return .object(fields)
            }
            out.value(.object(["errors": .array(items)]))
            return (400, out.bytes)
        case .unavailable(let reason):
            out.value(.object(["error": .string(reason)]))
            return (503, out.bytes)
        }
    }
}
