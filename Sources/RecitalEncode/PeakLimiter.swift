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
    /// The last `latency` input samples (scaled by `gain`), by sample number modulo `latency`.
    private var delay: [Double]
    /// The gain each recent sample needs, by sample number modulo 4 (final two samples later).
    private var recent: [Double] = [1, 1, 1, 1]
    /// Sliding-window minimum of the final needs: sample numbers and needs, needs increasing.
    private var windowIndex: [Int]
    private var windowNeed: [Double]
    private var windowStart = 0
    private var windowCount = 0
    private var smoothed: [Double]
    private var smoothedSum: Double
    private var lastSmoothed = 1.0
    private var count = 0
    private var history: (Double, Double, Double) = (0, 0, 0)

    init(gain: Double, ceilingDBFS: Double, sampleRate: Int) {
        self.gain = gain
        self.ceiling = pow(10, ceilingDBFS / 20) * 32768
        latency = max(4, sampleRate / 200)  // 5 ms
        release = 1 / (0.08 * Double(sampleRate))  // back to unity over about 80 ms
        delay = Array(repeating: 0, count: latency)
        windowIndex = Array(repeating: 0, count: latency + 4)
        windowNeed = Array(repeating: 1, count: latency + 4)
        smoothed = Array(repeating: 1, count: latency)
        smoothedSum = Double(latency)
    }

    mutating func process(_ input: UnsafeBufferPointer<Int16>, into output: inout [Int16]) {
        output.removeAll(keepingCapacity: true)
        output.reserveCapacity(input.count)
        for sample in input { push(Double(sample) * gain, into: &output) }
    }

    mutating func flush(_ output: inout [Int16]) {
        output.removeAll(keepingCapacity: true)
        for _ in 0..<latency { push(0, into: &output) }
    }

    private func need(_ peak: Double) -> Double { peak > ceiling ? ceiling / peak : 1 }

    private mutating func push(_ x: Double, into output: inout [Int16]) {
        let n = count
        count += 1
        // The peak between the two samples before this one, from four neighbours; it binds both.
        let (x0, x1, x2) = history
        history = (x1, x2, x)
        let between = need(abs((-x0 + 9 * x1 + 9 * x2 - x) / 16))
        if between < 1 {
            recent[(n + 3) & 3] = min(recent[(n + 3) & 3], between)
            recent[(n + 2) & 3] = min(recent[(n + 2) & 3], between)
        }
        recent[n & 3] = need(abs(x))
        // Sample n - 2 will not change any more: it joins the window of final needs.
        if n >= 2 {
            let final = recent[(n + 2) & 3]
            while windowCount > 0, windowNeed[(windowStart + windowCount - 1) % windowNeed.count] >= final {
                windowCount -= 1
            }
            let slot = (windowStart + windowCount) % windowNeed.count
            windowIndex[slot] = n - 2
            windowNeed[slot] = final
            windowCount += 1
        }
        while windowCount > 0, windowIndex[windowStart] < n - latency {
            windowStart = (windowStart + 1) % windowNeed.count
            windowCount -= 1
        }
        // The least gain needed by the sample leaving now (n - latency) or any after it.
        var target = min(recent[n & 3], n >= 1 ? recent[(n + 3) & 3] : 1)
        if windowCount > 0 { target = min(target, windowNeed[windowStart]) }
        let slot = n % latency
        let oldest = delay[slot]
        delay[slot] = x
        lastSmoothed = min(target, lastSmoothed + release)
        smoothedSum += lastSmoothed - smoothed[slot]
        smoothed[slot] = lastSmoothed
        guard n >= latency else { return }
        // Each of the last `latency` smoothed gains is at most what the leaving sample needs, so
        // their average is too, and it moves smoothly.
        let applied = smoothedSum / Double(latency)
        output.append(Int16(max(-32768, min(32767, (oldest * applied).rounded()))))
    }
}
