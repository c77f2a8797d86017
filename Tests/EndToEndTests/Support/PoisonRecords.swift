import Foundation
import Harness
import Kafka
import Logging
import Simulator

/// Records that are not request events, or barely are: what a fuzzer would throw at the decoder.
enum PoisonRecords {
    struct Record {
        let key: [UInt8]?
        let value: [UInt8]
    }

    static func make(count: Int, seed: UInt64) -> [Record] {
        var random = SplitMix64(seed: seed)
        let valid = Array(#"{"v":1,"id":"ID","type":"order.shipped","to":"oPoison","data":{"order":{"id":"1"}}}"#.utf8)
        return (0..<count).map { index in
            let id = Array("poison-\(index)".utf8)
            let event = Array(String(decoding: valid, as: UTF8.self).replacingOccurrences(of: "ID", with: "poison-\(index)").utf8)
            let key: [UInt8]? = index % 7 == 0 ? nil : id
            switch index % 8 {
            case 0: return Record(key: key, value: (0..<Int(random.next() % 200)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
            case 1, 2: return Record(key: key, value: mutate(event, &random))
            case 3:
                var bytes = Array(#"{"id":"bad-utf8-\#(index)"#.utf8) + [0xC3, 0x28]
                bytes += Array(#"","to":"o","type":"order.shipped"}"#.utf8)
                return Record(key: key, value: bytes)
            case 4: return Record(key: key, value: Array((String(repeating: "[", count: 200) + String(repeating: "]", count: 200)).utf8))
            case 5 where index % 80 == 5:
                let big = String(repeating: "x", count: 900 * 1024)
                return Record(
                    key: key, value: Array(#"{"id":"big-\#(index)","type":"order.shipped","to":"o","data":{"note":"\#(big)"}}"#.utf8))
            case 6 where index % 80 == 46:
                // An id of 950 KB: its outcome must be capped to fit, its DLQ copy becomes a reference copy.
                let id = "long-\(index)-" + String(repeating: "i", count: 950 * 1024)
                return Record(key: key, value: Array(#"{"id":"\#(id)","type":"no.such.rule","to":"o"}"#.utf8))
            case 6: return Record(key: key, value: Array(#"{"id":"type-\#(index)","type":"no.such.rule","to":"o"}"#.utf8))
            default: return Record(key: key, value: Array(#"{"id":"\#(index)","to":42}"#.utf8))
            }
        }
    }

    /// Flips, drops or inserts a few bytes.
    static func mutate(_ bytes: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<(1 + random.next() % 4) where !bytes.isEmpty {
            let at = Int(random.next() % UInt64(bytes.count))
            switch random.next() % 3 {
            case 0: bytes[at] = UInt8(truncatingIfNeeded: random.next())
            case 1: bytes.remove(at: at)
            default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
            }
        }
        return bytes
    }

    static func produce(_ records: [Record], to pipeline: EmbeddedPipeline) async throws {
        let producer = try KafkaProducer(configuration: pipeline.kafka, logger: .test("wxpush.poison"))
        for record in records {
            try await producer.send(KafkaRecord(topic: pipeline.settings.requestsTopic, key: record.key, value: record.value))
        }
    }
}
