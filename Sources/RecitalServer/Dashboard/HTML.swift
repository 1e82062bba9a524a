internal import Foundation
internal import HTTPTypes
internal import Hummingbird

/// Server-rendered pages: text is escaped where it is put into markup, never before.
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A whole page: the navigation, the body, the one script. `since` (milliseconds) tells the
    /// script where its live stream starts.
    static func page(title: String, body: String, since: String = "", live: String = "") -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title)) · Recital</title>
        <link rel="stylesheet" href="/assets/app.css">
        <script src="/assets/app.js" defer></script>
        </head>
        <body data-since="\(escape(since))" data-live="\(escape(live))">
        <header><a class="brand" href="/">Recital</a>
        <nav><a href="/">Jobs</a><a href="/upload">Upload</a><a href="/health">Health</a></nav>
        <span id="live" class="live" hidden>live</span></header>
        <main>
        \(body)
        </main>
        </body>
        </html>
        """
    }

    /// A page as a response, with the headers every page carries.
    static func response(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// Scripts and styles from this server only, no framing, no referrer leaving it.
    static var securityHeaders: HTTPFields {
        var headers = HTTPFields()
        headers[.contentSecurityPolicy] =
            "default-src 'self'; media-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        return headers
    }

    /// 303 See Other back to a page, after a form's action.
    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// The fields of an `application/x-www-form-urlencoded` body (a name may repeat).
    static func formFields(_ body: String) -> [(String, String)] {
        body.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }
    }
}
