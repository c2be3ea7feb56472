import Foundation
import PulseboardCore
import Testing

@Suite struct QuantileSketchTests {
    @Test(arguments: [11, 12, 13] as [UInt64])
    func quantilesStayWithinOnePercentOfExact(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var sketch = QuantileSketch()
        var values: [Double] = []
        for _ in 0..<20_000 {
            let v = 900 * Foundation.exp(rng.normal() * 0.9)
            values.append(v)
            sketch.add(v)
        }
        values.sort()
        for q in [0.01, 0.5, 0.9, 0.95, 0.99, 0.999] {
            let exact = values[Int((q * Double(values.count - 1)).rounded(.down))]
            let got = sketch.quantile(q)!
            #expect(abs(got - exact) / exact <= QuantileSketch.relativeAccuracy, "q=\(q)")
        }
    }

    @Test func subtractUndoesMerge() {
        var a = QuantileSketch()
        var b = QuantileSketch()
        for v in stride(from: 1.0, to: 5000, by: 7.3) { a.add(v) }
        for v in stride(from: 0.0, to: 90_000, by: 333) { b.add(v) }
        var total = a
        total.merge(b)
        #expect(total.count == a.count + b.count)
        total.subtract(b)
        for q in [0.1, 0.5, 0.99] { #expect(total.quantile(q) == a.quantile(q)) }
        total.subtract(a)
        #expect(total.isEmpty)
        #expect(total.quantile(0.5) == nil)
    }
}
