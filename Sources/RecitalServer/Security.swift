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

    /// The cookie a browser signs in with (the token itself, readable by no script).
    static var cookie: String { "recital_token" }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        let authority = request.head.authority ?? ""
        let host = Self.hostName(authority)
        guard allowedHosts.contains(host) else {
            throw Problem(
                .forbidden,
                "Host '\(host)' is not served here; start recital serve with --allowed-host \(host) to allow it"
            )
        }
        // A page of another site cannot make this browser act here: unsafe requests must come from
        // this origin (the browser says so in Sec-Fetch-Site, or else in Origin). API clients send
        // neither.
        if ![.get, .head, .options].contains(request.method) {
            // Sec-Fetch-Site is the browser's own verdict; Origin is looked at only without it
            // (older browsers), and "null" (a sandboxed or privacy-stripped origin) is foreign.
            if let site = request.headers[.secFetchSite] {
                guard site == "same-origin" || site == "none" else {
                    throw Problem(.forbidden, "a request from another site (\(site)) cannot change jobs here")
                }
            } else if let origin = request.headers[.origin], URL(string: origin)?.hostAndPort != authority.lowercased()
            {
                throw Problem(.forbidden, "a request from \(origin) cannot change jobs here")
            }
        }
        let path = request.uri.path
        if let token, !["/healthz", "/readyz", "/login"].contains(path), !path.hasPrefix("/assets/") {
            let bearer = request.headers[.authorization].flatMap {
                $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil
            }
            let cookie = request.cookies[Self.cookie]?.value
            guard let given = bearer ?? cookie, Self.equalInConstantTime(given, token) else {
                if request.method == .get, !path.hasPrefix("/api/") {
                    return Response(status: .seeOther, headers: [.location: "/login"])
                }
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

extension HTTPField.Name {
    static let secFetchSite = Self("Sec-Fetch-Site")!
}

extension URL {
    /// `host:port` as a `Host` header carries it (the port only when the URL has one).
    var hostAndPort: String? {
        guard let host = host?.lowercased() else { return nil }
        let shown = host.contains(":") ? "[\(host)]" : host
        return port.map { "\(shown):\($0)" } ?? shown
    }
}
