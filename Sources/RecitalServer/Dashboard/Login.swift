internal import Foundation
internal import HTTPTypes
internal import Hummingbird

/// Signing a browser in once: the token pasted into a form becomes an `HttpOnly; SameSite=Strict`
/// cookie, so no script can read it and no other site can send it.
extension APIRoutes {
    func addLogin(to router: Router<BasicRequestContext>) {
        router.get("/login") { _, _ in
            guard options.token != nil else { return HTML.redirect("/") }
            return HTML.response(HTML.page(title: "Sign in", body: Self.loginForm(failed: false)))
        }
        router.post("/login") { request, _ in
            guard let token = options.token else { return HTML.redirect("/") }
            let given = try await formFields(request).first { $0.0 == "token" }?.1 ?? ""
            guard
                AccessMiddleware<BasicRequestContext>.equalInConstantTime(
                    given.trimmingCharacters(in: .whitespaces),
                    token
                )
            else {
                return HTML.response(
                    HTML.page(title: "Sign in", body: Self.loginForm(failed: true)),
                    status: .unauthorized
                )
            }
            var response = HTML.redirect("/")
            let secure = request.uri.scheme == .https ? "; Secure" : ""
            response.headers[.setCookie] =
                "\(AccessMiddleware<BasicRequestContext>.cookie)=\(token); HttpOnly; SameSite=Strict; Path=/\(secure)"
            return response
        }
    }

    static func loginForm(failed: Bool) -> String {
        """
        <h1>Sign in</h1>
        \(failed ? "<p class=\"error\">That is not this server's token.</p>" : "")
        <form method="post" action="/login"><label>Token (from the server's --token-file)
        <input type="password" name="token" autocomplete="current-password" required></label>
        <button>Sign in</button></form>
        """
    }
}
