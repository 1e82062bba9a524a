internal import Foundation

/// Applies the book's gain and keeps peaks under a ceiling without clicks: a look-ahead limiter
/// whose gain is the minimum needed over the next few milliseconds, smoothed by a moving average
/// (so it always reaches the needed gain by the peak) and released slowly. Peaks between samples
/// are estimated by interpolation, since that is what true-peak meters see.
/// Output is delayed by ``latency`` samples; ``flush(_:)`` returns the rest.
///
/// It runs once per sample of the book, so its state lives in buffers it owns rather than arrays
/// (whose copy-on-write checks cost more than the arithmetic), and stretches that need no limiting
/// take a pass-through path.
final class PeakLimiter {
    let gain: Double
    let ceiling: Double
    let latency: Int
    private let release: Double
    /// The last `latency` input samples (scaled by `gain`) and smoothed gains, a ring from `slot`.
    private let delay: UnsafeMutableBufferPointer<Double>
    private let smoothed: UnsafeMutableBufferPointer<Double>
    private var slot = 0
    /// The gain each recent sample needs, by sample number modulo 4 (final two samples later).
    private let recent: UnsafeMutableBufferPointer<Double>
    /// Sliding-window minimum of the final needs below 1 (a need of 1 never lowers the minimum):
    /// sample numbers and needs, needs increasing, a ring whose size is a power of two.
    private let windowIndex: UnsafeMutableBufferPointer<Int>
    private let windowNeed: UnsafeMutableBufferPointer<Double>
    private var windowStart = 0
    private var windowCount = 0
    /// Input of one pass-through stretch, scaled.
    private let scratch: UnsafeMutableBufferPointer<Double>
    private var smoothedSum: Double
    private var lastSmoothed = 1.0
    /// How many samples in a row had a smoothed gain of exactly 1; from `latency` on, every gain in
    /// the average is 1 and the limiter is at rest.
    private var settled = 0
    private var count = 0
    private var history: (Double, Double, Double) = (0, 0, 0)

    init(gain: Double, ceilingDBFS: Double, sampleRate: Int) {
        self.gain = gain
        self.ceiling = pow(10, ceilingDBFS / 20) * 32768
        latency = max(4, sampleRate / 200)  // 5 ms
        release = 1 / (0.08 * Double(sampleRate))  // back to unity over about 80 ms
        delay = .allocate(capacity: latency)
        delay.initialize(repeating: 0)
        smoothed = .allocate(capacity: latency)
        smoothed.initialize(repeating: 1)
        smoothedSum = Double(latency)
        recent = .allocate(capacity: 4)
        recent.initialize(repeating: 1)
        var size = 8
        while size < latency + 4 { size *= 2 }
        windowIndex = .allocate(capacity: size)
        windowIndex.initialize(repeating: 0)
        windowNeed = .allocate(capacity: size)
        windowNeed.initialize(repeating: 1)
        scratch = .allocate(capacity: max(1024, 2 * latency))
        scratch.initialize(repeating: 0)
    }

    deinit {
        for buffer in [delay, smoothed, recent, windowNeed, scratch] { buffer.deallocate() }
        windowIndex.deallocate()
    }

    func process(_ input: UnsafeBufferPointer<Int16>, into output: inout [Int16]) {
        let gain = self.gain
        output = run(input.count) { Double(input[$0]) * gain }
    }

    func flush(_ output: inout [Int16]) {
        output = run(latency) { _ in 0 }
    }

    /// Feeds `length` samples and returns the ones that leave the delay line.
    private func run(_ length: Int, _ input: (Int) -> Double) -> [Int16] {
        let produced = max(0, min(length, count + length - latency))
        return [Int16](unsafeUninitializedCapacity: produced) { output, initialized in
            var written = 0
            var index = 0
            while index < length {
                let stretch = min(scratch.count, length - index)
                if atRest, count >= latency, stretch >= latency,
                    passThrough(stretch, from: index, input, &output[written...])
                {
                    written += stretch
                    index += stretch
                } else {
                    if let sample = push(input(index)) {
                        output[written] = sample
                        written += 1
                    }
                    index += 1
                }
            }
            initialized = written
        }
    }

    /// No need is pending and every gain in the average is 1.
    private var atRest: Bool {
        settled >= latency && windowCount == 0 && recent[0] == 1 && recent[1] == 1 && recent[2] == 1
            && recent[3] == 1
    }

