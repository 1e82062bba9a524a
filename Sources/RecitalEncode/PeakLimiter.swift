internal import Foundation

/// Applies the book's gain and keeps peaks under a ceiling without clicks: a look-ahead limiter
/// whose gain is the minimum needed over the next few milliseconds, smoothed by a moving average
/// (so it always reaches the needed gain by the peak) and released slowly. Peaks between samples
/// count too, since that is what true-peak meters and lossy decoders see: like BS.1770's meter it
/// looks at four points per sample interval, interpolated from the twelve nearest samples.
/// Output is delayed by ``latency`` samples; ``flush(_:)`` returns the rest.
///
/// It runs once per sample of the book, so its state lives in buffers it owns rather than arrays
/// (whose copy-on-write checks cost more than the arithmetic), and stretches that need no limiting
/// take a pass-through path.
final class PeakLimiter {
    /// Applied to the samples given from now on (an encode may change it between chapters).
    var gain: Double
    let ceiling: Double
    let latency: Int
    private let release: Double
    /// The last `latency` input samples (scaled by `gain`) and smoothed gains, a ring from `slot`.
    private let delay: UnsafeMutableBufferPointer<Double>
    private let smoothed: UnsafeMutableBufferPointer<Double>
    private var slot = 0
    /// The gain each recent sample needs, by sample number modulo 8 (final six samples later, once
    /// the intervals on both sides of it have been interpolated).
    private let recent: UnsafeMutableBufferPointer<Double>
    /// The last 12 inputs twice over (at n mod 12 and n mod 12 + 12), so that they always lie in a
    /// row for the interpolator.
    private let inputs: UnsafeMutableBufferPointer<Double>
    /// Sliding-window minimum of the final needs below 1 (a need of 1 never lowers the minimum):
    /// sample numbers and needs, needs increasing, a ring whose size is a power of two.
    private let windowIndex: UnsafeMutableBufferPointer<Int>
    private let windowNeed: UnsafeMutableBufferPointer<Double>
    private var windowStart = 0
    private var windowCount = 0
    /// The 11 inputs before a pass-through stretch, then the stretch, scaled.
    private let scratch: UnsafeMutableBufferPointer<Double>
    /// The interpolator's coefficients, and its output for one block of a stretch.
    private let coefficients: UnsafeMutableBufferPointer<Double>
    private let interpolated: UnsafeMutableBufferPointer<Double>
    private let stretchCapacity: Int
    private var smoothedSum: Double
    private var lastSmoothed = 1.0
    /// How many samples in a row had a smoothed gain of exactly 1; from `latency` on, every gain in
    /// the average is 1 and the limiter is at rest.
    private var settled = 0
    private var count = 0

    init(gain: Double, ceilingDBFS: Double, sampleRate: Int) {
        self.gain = gain
        self.ceiling = pow(10, ceilingDBFS / 20) * 32768
        latency = max(Interpolator.taps, sampleRate / 200)  // 5 ms
        release = 1 / (0.08 * Double(sampleRate))  // back to unity over about 80 ms
        delay = .allocate(capacity: latency)
        delay.initialize(repeating: 0)
        smoothed = .allocate(capacity: latency)
        smoothed.initialize(repeating: 1)
        smoothedSum = Double(latency)
        recent = .allocate(capacity: 8)
        recent.initialize(repeating: 1)
        inputs = .allocate(capacity: 2 * Interpolator.taps)
        inputs.initialize(repeating: 0)
        var size = 8
        while size < latency + 4 { size *= 2 }
        windowIndex = .allocate(capacity: size)
        windowIndex.initialize(repeating: 0)
        windowNeed = .allocate(capacity: size)
        windowNeed.initialize(repeating: 1)
        stretchCapacity = max(1024, 2 * latency)
        scratch = .allocate(capacity: Interpolator.taps - 1 + stretchCapacity)
        scratch.initialize(repeating: 0)
        coefficients = .allocate(capacity: Interpolator.phases.count)
        _ = coefficients.initialize(from: Interpolator.phases)
        interpolated = .allocate(capacity: 3 * Self.block)
        interpolated.initialize(repeating: 0)
    }

    /// Stretches are checked for peaks between samples in blocks of this many samples.
    private static let block = 32

    deinit {
        for buffer in [delay, smoothed, recent, inputs, windowNeed, scratch, coefficients, interpolated] {
            buffer.deallocate()
        }
        windowIndex.deallocate()
    }

    func process(_ input: UnsafeBufferPointer<Int16>, into output: inout [Int16]) {
        output = run(input.count, input)
    }

    func flush(_ output: inout [Int16]) {
        output = run(latency, nil)
    }

