import Kafka

/// Where a partition starts, and how its progress is committed: the commit point plus the offsets
/// done above it (`CommitMetadata`), on the commit interval while running and once at the end.
extension PartitionWorker {
    /// The group's last commit of this partition (with exactly-once, the furthest of it and the
    /// progress log), and the offsets it marked done above it. Records below it that Kafka still
    /// delivers (the group's own offset can lag the progress log) are skipped too.
    func startingPoint() async -> (committed: CommitPoint?, skip: Set<Int64>) {
        let topicPartition = partition.topicPartition
        do {
            var point = try await consumer.committedPoints(for: [topicPartition], timeout: .seconds(5))[topicPartition] ?? nil
            if let logged = try await publisher.transactions?.committedPoint(of: topicPartition),
                logged.offset >= point?.offset ?? -1
            {
                point = logged
            }
            guard let point else { return (nil, []) }
            logger.debug("\(topicPartition) starts at \(point.offset)")
            let skip = CommitMetadata.decode(point.metadata, committed: point.offset)
            if !skip.isEmpty {
                logger.info("\(topicPartition): \(skip.count) records above \(point.offset) were done before; skipping them")
            }
            return (point, skip)
        } catch {
            logger.warning("could not read the committed offset of \(topicPartition): \(error); records done above it may be redone")
            return (nil, [])
        }
    }

    /// Reports that came in after the loop ended: publishes acknowledged then still count (and, with
    /// transactions, must be offered, or the next commit would wait for them).
    func settle(_ reports: [Report], _ state: inout State) {
        for report in reports {
            switch report {
            case .published(let offsets, .acknowledged):
                for offset in offsets { _ = state.scheduler.published(offset, now: .now) }
                publisher.transactions?.offer(state.stop == .lost ? nil : state.progress(), for: partition.topicPartition)
            case .sentLogged(let logOffset):
                state.sentLog?.written(at: logOffset)
            default:
                break
            }
        }
    }

    /// One commit at a time, in a child task, so the loop never waits for the coordinator.
    func commitInBackground(_ state: inout State, group: inout DiscardingTaskGroup, mailbox: Mailbox<Report>) {
        guard !consumer.mayBeRebalancing(), let point = state.commitPoint() else { return }
        state.commitStarted()
        group.addTask {
            let succeeded = await commit(point, timeout: .seconds(5))
            mailbox.post(.committed(point, succeeded: succeeded))
        }
    }

    /// The last commit, while the partition is still ours; none for a lost partition.
    func finish(_ state: State) async {
        var state = state
        let drainDeadline = state.drainDeadline ?? .now
        switch state.stop {
        case .lost:
            logger.warning("\(partition.topicPartition) was lost (session timeout): in-flight work cancelled, nothing committed")
            publisher.transactions?.forget(partition.topicPartition, lost: true)
            return
        case .drainTimedOut:
            logger.warning("drain timeout: in-flight sends of \(partition.topicPartition) cancelled; they will be redelivered")
        case .fatal, .cancelled, .drained, nil:
            break
        }
        if let transactions = publisher.transactions {
            // Its points are offered already: the next transaction carries them (and its outcomes).
            var committed = false
            if state.stop != .cancelled {
                committed = await transactions.commitNow(timeout: max(.milliseconds(500), drainDeadline - .now))
            }
            if !committed && state.stop != .cancelled {
                logger.warning("the last transaction of \(partition.topicPartition) did not commit; its records will be redone")
            }
            transactions.forget(partition.topicPartition, lost: false)
            // At shutdown, the group's own offset too (for lag and for readers of the group). Not on
            // a revoke: a commit answered after yet another rebalance began makes librdkafka 2.0
            // drop the assignment as lost, and the progress log already has it.
            if committed, consumer.isShuttingDown, let point = state.progress()?.point {
                _ = await commit(point, timeout: .seconds(1))
            }
            return
        }
        guard let point = state.commitPoint() else { return }
        // Bounded by the drain deadline (plus a little): with the brokers gone, waiting longer
        // only delays the exit. Cancelled (a second signal): one short try.
        let timeout = state.stop == .cancelled ? .seconds(1) : max(.seconds(1), drainDeadline + .seconds(2) - .now)
        _ = await commit(point, timeout: timeout)
    }

    private func commit(_ point: CommitPoint, timeout: Duration) async -> Bool {
        let topicPartition = partition.topicPartition
        do {
            try await consumer.commit([topicPartition: point], timeout: timeout)
            DispatchMetrics.commit(succeeded: true)
            logger.debug("committed \(topicPartition) at \(point.offset)")
            return true
        } catch {
            DispatchMetrics.commit(succeeded: false)
            logger.warning("commit of \(topicPartition) at \(point.offset) failed: \(error)")
            return false
        }
    }
}
