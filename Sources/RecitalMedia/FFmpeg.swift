internal import CRecitalFFmpeg

/// FFmpeg's libraries, opened the first time this module needs them (see CRecitalFFmpeg.h for why
/// they are not linked).
enum FFmpeg {
    // Set once, then only read: the pointer is to the loader's static table, never freed.
    nonisolated(unsafe) private static let loaded: (api: UnsafePointer<CRecitalFFmpegAPI>?, error: String) = {
        var error: UnsafePointer<CChar>?
        let api = crecital_ffmpeg_load(&error)
        return (api, error.map { String(cString: $0) } ?? "")
    }()

    /// Opens the libraries if this process has not yet. Every public entry point of this module
    /// calls it before anything else of FFmpeg's, so that a missing library is an error, not a crash.
    static func load() throws(MediaError) {
        guard loaded.api != nil else {
            throw MediaError(operation: "load FFmpeg", message: loaded.error)
        }
    }

    static var api: UnsafePointer<CRecitalFFmpegAPI> {
        guard let api = loaded.api else { preconditionFailure("FFmpeg used after it failed to load: \(loaded.error)") }
        return api
    }
}

/// FFmpeg's functions, as `ff.avcodec_open2(…)`.
var ff: CRecitalFFmpegAPI { FFmpeg.api.pointee }
