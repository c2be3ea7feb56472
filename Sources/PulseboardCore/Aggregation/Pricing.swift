/// AI token prices in USD per 1,000 tokens, per model (`model_used`), with a default for
/// models not listed. Spend = tokens_consumed / 1000 × price.
public struct Pricing: Sendable, Equatable {
    public var perThousandTokens: [String: Double]
    public var defaultPerThousandTokens: Double
    let byHash: [UInt64: Double]

    public init(perThousandTokens: [String: Double] = [:], defaultPerThousandTokens: Double = 0.002) {
        self.perThousandTokens = perThousandTokens
        self.defaultPerThousandTokens = defaultPerThousandTokens
        var m: [UInt64: Double] = [:]
        for (k, v) in perThousandTokens { m[StableHash.hash(k)] = v }
        self.byHash = m
    }

    public static func == (a: Pricing, b: Pricing) -> Bool {
        a.perThousandTokens == b.perThousandTokens && a.defaultPerThousandTokens == b.defaultPerThousandTokens
    }

    /// Price per 1k tokens for the model whose name hashes to `hash` (0 = no model).
    @inline(__always)
    public func price(modelHash hash: UInt64) -> Double {
        if hash != 0, let p = byHash[hash] { return p }
        return defaultPerThousandTokens
    }
}
