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
        for sample in samples {
            peak = max(peak, abs(Int(sample)))
            let weighted = highPass.process(shelf.process(Double(sample) / 32768))
            stepSum += weighted * weighted
            stepCount += 1
            if stepCount == step {
                steps.append(Float(stepSum / Double(step)))
                stepSum = 0
                stepCount = 0
            }
        }
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

/// A second-order IIR section (direct form II transposed).
struct Biquad {
    let b0, b1, b2, a1, a2: Double
    private var z1 = 0.0
    private var z2 = 0.0

    init(b0: Double, b1: Double, b2: Double, a1: Double, a2: Double) {
        (self.b0, self.b1, self.b2, self.a1, self.a2) = (b0, b1, b2, a1, a2)
    }

    mutating func process(_ x: Double) -> Double {
        let y = b0 * x + z1
        z1 = b1 * x - a1 * y + z2
        z2 = b2 * x - a2 * y
        return y
    }
}
