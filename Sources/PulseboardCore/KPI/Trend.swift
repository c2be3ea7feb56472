/// A least-squares line through a daily series: slope per day, % change of the fitted line
/// over the series, and a direction that is `flat` when the change is within noise (the slope
/// is less than two standard errors from zero, or the fitted change is under `flatPercent`).
public struct Trend: Sendable, Equatable {
    public enum Direction: String, Sendable { case up, down, flat }

    /// Change per day, in the series' unit.
    public var slopePerDay: Double
    /// Fitted change from the first day to the last, in % of the first fitted value.
    public var changePercent: Double?
    public var direction: Direction
    /// Days with a value.
    public var n: Int

    /// Fits `values` (one per day, oldest first; nil = no data that day).
    public static func fit(_ values: [Double?], flatPercent: Double = 1) -> Trend {
        var xs: [Double] = []
        var ys: [Double] = []
        for (i, v) in values.enumerated() {
            if let v, v.isFinite { xs.append(Double(i)); ys.append(v) }
        }
        let n = Double(xs.count)
        guard xs.count >= 3 else { return Trend(slopePerDay: 0, changePercent: nil, direction: .flat, n: xs.count) }
        let mx = xs.reduce(0, +) / n
        let my = ys.reduce(0, +) / n
        var sxx = 0.0
        var sxy = 0.0
        for i in xs.indices {
            sxx += (xs[i] - mx) * (xs[i] - mx)
            sxy += (xs[i] - mx) * (ys[i] - my)
        }
        let slope = sxy / sxx
        let intercept = my - slope * mx
        var sse = 0.0
        for i in xs.indices {
            let r = ys[i] - (intercept + slope * xs[i])
            sse += r * r
        }
        let standardError = (sse / (n - 2) / sxx).squareRoot()
        let first = intercept + slope * xs[0]
        let last = intercept + slope * xs[xs.count - 1]
        let change: Double? = first != 0 ? (last - first) / abs(first) * 100 : nil
        var direction: Direction = slope > 0 ? .up : slope < 0 ? .down : .flat
        if abs(slope) < 2 * standardError || abs(change ?? 0) < flatPercent { direction = .flat }
        return Trend(slopePerDay: slope, changePercent: change, direction: direction, n: xs.count)
    }
}
