/// The type of a subscribe-message `data` value, named by its key's prefix ("thing1" is a `thing`).
public enum SubscribeFieldType: String, Sendable, CaseIterable {
    case thing
    case number
    case letter
    case symbol
    case characterString = "character_string"
    case phoneNumber = "phone_number"
    case carNumber = "car_number"
    case name
    case phrase
    case amount
    case time
    case date
}
