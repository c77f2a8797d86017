import NIOCore
import NIOHTTPTypes
import Synchronization

/// Bounds what one connection can hold of the public port: at most `maxConnections` open at once
/// (one more is closed at once, so the probe and WeChat keep getting through), the first request
/// head within `headerTimeout` of the connection, a body within `bodyTimeout` of its head, the next
/// head within `idleTimeout` of the previous request. A peer that opens connections and sends nothing, or trickles a
/// body, is cut off instead of holding a file descriptor for ever.
final class ConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    /// The count shared by every connection of one server.
    final class Count: Sendable {
        let open = Atomic(0)
        let maxConnections: Int
        init(maxConnections: Int) { self.maxConnections = maxConnections }
    }

    private let count: Count
    private let headerTimeout: TimeAmount
    private let bodyTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(count: Count, headerTimeout: TimeAmount, bodyTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.count = count
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
    }

    /// Every connection counts from here to `handlerRemoved`, the refused one too.
    func handlerAdded(context: ChannelHandlerContext) {
        guard count.open.wrappingAdd(1, ordering: .relaxed).newValue <= count.maxConnections else {
            context.close(promise: nil)
            return
        }
        closeUnless(within: headerTimeout, context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        count.open.wrappingSubtract(1, ordering: .relaxed)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: closeUnless(within: bodyTimeout, context)
        case .body: break
        case .end: closeUnless(within: idleTimeout, context)  // the next request on this keep-alive connection
        }
        context.fireChannelRead(data)
    }

    /// Closes the connection unless the next part comes first (`channelRead` moves the deadline).
    /// After `.end` the deadline is the idle one, and it also covers making the response: the
    /// handlers answer well within it.
    private func closeUnless(within timeout: TimeAmount, _ context: ChannelHandlerContext) {
        deadline?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) { loopBound.value.close(promise: nil) }
    }
}
