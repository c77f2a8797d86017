import Synchronization
import Waiting

/// What a partition's child tasks report back to its worker: posted from any task, taken in one
/// batch by the worker, which is woken through the partition's own wake-up (so it waits on one thing).
final class Mailbox<Message: Sendable>: Sendable {
    private let messages = Mutex<[Message]>([])
    private let wakeup: Wakeup

    init(wakeup: Wakeup) { self.wakeup = wakeup }

    func post(_ message: Message) {
        messages.withLock { $0.append(message) }
        wakeup.signal()
    }

    func takeAll() -> [Message] {
        messages.withLock { messages in
            defer { messages.removeAll(keepingCapacity: true) }
            return messages
        }
    }
}