    /// Passes `length` samples (at least `latency`) through unchanged when none of them, nor any
    /// peak between them, reaches the ceiling: out go the delay line and the stretch's head, the
    /// stretch's tail becomes the delay line. Returns false, doing nothing, otherwise.
    private func passThrough(
        _ length: Int,
        from start: Int,
        _ input: (Int) -> Double,
        _ output: inout Slice<UnsafeMutableBufferPointer<Int16>>
    ) -> Bool {
        var (x0, x1, x2) = history
        var loudest = 0.0
        for offset in 0..<length {
            let x = input(start + offset)
            scratch[offset] = x
            // Plain comparisons: `max` also orders NaNs, which costs here and cannot occur.
            let peak = abs(x) > loudest ? abs(x) : loudest
            let between = abs((-x0 + 9 * x1 + 9 * x2 - x) / 16)
            loudest = between > peak ? between : peak
            (x0, x1, x2) = (x1, x2, x)
        }
        guard loudest <= ceiling else { return false }
        var out = output.startIndex
        for offset in 0..<latency {
            output[out] = Self.sample(delay[(slot + offset) % latency])
            out += 1
        }
        for offset in 0..<(length - latency) {
            output[out] = Self.sample(scratch[offset])
            out += 1
        }
        for offset in 0..<latency { delay[offset] = scratch[length - latency + offset] }
        // Every smoothed gain is 1, so the ring can restart anywhere.
        slot = 0
        count += length
        settled += length
        history = (x0, x1, x2)
        return true
    }

    /// One sample through the full limiter; returns the sample leaving the delay line, if any.
    private func push(_ x: Double) -> Int16? {
        let n = count
        count += 1
        // The peak between the two samples before this one, from four neighbours; it binds both.
        let (x0, x1, x2) = history
        history = (x1, x2, x)
        let between = abs((-x0 + 9 * x1 + 9 * x2 - x) / 16)
        if between > ceiling {
            let need = ceiling / between
            recent[(n + 3) & 3] = min(recent[(n + 3) & 3], need)
            recent[(n + 2) & 3] = min(recent[(n + 2) & 3], need)
        }
        recent[n & 3] = abs(x) > ceiling ? ceiling / abs(x) : 1
        // Sample n - 2 will not change any more: it joins the window of final needs.
        let mask = windowNeed.count - 1
        let final = recent[(n + 2) & 3]
        if n >= 2, final < 1 {
            while windowCount > 0, windowNeed[(windowStart + windowCount - 1) & mask] >= final { windowCount -= 1 }
            windowIndex[(windowStart + windowCount) & mask] = n - 2
            windowNeed[(windowStart + windowCount) & mask] = final
            windowCount += 1
        }
        while windowCount > 0, windowIndex[windowStart] < n - latency {
            windowStart = (windowStart + 1) & mask
            windowCount -= 1
        }
        // The least gain needed by the sample leaving now (n - latency) or any after it.
        var target = min(recent[n & 3], n >= 1 ? recent[(n + 3) & 3] : 1)
        if windowCount > 0 { target = min(target, windowNeed[windowStart]) }
        let oldest = delay[slot]
        delay[slot] = x
        lastSmoothed = min(target, lastSmoothed + release)
        smoothedSum += lastSmoothed - smoothed[slot]
        smoothed[slot] = lastSmoothed
        settled = lastSmoothed == 1 ? settled + 1 : 0
        // All gains in the average are 1 again: drop the rounding drift of the running sum.
        if settled == latency { smoothedSum = Double(latency) }
        slot = slot + 1 == latency ? 0 : slot + 1
        guard n >= latency else { return nil }
        // Each of the last `latency` smoothed gains is at most what the leaving sample needs, so
        // their average is too, and it moves smoothly.
        return Self.sample(oldest * (smoothedSum / Double(latency)))
    }

    /// Rounds half away from zero and clamps to 16 bits.
    @inline(__always)
    private static func sample(_ value: Double) -> Int16 {
        let clamped = max(-32768, min(32767, value))
        // Truncating after adding a half rounds correctly except for 0.5 − 2⁻⁵⁴ (one step off).
        return Int16(clamped < 0 ? clamped - 0.5 : clamped + 0.5)
    }
}
