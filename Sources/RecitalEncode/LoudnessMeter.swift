internal import Foundation

/// Integrated loudness of a mono stream after ITU-R BS.1770: K-weighting, mean square over
/// 400 ms blocks every 100 ms, an absolute gate at −70 LUFS and a relative gate 10 LU below.
/// Keeps one number per 100 ms, so memory grows by 1.4 MB per 10 hours.
struct LoudnessMeter {
    private var shelf: Biquad
    private var highPass: Biquad
    private let step: Int
    private var stepSum = 0.0
    private var stepCount = 0
    private var steps: [Float] = []
    /// The largest sample magnitude seen.
    private(set) var peak = 0

    init(sampleRate: Int) {
        let rate = Double(sampleRate)
        // The two K-weighting stages, designed for any rate from BS.1770's analog prototypes.
        var k = tan(Double.pi * 1681.974450955533 / rate)
        let q = 0.7071752369554196
        let vh = pow(10, 3.999843853973347 / 20)
        let vb = pow(vh, 0.4996667741545416)
        var a0 = 1 + k / q + k * k
        shelf = Biquad(
            b0: (vh + vb * k / q + k * k) / a0,
            b1: 2 * (k * k - vh) / a0,
            b2: (vh - vb * k / q + k * k) / a0,
            a1: 2 * (k * k - 1) / a0,
            a2: (1 - k / q + k * k) / a0
        )
        k = tan(Double.pi * 38.13547087602444 / rate)
        let q2 = 0.5003270373238773
        a0 = 1 + k / q2 + k * k
        highPass = Biquad(b0: 1, b1: -2, b2: 1, a1: 2 * (k * k - 1) / a0, a2: (1 - k / q2 + k * k) / a0)
        step = max(1, sampleRate / 10)
    }

    mutating func add(_ samples: UnsafeBufferPointer<Int16>) {
        // The filters run on local copies: written back once, not once per sample.
        var (shelf, highPass) = (self.shelf, self.highPass)
        var (loudest, sum, filled) = (Int32(peak), stepSum, stepCount)
        var index = 0
        while index < samples.count {
            let end = min(samples.count, index + step - filled)
            var position = index
            while position + 1 < end {
                let first = Int32(samples[position])
                let second = Int32(samples[position + 1])
                loudest = max(loudest, first.magnitude > second.magnitude ? abs(first) : abs(second))
                let shelved = shelf.process(Double(first) * (1.0 / 32768), Double(second) * (1.0 / 32768))
                let weighted = highPass.process(shelved.0, shelved.1)
                sum += weighted.0 * weighted.0 + weighted.1 * weighted.1
                position += 2
            }
            if position < end {
                let sample = Int32(samples[position])
                loudest = max(loudest, abs(sample))
                let weighted = highPass.process(shelf.process(Double(sample) * (1.0 / 32768)))
                sum += weighted * weighted
            }
            filled += end - index
            index = end
            if filled == step {
                steps.append(Float(sum / Double(step)))
                sum = 0
                filled = 0
            }
        }
        (self.shelf, self.highPass) = (shelf, highPass)
        (peak, stepSum, stepCount) = (Int(loudest), sum, filled)
    }

    /// Continues this measurement with `other`'s, as if its audio came next; nothing is added
    /// after. The unfinished 100 ms step of this one is left out.
    mutating func append(_ other: LoudnessMeter) {
        steps.append(contentsOf: other.steps)
        peak = max(peak, other.peak)
    }

    /// The integrated loudness in LUFS, or nil for silence or less than 400 ms.
    var integrated: Double? {
        guard steps.count >= 4 else { return nil }
        var blocks: [Double] = []
        blocks.reserveCapacity(steps.count - 3)
        for index in 3..<steps.count {
            blocks.append(Double(steps[index - 3] + steps[index - 2] + steps[index - 1] + steps[index]) / 4)
        }
        func lufs(_ power: Double) -> Double { -0.691 + 10 * log10(power) }
        let absolute = blocks.filter { $0 > 0 && lufs($0) > -70 }
        guard !absolute.isEmpty else { return nil }
        let relativeGate = lufs(absolute.reduce(0, +) / Double(absolute.count)) - 10
        let gated = absolute.filter { lufs($0) > relativeGate }
        guard !gated.isEmpty else { return nil }
        return lufs(gated.reduce(0, +) / Double(gated.count))
    }
}

/// A second-order IIR section in direct form I: only the newest output's term waits for the
/// previous sample, so consecutive samples overlap in the processor.
struct Biquad {
    let b0, b1, b2, a1, a2: Double
    /// The recursion unrolled over two steps: y[n+1] from y[n-1] and y[n-2] directly.
    private let c1, c2: Double
    private var x1 = 0.0
    private var x2 = 0.0
    private var y1 = 0.0
    private var y2 = 0.0

    init(b0: Double, b1: Double, b2: Double, a1: Double, a2: Double) {
        (self.b0, self.b1, self.b2, self.a1, self.a2) = (b0, b1, b2, a1, a2)
        (c1, c2) = (a1 * a1 - a2, a1 * a2)
    }

    /// Two samples at once. Both outputs depend on the two before the pair, so the pair costs the
    /// processor one multiply-add's wait on the previous outputs instead of two: the meter is
    /// bound by that wait, not by arithmetic.
    mutating func process(_ first: Double, _ second: Double) -> (Double, Double) {
        let feedFirst = b0 * first + b1 * x1 + b2 * x2
        let feedSecond = b0 * second + b1 * first + b2 * x1
        let yFirst = (feedFirst - a2 * y2) - a1 * y1
        let ySecond = (feedSecond - a1 * feedFirst + c2 * y2) + c1 * y1
        (x2, x1, y2, y1) = (first, second, yFirst, ySecond)
        return (yFirst, ySecond)
    }

    mutating func process(_ x: Double) -> Double {
        let known = b0 * x + b1 * x1 + b2 * x2 - a2 * y2
        let y = known - a1 * y1
        (x2, x1, y2, y1) = (x1, x, y1, y)
        return y
    }
}