    /// Feeds `length` samples of `source` (zeros when nil) and returns the ones that leave the
    /// delay line.
    private func run(_ length: Int, _ source: UnsafeBufferPointer<Int16>?) -> [Int16] {
        let produced = max(0, min(length, count + length - latency))
        return [Int16](unsafeUninitializedCapacity: produced) { output, initialized in
            var written = 0
            var index = 0
            while index < length {
                let stretch = min(stretchCapacity, length - index)
                if atRest, count >= latency, stretch >= latency {
                    let passed = passThrough(stretch, from: index, source, &output[written...])
                    written += passed
                    index += passed
                    if passed > 0 { continue }
                }
                if let sample = push(source.map { Double($0[index]) * gain } ?? 0) {
                    output[written] = sample
                    written += 1
                }
                index += 1
            }
            initialized = written
        }
    }

    /// No need is pending and every gain in the average is 1.
    private var atRest: Bool {
        settled >= latency && windowCount == 0 && !recent.contains { $0 < 1 }
    }

    /// Passes samples through unchanged, up to `limit` of them, as long as none of them nor any
    /// peak between them reaches the ceiling: out go the delay line and the stretch's head, the
    /// stretch's tail becomes the delay line. Returns how many passed: all of them, or those before
    /// the first that ``push(_:)`` would start limiting at (the look-ahead only begins there), or
    /// none when that leaves fewer than `latency`. It decides exactly as ``push(_:)`` would,
    /// interval by interval, so the output does not depend on which path a stretch takes; it stops
    /// reading at the first block that needs limiting, so a loud passage costs one block per try.
    private func passThrough(
        _ limit: Int,
        from start: Int,
        _ source: UnsafeBufferPointer<Int16>?,
        _ output: inout Slice<UnsafeMutableBufferPointer<Int16>>
    ) -> Int {
        let before = Interpolator.taps - 1
        let newest = count - 1
        for offset in 0..<before {
            // Inputs newest - 10 ... newest; before the stream began they are 0.
            scratch[offset] = inputs[(newest + 1 + offset + 1) % Interpolator.taps]
        }
        let base = UnsafePointer(scratch.baseAddress!)
        var length = limit
        var block = 0
        // Block by block: the interval checked at `offset` (between inputs offset - 6 and
        // offset - 5) is the one `push` checks when it takes input `offset`, so a need first arises
        // at the first loud sample or interval, whichever comes first.
        let stretch = scratch.baseAddress! + before
        let gain = self.gain
        while block < length {
            let end = min(length, block + Self.block)
            // Scale, then look for a loud sample: two plain loops the compiler vectorises, where
            // one that stops at the first loud sample would not.
            if let source {
                let from = source.baseAddress! + start
                for offset in block..<end { stretch[offset] = Double(from[offset]) * gain }
            } else {
                for offset in block..<end { stretch[offset] = 0 }
            }
            var local = 0.0
            for offset in block..<end { local = max(local, abs(stretch[offset])) }
            if local > ceiling, let loud = (block..<end).first(where: { abs(stretch[$0]) > ceiling }) {
                length = loud
                local = 0
                for offset in block..<loud { local = max(local, abs(stretch[offset])) }
            }
            guard block < length else { break }
            let checked = min(end, length)
            for index in block..<(block + before) { local = max(local, abs(scratch[index])) }
            // Between samples the signal can exceed its neighbours by at most `bound`; only loud
            // blocks need interpolating.
            if local * Interpolator.bound > ceiling,
                let loud = Interpolator.firstAbove(
                    ceiling,
                    base + block,
                    count: checked - block,
                    coefficients: UnsafePointer(coefficients.baseAddress!),
                    work: interpolated.baseAddress!
                )
            {
                length = block + loud
                break
            }
            block = checked
        }
        guard length >= latency else { return 0 }
        var out = output.startIndex
        for offset in 0..<latency {
            output[out] = Self.sample(delay[(slot + offset) % latency])
            out += 1
        }
        let target = output.base.baseAddress! + out
        for offset in 0..<(length - latency) { target[offset] = Self.sample(stretch[offset]) }
        for offset in 0..<latency { delay[offset] = scratch[before + length - latency + offset] }
        // Every smoothed gain is 1, so the ring can restart anywhere.
        slot = 0
        count += length
        settled += length
        for offset in (length - Interpolator.taps)..<length {
            remember(scratch[before + offset], as: count - length + offset)
        }
        return length
    }

    private func remember(_ x: Double, as n: Int) {
        inputs[n % Interpolator.taps] = x
        inputs[n % Interpolator.taps + Interpolator.taps] = x
    }

