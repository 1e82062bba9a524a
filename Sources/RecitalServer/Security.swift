internal import Foundation
public import HTTPTypes
public import Hummingbird

/// Who may talk to the server: requests whose `Host` is not one of ours are refused (a page on
/// another site that rebinds its DNS name to this machine), and off loopback every request but
/// the health checks needs the bearer token.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let allowedHosts: Set<String>
    let token: String?

    init(options: ServerOptions) {
        var hosts = ServerOptions.loopbackNames
        hosts.formUnion(options.allowedHosts.map { $0.lowercased() })
        if !options.isLoopback, options.host != "0.0.0.0", options.host != "::" {
            hosts.insert(options.host.lowercased())
        }
        allowedHosts = hosts
        token = options.token
    }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        let host = Self.hostName(request.head.authority ?? "")
        guard allowedHosts.contains(host) else {
            throw Problem(
                .forbidden,
                "Host '\(host)' is not served here; start recital serve with --allowed-host \(host) to allow it"
            )
        }
        let path = request.uri.path
        if let token, path != "/healthz", path != "/readyz" {
            let given = request.headers[.authorization] ?? ""
            guard given.hasPrefix("Bearer "), Self.equalInConstantTime(String(given.dropFirst(7)), token) else {
                throw Problem(
                    .unauthorized,
                    "this server needs its token: send Authorization: Bearer <token> (from --token-file)",
                    headers: [.wwwAuthenticate: "Bearer"]
                )
            }
        }
        return try await next(request, context)
    }

    /// The name in a `Host` header, without the port (`[::1]:8080` → `[::1]`).
    static func hostName(_ authority: String) -> String {
        let lower = authority.lowercased()
        if lower.hasPrefix("[") { return String(lower.prefix { $0 != "]" }) + "]" }
        return String(lower.split(separator: ":", maxSplits: 1).first ?? "")
    }

    /// Compares without stopping at the first difference, so the time taken says nothing of the token.
    static func equalInConstantTime(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8)
        let right = Array(b.utf8)
        var difference = UInt8(left.count == right.count ? 0 : 1)
        for index in 0..<max(left.count, right.count) {
            difference |= (index < left.count ? left[index] : 0) ^ (index < right.count ? right[index] : 0)
        }
        return difference == 0
    }
}
