import CRdKafka
import Dispatch
import Foundation
import Logging
import Synchronization

/// Owns one `rd_kafka_t` and what its C callbacks need.
///
/// `@unchecked Sendable`: librdkafka documents `rd_kafka_t` as thread-safe; every stored property is a
/// `let` set in `init` (the poll thread too), and the handle is destroyed once, after the poll thread
/// (if any) has stopped — never on that thread itself (see `deinit`).
final class RDKafkaClient: @unchecked Sendable {
    enum Role { case producer, consumer }

    let handle: OpaquePointer
    let role: Role
    /// The configured `partition.assignment.strategy` is cooperative (consumers).
    let configuredCooperative: Bool
    let logger: Logger
    /// Runs librdkafka calls that block (commit, flush, committed offsets, assign): never the cooperative pool.
    let blockingQueue: DispatchQueue
    private let context: Unmanaged<CallbackContext>
    private let pollThread: RDKafkaPollThread?
    /// Producer topic handles by name, created on first use, destroyed before the client.
    private let topics = Mutex<[String: UInt]>([:])

    /// What the C callbacks reach through `rd_kafka_opaque`.
    final class CallbackContext: Sendable {
        let logger: Logger
        init(logger: Logger) { self.logger = logger }
    }

    init(
        role: Role, properties: [String: String], logger: Logger, pollsOnOwnThread: Bool = false,
        configure: (OpaquePointer) -> Void = { _ in }
    ) throws(KafkaError) {
        let conf = try Self.makeConf(properties)
        let context = Unmanaged.passRetained(CallbackContext(logger: logger))
        rd_kafka_conf_set_opaque(conf, context.toOpaque())
        rd_kafka_conf_set_log_cb(conf, rdkafkaLogCallback)
        rd_kafka_conf_set_error_cb(conf, rdkafkaErrorCallback)
        configure(conf)

        var errstr = [CChar](repeating: 0, count: 512)
        let type = role == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER
        guard let handle = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            context.release()
            throw KafkaError(code: .invalidArgument, message: String(nulTerminated: errstr))
        }
        self.handle = handle
        self.role = role
        self.configuredCooperative = properties["partition.assignment.strategy"]?.contains("cooperative") ?? false
        self.context = context
        self.logger = logger
        self.blockingQueue = DispatchQueue(label: "wxpush.kafka.blocking", attributes: .concurrent)
        // Serves callbacks (delivery reports, logs, errors) on a dedicated thread until deinit.
        self.pollThread = pollsOnOwnThread ? RDKafkaPollThread(handle: handle) : nil
    }

    deinit {
        let teardown = Teardown(
            handle: handle, purge: role == .producer, pollThread: pollThread, context: context,
            topics: topics.withLock { Array($0.values) })
        // The last reference can go inside a delivery callback, on the poll thread: waiting there for
        // that thread, or destroying the handle from inside its own rd_kafka_poll, would deadlock.
        if pollThread?.isCurrentThread == true {
            DispatchQueue.global().async { teardown.run() }
        } else {
            teardown.run()
        }
    }

    /// What `deinit` releases, in order: poll thread stopped, outstanding deliveries failed (each
    /// callback runs exactly once), topic handles, the client, then the callbacks' context.
    private struct Teardown: @unchecked Sendable {  // Runs once, on one thread, after the client is gone.
        let handle: OpaquePointer
        let purge: Bool
        let pollThread: RDKafkaPollThread?
        let context: Unmanaged<CallbackContext>
        let topics: [UInt]

        func run() {
            pollThread?.stop()
            if purge {
                _ = rd_kafka_purge(handle, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT)
                rd_kafka_poll(handle, 0)
            }
            for bits in topics { rd_kafka_topic_destroy(OpaquePointer(bitPattern: bits)) }
            // A consumer was closed (or gave up closing after its timeout) by `KafkaConsumer.run`:
            // destroying must not try again and wait for brokers that may be gone.
            rd_kafka_destroy_flags(handle, purge ? 0 : Int32(RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE))
            context.release()
        }
    }

    /// Runs a blocking librdkafka call off the cooperative thread pool.
    func blocking<T: Sendable>(_ work: @escaping @Sendable () throws(KafkaError) -> T) async throws(KafkaError) -> T {
        let result: Result<T, KafkaError> = await withCheckedContinuation { continuation in
            blockingQueue.async {
                do throws(KafkaError) {
                    continuation.resume(returning: .success(try work()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// `blocking`, for calls that take librdkafka's timeout in milliseconds.
    func blocking<T: Sendable>(
        timeout: Duration, _ work: @escaping @Sendable (Int32) throws(KafkaError) -> T
    ) async throws(KafkaError) -> T {
        let milliseconds = Int32(clamping: timeout.milliseconds)
        return try await blocking { () throws(KafkaError) in try work(milliseconds) }
    }

    /// The topic handle for producing to `name` (kcat's fast path: no lookup by name per record).
    /// librdkafka refuses some names (longer than 512 bytes): an error, never a crash.
    func topicHandle(_ name: String) throws(KafkaError) -> OpaquePointer {
        let bits = topics.withLock { topics -> UInt in
            if let bits = topics[name] { return bits }
            let bits = UInt(bitPattern: rd_kafka_topic_new(handle, name, nil))
            if bits != 0 { topics[name] = bits }
            return bits
        }
        guard let topic = OpaquePointer(bitPattern: bits) else {
            throw KafkaError(code: .invalidArgument, message: "librdkafka refused the topic name \"\(name.prefix(60))…\"")
        }
        return topic
    }

    static func makeConf(_ properties: [String: String]) throws(KafkaError) -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        var problems: [String] = []
        var errstr = [CChar](repeating: 0, count: 512)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            if rd_kafka_conf_set(conf, key, value, &errstr, errstr.count) != RD_KAFKA_CONF_OK {
                problems.append(isSecret(key) ? "\(key): invalid value" : String(nulTerminated: errstr))
            }
        }
        if !problems.isEmpty {
            rd_kafka_conf_destroy(conf)
            throw KafkaError.invalidConfiguration(problems)
        }
        return conf
    }

    /// librdkafka's messages may quote the value; for these properties we never repeat it.
    static func isSecret(_ key: String) -> Bool {
        ["password", "secret", "key", "token"].contains { key.contains($0) }
    }
}

/// A thread that calls `rd_kafka_poll` so delivery reports reach Swift without blocking the cooperative pool.
///
private final class RDKafkaPollThread: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    /// The thread's identity, set once when it starts (before it serves any callback).
    private let threadID = Mutex<pthread_t?>(nil)

    init(handle: OpaquePointer) {
        // The thread captures the handle and this object, never the client, so the client's deinit can stop it.
        let handleBits = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(handle)))
        Thread { [self] in
            threadID.withLock { $0 = pthread_self() }
            let handle = OpaquePointer(bitPattern: handleBits)!
            while !stopped.load(ordering: .acquiring) { rd_kafka_poll(handle, 50) }
            done.signal()
        }.start()
    }

    var isCurrentThread: Bool { threadID.withLock { $0.map { pthread_equal($0, pthread_self()) != 0 } ?? false } }

    func stop() {
        stopped.store(true, ordering: .releasing)
        done.wait()
    }
}

