/// Durations as written in configuration: `250ms`, `10s`, `2m`, `1h`.
enum DurationText {
    static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, unit) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)] where trimmed.hasSuffix(suffix) {
            guard let value = Double(trimmed.dropLast(suffix.count)), value >= 0 else { return nil }
            return .milliseconds(Int64((value * unit * 1000).rounded()))
        }
        return nil
    }
}
