import Foundation

/// Request events for the demo, benchmarks and tests: a realistic mix, deterministic by index.
public enum SampleEvents {
    public struct Event: Sendable {
        public let id: String
        public let openid: String
        public let bytes: [UInt8]

        public init(id: String, openid: String, bytes: [UInt8]) {
            self.id = id
            self.openid = openid
            self.bytes = bytes
        }
    }

    /// What the mix contains, to check a run's outcomes against.
    public enum Expected: String, Sendable, CaseIterable { case sent, rejected, expired }

    /// What a set of events looks like.
    public enum Shape: Sendable {
        /// `order.shipped` events, rendered by the rules file's rule.
        case rules
        /// Pre-rendered template messages (`message`), which a dispatcher without rules also sends.
        case raw
        /// Pre-rendered official-account subscribe messages (`bizsend`): WeChat de-duplicates
        /// nothing for them, so a re-send reaches the user.
        case rawSubscribe
        /// Mostly valid rule and raw events, some invalid (rejected), expired, or to users who
        /// unfollowed (rejected by WeChat).
        case mixed
    }

    /// `count` events over `openids` recipients, round robin.
    public static func make(count: Int, openids: Int, shape: Shape, runID: String = UUID().uuidString.prefix(6).lowercased()) -> [Event] {
        (0..<count).map { index in
            let openid = "o\(runID)-\(index % max(openids, 1))"
            let id = "\(runID)-\(index)"
            let json =
                switch shape {
                case .rules: orderShipped(id: id, openid: openid, index: index)
                case .raw: rawTemplate(id: id, openid: openid, index: index)
                case .rawSubscribe: rawSubscribe(id: id, openid: openid, index: index)
                case .mixed: mixedEvent(index, id: id, openid: openid)
                }
            return Event(id: id, openid: openid, bytes: Array(json.utf8))
        }
    }

    /// Coupons per recipient the shipped rules let through (`coupon.issued`'s throttle, 3/1d).
    public static let couponsPerRecipient = 3

    /// The status the events of `shape` (made for `openids` recipients) should end in for event
    /// `index`, with the shipped rules.
    public static func expected(index: Int, shape: Shape, openids: Int) -> Expected {
        guard case .mixed = shape else { return .sent }
        switch kind(index) {
        case .invalid, .unfollowed: return .rejected
        case .expired: return .expired
        case .coupon: return throttledCoupon(index, openids: openids) ? .rejected : .sent
        default: return .sent
        }
    }

    /// Whether the recipient of coupon `index` got `couponsPerRecipient` coupons before it.
    public static func throttledCoupon(_ index: Int, openids: Int) -> Bool {
        let step = max(openids, 1)
        let earlier = stride(from: index - step, through: 0, by: -step).filter { kind($0) == .coupon }.count
        return kind(index) == .coupon && earlier >= couponsPerRecipient
    }

    private enum Kind { case order, appointment, coupon, raw, invalid, expired, unfollowed }

    private static func kind(_ index: Int) -> Kind {
        if index % 50 == 7 { return .invalid }
        if index % 100 == 13 { return .expired }
        if index % 200 == 17 { return .unfollowed }
        return [.order, .order, .appointment, .coupon, .raw][index % 5]
    }

    public static func orderShipped(id: String, openid: String, index: Int, expires: String? = nil) -> String {
        let expiry = expires.map { #","expires_at":"\#($0)""# } ?? ""
        return
            #"{"v":1,"id":"\#(id)","type":"order.shipped","to":"\#(openid)","data":{"order":{"id":"\#(index)","carrier":"SF","eta":"2026-11-24"}}\#(expiry)}"#
    }

    static func rawTemplate(id: String, openid: String, index: Int) -> String {
        #"{"v":1,"id":"\#(id)","to":"\#(openid)","message":{"kind":"template","template_id":"TEMPLATE_RAW","url":"https://shop.example.com","data":{"keyword1":{"value":"pre-rendered \#(index)"}}}}"#
    }

    static func rawSubscribe(id: String, openid: String, index: Int) -> String {
        #"{"v":1,"id":"\#(id)","to":"\#(openid)","message":{"kind":"bizsend","template_id":"SUBSCRIBE_RAW","page":"https://shop.example.com/o/\#(index)","data":{"thing1":{"value":"parcel \#(index)"}}}}"#
    }

    private static func mixedEvent(_ index: Int, id: String, openid: String) -> String {
        switch kind(index) {
        case .order:
            return orderShipped(id: id, openid: openid, index: index)
        case .appointment:
            return
                #"{"v":1,"id":"\#(id)","type":"appointment.reminder","to":"\#(openid)","data":{"appointment":{"id":"\#(index)","title":"Dental check-up with Dr. Li at the Riverside clinic","time":"2026-11-24 09:30","place":"Riverside"}}}"#
        case .coupon:
            return
                #"{"v":1,"id":"\#(id)","type":"coupon.issued","to":"\#(openid)","data":{"coupon":{"code":"C\#(index)","title":"10% off","amount":"¥10.00"}}}"#
        case .raw:
            return rawTemplate(id: id, openid: openid, index: index)
        case .expired:
            return orderShipped(id: id, openid: openid, index: index, expires: "2020-01-01T00:00:00Z")
        case .unfollowed:
            return orderShipped(id: id, openid: "unfollowed-\(openid)", index: index)
        case .invalid:
            return [
                "this is not JSON \(id)",
                #"{"v":1,"id":"\#(id)","type":"order.shipped","data":{}}"#,
                #"{"v":1,"id":"\#(id)","type":"order.refunded","to":"\#(openid)","data":{}}"#,
                #"{"v":1,"id":"\#(id)","type":"order.shipped","to":"\#(openid)","data":{"order":{"id":"1"}}}"#,
                #"{"v":1,"id":"\#(id)","type":"appointment.reminder","to":"\#(openid)","data":{"appointment":{"id":"1","title":"t","time":"2026-11-24 09:30","place":"A place name far longer than twenty characters"}}}"#,
            ][(index / 50) % 5]
        }
    }
}
