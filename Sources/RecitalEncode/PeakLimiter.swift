internal import Foundation

/// Applies the book's gain and keeps peaks under a ceiling without clicks: a look-ahead limiter
/// whose gain is the minimum needed over the next few milliseconds, smoothed by a moving average
/// (so it always reaches the needed gain by the peak) and released slowly. Peaks between samples
/// are estimated by interpolation, since that is what true-peak meters see.
/// Output is delayed by ``latency`` samples; ``flush(_:)`` returns the rest.
struct PeakLimiter {
    let gain: Double
    let ceiling: Double
    let latency: Int
    private let release: Double
    /// Input samples not yet output, scaled by `gain`.
    private var delay: [Double]
    private var required: [Double]
    private var window: [Double]
    private var windowSum = 0.0
    private var smoothed = 1.0
    private var head = 0
    private var filled = 0
    private var history: (Double, Double, Double) = (0, 0, 0)

    init(gain: Double, ceilingDBFS: Double, sampleRate: Int) {
        self.gain = gain
        self.ceiling = pow(10, ceilingDBFS / 20) * 32768
        latency = max(2, sampleRate / 200)  // 5 ms
        release = 1 / (0.08 * Double(sampleRate))  // back to unity over about 80 ms
        delay = Array(repeating: 0, count: latency)
        required = Array(repeating: 1, count: latency)
        window = Array(repeating: 1, count: latency)
        windowSum = Double(latency)
    }

    mutating func process(_ input: UnsafeBufferPointer<Int16>, into output: inout [Int16]) {
        output.removeAll(keepingCapacity: true)
        for sample in input { push(Double(sample) * gain, into: &output) }
    }

    mutating func flush(_ output: inout [Int16]) {
        output.removeAll(keepingCapacity: true)
        for _ in 0..<latency { push(0, into: &output) }
    }

    private mutating func push(_ x: Double, into output: inout [Int16]) {
        // The peak between the two samples before this one, from four neighbours; it binds both.
        let (x0, x1, x2) = history
        history = (x1, x2, x)
        let midpoint = abs((-x0 + 9 * x1 + 9 * x2 - x) / 16)
        if midpoint > ceiling {
            for back in 1...2 {
                let index = (head - back + latency) % latency
                required[index] = min(required[index], ceiling / midpoint)
            }
        }
        let slot = head
        let oldest = delay[slot]
        // The oldest sample leaves now: the look-ahead minimum covers it and every later sample.
        var target = abs(x) > ceiling ? ceiling / abs(x) : 1
        for value in required where value < target { target = value }
        delay[slot] = x
        required[slot] = abs(x) > ceiling ? ceiling / abs(x) : 1
        head = (head + 1) % latency
        smoothed = min(target, smoothed + release)
        windowSum += smoothed - window[slot]
        window[slot] = smoothed
        if filled < latency {
            filled += 1
            return
        }
        // Each of the last `latency` smoothed gains is at most what the oldest sample needs, so
        // their average is too, and it moves smoothly.
        let applied = windowSum / Double(latency)
        output.append(Int16(max(-32768, min(32767, (oldest * applied).rounded()))))
    }
}
