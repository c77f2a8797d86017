/// A small seedable generator, so a seeded simulator injects the same faults on every run.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability `fraction`; draws nothing when the fault is off.
    mutating func chance(_ fraction: Double) -> Bool {
        guard fraction > 0 else { return false }
        return fraction >= 1 || Double.random(in: 0..<1, using: &self) < fraction
    }
}
