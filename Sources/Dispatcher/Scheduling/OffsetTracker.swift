import DequeModule

/// Which offsets of one partition are done, and the highest offset that may be committed: the one
/// below which every received record has its outcome acknowledged. Records complete out of order
/// (different keys run concurrently); the commit point only moves over a contiguous done prefix.
public struct OffsetTracker: Sendable, Equatable {
    private var pending: Deque<(offset: Int64, done: Bool)> = []
    /// The next offset to commit (last contiguous done offset + 1), nil before anything completed.
    public private(set) var committable: Int64?

    public init() {}

    /// Records are received in offset order. An offset at or below the last one received means the
    /// log moved backwards (truncated, or the topic was recreated): the tracker starts over from it
    /// and returns false, so the caller can warn. Nothing traps.
    @discardableResult
    public mutating func received(_ offset: Int64) -> Bool {
        if let last = pending.last?.offset ?? committable.map({ $0 - 1 }), offset <= last {
            self = OffsetTracker()
            pending.append((offset, false))
            return false
        }
        pending.append((offset, false))
        return true
    }

    /// Marks a record done; returns the new commit point when it moved.
    @discardableResult
    public mutating func completed(_ offset: Int64) -> Int64? {
        guard let index = index(of: offset) else { return nil }
        pending[index].done = true
        var moved: Int64?
        while let first = pending.first, first.done {
            moved = first.offset + 1
            pending.removeFirst()
        }
        if let moved { committable = moved }
        return moved
    }

    /// Records received and not yet done.
    public var inFlight: Int { pending.count { !$0.done } }

    /// Offsets done above the commit point (they wait for a lower one): carried with the commit so
    /// the next owner of the partition skips them instead of sending them again.
    public var doneAboveCommitPoint: [Int64] { pending.filter(\.done).map(\.offset) }

    private func index(of offset: Int64) -> Int? {
        var low = 0
        var high = pending.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let candidate = pending[middle].offset
            if candidate == offset { return middle }
            if candidate < offset { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }

    public static func == (a: OffsetTracker, b: OffsetTracker) -> Bool {
        a.committable == b.committable && a.pending.elementsEqual(b.pending) { $0 == $1 }
    }
}
