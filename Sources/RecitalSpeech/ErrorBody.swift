internal import Foundation

/// Pulls a human message out of the many shapes TTS servers answer errors with: OpenAI's nested
/// `error.message`, FastAPI's `detail` (string, object or list), flat `message`, `{"error": "…"}`,
/// Flask's HTML pages and plain text.
enum ErrorBody {
    static func message(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.prefix(64 * 1024), as: UTF8.self)
        if let data = text.data(using: .utf8), let json = try? JSONSerialization.jsonObject(with: data) {
            if let found = find(json) { return clip(found) }
        }
        if text.contains("<") {
            return clip(stripTags(text))
        }
        return clip(text)
    }

    private static func find(_ value: Any) -> String? {
        if let string = value as? String { return string }
        if let list = value as? [Any] {
            return list.compactMap { item -> String? in
                if let object = item as? [String: Any], let message = object["msg"] as? String {
                    let location = (object["loc"] as? [Any])?.map { "\($0)" }.joined(separator: ".")
                    return location.map { "\($0): \(message)" } ?? message
                }
                return find(item)
            }.first
        }
        if let object = value as? [String: Any] {
            for key in ["message", "detail", "error", "msg", "description"] {
                if let nested = object[key], let found = find(nested) { return found }
            }
        }
        return nil
    }

    private static func stripTags(_ html: String) -> String {
        var result = ""
        var inTag = false
        for character in html {
            if character == "<" {
                inTag = true
                result.append(" ")
            } else if character == ">" {
                inTag = false
            } else if !inTag {
                result.append(character)
            }
        }
        return result
    }

    private static func clip(_ text: String) -> String {
        let collapsed = text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        if collapsed.isEmpty { return "(empty body)" }
        return collapsed.count > 300 ? String(collapsed.prefix(300)) + "…" : collapsed
    }
}
