public import Foundation
public import RecitalPipeline

/// How `recital serve` listens, whom it lets in, and what uploaded books are converted with.
public struct ServerOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// The bearer token; required when listening on anything but loopback.
    public var token: String?
    /// Names besides localhost and loopback addresses that `Host` may carry (DNS rebinding).
    public var allowedHosts: [String] = []
    /// The settings uploads start from (the query may change voice, formats and priority).
    public var settings: ConversionSettings
    public var priority = 2
    /// Where voice profiles named by uploads are looked up; uploads are kept under it.
    public var home: String
    /// The largest upload, bytes.
    public var maxUpload = 512 << 20
    /// Whether this process converts books (`--workers 0`: it only takes uploads).
    public var converts = true
    public var run = RunOptions()
    /// Hours a finished book's files are kept (nil: forever); then results answer 410.
    public var retentionHours: Double?

    public init(settings: ConversionSettings, home: String) {
        self.settings = settings
        self.home = home
    }

    /// Whether the address is loopback only (no token needed).
    public var isLoopback: Bool { Self.loopbackNames.contains(host.lowercased()) || host.hasPrefix("127.") }

    static let loopbackNames: Set<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]

    var uploads: String { "\(home)/uploads" }
}
