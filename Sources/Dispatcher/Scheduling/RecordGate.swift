/// What the partition scheduler asks before a record takes a send slot: may it go now, must it
/// wait (parked, slot-free, until an instant), or is it refused (its outcome is final, unsent)?
/// The dispatcher's gate is the rules' per-recipient throttle plus the account limits
/// (`DispatchGate`); tests script one.
public protocol RecordGate: Sendable {
    /// What the scheduler holds per record for the gate and its owner (the record, its send).
    associatedtype Item: Sendable
    associatedtype Instant: InstantProtocol

    /// The record has its recipient's turn and a free slot. `item` may be changed (a reservation
    /// kept for when its wait ends).
    mutating func admit(_ item: inout Item, now: Instant) -> GateDecision<Instant>
}

public enum GateDecision<Instant: InstantProtocol>: Sendable, Equatable {
    /// Send now: it takes a slot.
    case go
    /// Not before `until`: it waits without a slot, keeping its recipient's turn.
    case park(until: Instant, WaitReason)
    /// Never: its outcome is final (`reason`), and its recipient's next record gets the turn.
    case reject(reason: String)
}

/// Why a record is parked (each has its own `wxpush_records_waiting` gauge).
public enum WaitReason: Hashable, Sendable {
    /// A retry's backoff, or the next minute or day after a WeChat quota answer.
    case retry
    /// Its rule's per-recipient throttle.
    case throttle
    /// The account's rate, daily quota or open circuit (named: this instance's demand for it).
    case limit(account: String)
    /// Its `not_before` or its rule's quiet hours, for less than the shortest delay tier.
    case deferred
}
