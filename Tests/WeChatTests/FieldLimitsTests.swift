import Testing
import WeChat

@Suite("FieldLimits")
struct FieldLimitsTests {
    @Test(arguments: [
        ("thing12", SubscribeFieldType?.some(.thing)), ("character_string3", .characterString),
        ("phone_number1", .phoneNumber), ("car_number2", .carNumber), ("amount10", .amount),
        ("time4", .time), ("date1", .date), ("name1", .name), ("phrase3", .phrase),
        ("keyword1", nil), ("first", nil),
    ])
    func typeComesFromTheKeyPrefix(key: String, type: SubscribeFieldType?) {
        #expect(FieldLimits.type(ofKey: key) == type)
    }

    @Test(arguments: [
        ("thing1", "已发货，请注意查收"), ("number1", "-12.5"), ("number2", "12345678901234567890123456789012"),
        ("letter1", "ABCdef"), ("symbol1", "★☆"), ("character_string1", "SF-1234_abc"),
        ("phone_number1", "+86 138-0000-0000"), ("car_number1", "粤A12345"), ("name1", "张三"),
        ("name2", "Alexander Hamilton"), ("phrase1", "已发货"), ("amount1", "¥128.50"), ("amount2", "CNY 99"),
        ("amount3", "1024元"), ("time1", "2026-11-22 09:00"), ("time2", "15:01"), ("date1", "2026年11月22日"),
        ("date2", "2026-11-22"), ("time3", "2026-11-22 09:00 ~ 2026-11-22 11:00"), ("keyword1", String(repeating: "x", count: 500)),
    ])
    func acceptsValidValues(key: String, value: String) {
        #expect(FieldLimits.violation(key: key, value: value) == nil)
    }

    @Test(arguments: [
        ("thing1", String(repeating: "货", count: 21), "thing1 is 21 characters, limit 20"),
        ("number1", String(repeating: "1", count: 33), "number1 is 33 characters, limit 32"),
        ("letter1", String(repeating: "a", count: 33), "letter1 is 33 characters, limit 32"),
        ("symbol1", "!!!!!!", "symbol1 is 6 characters, limit 5"),
        ("character_string1", String(repeating: "a", count: 33), "character_string1 is 33 characters, limit 32"),
        ("phone_number1", String(repeating: "1", count: 18), "phone_number1 is 18 characters, limit 17"),
        ("car_number1", "粤A1234567", "car_number1 is 9 characters, limit 8"),
        ("name1", "欧阳娜娜欧阳娜娜欧阳娜", "name1 is 11 characters, limit 10"),
        ("name2", String(repeating: "a", count: 21), "name2 is 21 characters, limit 20"),
        ("phrase1", "已经发货了", nil), ("phrase2", "已经发货了吗", "phrase2 is 6 characters, limit 5"),
    ])
    func reportsTheLengthLimit(key: String, value: String, reason: String?) {
        #expect(FieldLimits.violation(key: key, value: value) == reason)
    }

    @Test(arguments: [
        ("number1", "12a"), ("number2", "1.2.3"), ("letter1", "abc1"), ("character_string1", "订单12"),
        ("phone_number1", "138x"), ("phrase1", "ok"), ("amount1", "¥12345678901"), ("amount2", "12.345"),
        ("amount3", "lots"), ("time1", "tomorrow"), ("date1", "2026-13-01"), ("time2", "25:00"), ("thing1", ""),
    ])
    func rejectsBadFormats(key: String, value: String) {
        let reason = FieldLimits.violation(key: key, value: value)
        #expect(reason != nil)
        #expect(reason?.hasPrefix(key) == true)
    }

    @Test func truncatesWithAnEllipsisCountedInTheLimit() {
        let long = String(repeating: "货", count: 25)
        let cut = FieldLimits.truncated(key: "thing1", value: long)
        #expect(cut == String(repeating: "货", count: 19) + "…")
        #expect(cut.count == 20)
        #expect(FieldLimits.violation(key: "thing1", value: cut) == nil)
        #expect(FieldLimits.truncated(key: "thing1", value: "short") == "short")
        #expect(FieldLimits.truncated(key: "name1", value: "欧阳娜娜欧阳娜娜欧阳娜") == "欧阳娜娜欧阳娜娜欧…")
        #expect(FieldLimits.truncated(key: "keyword1", value: long) == long)
    }

    @Test func truncatedValuesOfEveryTruncatableTypePassTheirCheck() {
        let samples: [SubscribeFieldType: String] = [
            .thing: String(repeating: "货", count: 30), .letter: String(repeating: "a", count: 40),
            .characterString: String(repeating: "A1-", count: 20), .name: String(repeating: "张", count: 15),
            .phrase: "已经发货了吗", .symbol: "!!!!!!!!",
        ]
        for (type, value) in samples {
            #expect(FieldLimits.isTruncatable(type))
            let key = type.rawValue + "1"
            #expect(FieldLimits.violation(key: key, value: value) != nil)
            #expect(FieldLimits.violation(key: key, value: FieldLimits.truncated(key: key, value: value)) == nil)
        }
    }

    @Test func numbersAmountsAndDatesAreNeverCut() {
        for type in [SubscribeFieldType.number, .phoneNumber, .carNumber, .amount, .time, .date] {
            #expect(!FieldLimits.isTruncatable(type))
        }
        let long = String(repeating: "1", count: 40)
        #expect(FieldLimits.truncated(key: "number1", value: long) == long)
    }
}
