/// Durations as written in configuration: `250ms`, `10s`, `2m`, `1h`; at most 30 days (nil beyond,
/// and for `inf`, `nan` or negatives: instants a duration is added to must not overflow).
enum DurationText {
    static let maxSeconds = 30.0 * 86_400

    static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, unit) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)] where trimmed.hasSuffix(suffix) {
            guard let value = Double(trimmed.dropLast(suffix.count)), value.isFinite, (0...maxSeconds).contains(value * unit)
            else { return nil }
            return .milliseconds(Int64((value * unit * 1000).rounded()))
        }
        return nil
    }
}

/// Sizes as written in configuration: `65536`, `64KiB`, `16MiB`, `1GiB` (also KB/MB/GB as binary units).
enum ByteSizeText {
    /// 1 TiB: more than any buffer, and no product of it overflows.
    static let maxBytes = 1 << 40

    static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, unit) in [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1 << 10), ("MB", 1 << 20), ("GB", 1 << 30)]
        where trimmed.hasSuffix(suffix) {
            guard let value = Int(trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), value >= 0,
                value <= maxBytes / unit
            else { return nil }
            return value * unit
        }
        return Int(trimmed).flatMap { (0...maxBytes).contains($0) ? $0 : nil }
    }
}