    /// One sample through the full limiter; returns the sample leaving the delay line, if any.
    private func push(_ x: Double) -> Int16? {
        let n = count
        count += 1
        remember(x, as: n)
        recent[n & 7] = abs(x) > ceiling ? ceiling / abs(x) : 1
        // The interval between samples n - 6 and n - 5 now has all twelve neighbours; a peak in
        // it binds both.
        let between = Interpolator.peak(
            UnsafePointer(inputs.baseAddress!) + (n + 1) % Interpolator.taps,
            coefficients: UnsafePointer(coefficients.baseAddress!)
        )
        if between > ceiling {
            let need = ceiling / between
            if n >= 6 { recent[(n - 6) & 7] = min(recent[(n - 6) & 7], need) }
            if n >= 5 { recent[(n - 5) & 7] = min(recent[(n - 5) & 7], need) }
        }
        // Sample n - 6 will not change any more: it joins the window of final needs.
        let mask = windowNeed.count - 1
        let final = n >= 6 ? recent[(n - 6) & 7] : 1
        if final < 1 {
            while windowCount > 0, windowNeed[(windowStart + windowCount - 1) & mask] >= final { windowCount -= 1 }
            windowIndex[(windowStart + windowCount) & mask] = n - 6
            windowNeed[(windowStart + windowCount) & mask] = final
            windowCount += 1
        }
        while windowCount > 0, windowIndex[windowStart] < n - latency {
            windowStart = (windowStart + 1) & mask
            windowCount -= 1
        }
        // The least gain needed by the sample leaving now (n - latency) or any after it.
        var target = windowCount > 0 ? windowNeed[windowStart] : 1
        for back in 0...5 where back <= n { target = min(target, recent[(n - back) & 7]) }
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

    /// Clamps to 16 bits and rounds to the nearest (ties to even).
    @inline(__always)
    private static func sample(_ value: Double) -> Int16 {
        let clamped = max(-32768, min(32767, value))
        // Adding 1.5 × 2⁵² leaves the rounded value in the low bits of the significand, two's
        // complement: no checked conversion, so loops over samples vectorise.
        return Int16(truncatingIfNeeded: (clamped + 6_755_399_441_055_744.0).bitPattern)
    }
}

/// Values of the band-limited signal a quarter, half and three quarters of the way between two
/// samples, from the twelve samples around them: a sinc under a Hann window, each phase scaled to
/// pass a constant unchanged.
enum Interpolator {
    static let taps = 12
    /// Coefficients by phase, then by sample (the first is five before the interval).
    static let phases: [Double] = [0.25, 0.5, 0.75].flatMap { fraction -> [Double] in
        let raw = (0..<taps).map { tap -> Double in
            let distance = Double(tap - 5) - fraction
            let window = 0.5 * (1 + cos(Double.pi * distance / 6))
            return window * sin(Double.pi * distance) / (Double.pi * distance)
        }
        let sum = raw.reduce(0, +)
        return raw.map { $0 / sum }
    }
    /// The most any interpolated value can exceed the largest sample it is made from.
    static let bound: Double =
        (0..<3).map { phase in
            phases[(phase * taps)..<((phase + 1) * taps)].reduce(0) { $0 + abs($1) }
        }.max() ?? 1

    /// The largest magnitude between the sixth and seventh of the twelve samples at `samples`,
    /// with `coefficients` holding ``phases``.
    @inline(__always)
    static func peak(_ samples: UnsafePointer<Double>, coefficients h: UnsafePointer<Double>) -> Double {
        var loudest = 0.0
        for phase in 0..<3 {
            var value = 0.0
            for tap in 0..<taps { value += h[phase * taps + tap] * samples[tap] }
            loudest = max(loudest, abs(value))
        }
        return loudest
    }

    /// The first of `count` intervals in a row, the first between the sixth and seventh samples
    /// at `samples`, to peak above `ceiling`. The same sums as ``peak(_:coefficients:)`` in the same
    /// order, so the two always agree, but tap by tap across the block, which vectorises; `work`
    /// holds `3 × count`.
    @inline(__always)
    static func firstAbove(
        _ ceiling: Double,
        _ samples: UnsafePointer<Double>,
        count: Int,
        coefficients h: UnsafePointer<Double>,
        work: UnsafeMutablePointer<Double>
    ) -> Int? {
        for phase in 0..<3 {
            let values = work + phase * count
            for index in 0..<count { values[index] = 0 }
            for tap in 0..<taps {
                let c = h[phase * taps + tap]
                let row = samples + tap
                for index in 0..<count { values[index] += c * row[index] }
            }
        }
        for index in 0..<count
        where abs(work[index]) > ceiling || abs(work[count + index]) > ceiling
            || abs(work[2 * count + index]) > ceiling
        {
            return index
        }
        return nil
    }
}
