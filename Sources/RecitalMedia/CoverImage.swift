internal import CRecitalFFmpeg

/// A cover picture checked to decode, with its dimensions, ready to embed.
public struct CoverImage: Sendable, Equatable {
    public enum Kind: String, Sendable { case jpeg, png }

    public var kind: Kind
    public var bytes: [UInt8]
    public var width: Int
    public var height: Int

    /// The largest cover embedded; bigger files bloat every output for no visible gain.
    public static let maxBytes = 8 * 1024 * 1024

    /// Decodes `bytes` as JPEG or PNG to prove it is a whole picture and read its size.
    /// - Throws: ``MediaError`` naming the reason (not a JPEG/PNG, does not decode, too large).
    public static func inspect(_ bytes: [UInt8]) throws(MediaError) -> CoverImage {
        try FFmpeg.load()
        let kind: Kind
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            kind = .jpeg
        } else if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) {
            kind = .png
        } else {
            throw MediaError(operation: "cover", message: "not a JPEG or PNG image")
        }
        guard bytes.count <= maxBytes else {
            throw MediaError(operation: "cover", message: "\(bytes.count / 1_048_576) MB is larger than 8 MB")
        }
        guard let decoder = ff.avcodec_find_decoder(kind == .png ? AV_CODEC_ID_PNG : AV_CODEC_ID_MJPEG) else {
            throw MediaError(operation: "cover", message: "FFmpeg has no \(kind.rawValue) decoder")
        }
        var context = ff.avcodec_alloc_context3(decoder)
        var packet = ff.av_packet_alloc()
        var frame = ff.av_frame_alloc()
        defer {
            ff.avcodec_free_context(&context)
            ff.av_packet_free(&packet)
            ff.av_frame_free(&frame)
        }
        guard let context, let packet, let frame else { throw MediaError(operation: "cover", message: "out of memory") }
        try MediaError.check(ff.avcodec_open2(context, decoder, nil), "cover")
        try MediaError.check(ff.av_new_packet(packet, Int32(bytes.count)), "cover")
        bytes.withUnsafeBufferPointer { packet.pointee.data.update(from: $0.baseAddress!, count: $0.count) }
        // Damaged pictures often decode "successfully" with concealment; refuse those too.
        context.pointee.err_recognition |= AV_EF_EXPLODE
        try MediaError.check(ff.avcodec_send_packet(context, packet), "cover does not decode")
        try MediaError.check(ff.avcodec_send_packet(context, nil), "cover does not decode")
        try MediaError.check(ff.avcodec_receive_frame(context, frame), "cover does not decode")
        let width = Int(frame.pointee.width)
        let height = Int(frame.pointee.height)
        guard width > 0, height > 0, width <= 10_000, height <= 10_000 else {
            throw MediaError(operation: "cover", message: "implausible size \(width)x\(height)")
        }
        return CoverImage(kind: kind, bytes: bytes, width: width, height: height)
    }
}
