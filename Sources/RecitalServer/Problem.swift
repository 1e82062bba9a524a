internal import Foundation
public import HTTPTypes
public import Hummingbird

/// An error answered as `application/problem+json` (RFC 9457): a status, a short title and a
/// `detail` that says what to do.
public struct Problem: Error, Sendable, HTTPResponseError {
    public var status: HTTPResponse.Status
    public var detail: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ detail: String, headers: HTTPFields = [:]) {
        self.status = status
        self.detail = detail
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body: [String: Any] = [
            "type": "about:blank", "title": status.reasonPhrase, "status": status.code, "detail": detail,
            "instance": request.uri.path,
        ]
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