private let rdkafkaLogCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    rk, level, facility, message in
    guard let rk, let opaque = rd_kafka_opaque(rk) else { return }
    let context = Unmanaged<RDKafkaClient.CallbackContext>.fromOpaque(opaque).takeUnretainedValue()
    let text = message.map { String(cString: $0) } ?? ""
    let facility = facility.map { String(cString: $0) } ?? ""
    var logLevel: Logger.Level = level <= 3 ? .error : level == 4 ? .warning : level <= 6 ? .info : .debug
    // "allow.auto.create.topics=false not supported by broker" (brokers before 0.11, and the mock
    // cluster): wxpush checks its topics itself at start (`TopicPlan`), so this is only information.
    if facility == "AUTOCREATE" { logLevel = min(logLevel, .info) }
    context.logger.log(level: logLevel, "\(text)", metadata: ["librdkafka.facility": "\(facility)"])
}

private let rdkafkaErrorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    _, err, reason, opaque in
    guard let opaque else { return }
    let context = Unmanaged<RDKafkaClient.CallbackContext>.fromOpaque(opaque).takeUnretainedValue()
    let code = KafkaError.Code(rawValue: err)
    context.logger.warning(
        "Kafka client error", metadata: ["code": "\(code)", "reason": "\(reason.map { String(cString: $0) } ?? "")"]
    )
}

extension String {
    /// The text of a C error buffer filled by librdkafka.
    init(nulTerminated buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension RDKafkaClient {
    static func destroyConf(_ conf: OpaquePointer) { rd_kafka_conf_destroy(conf) }
}
