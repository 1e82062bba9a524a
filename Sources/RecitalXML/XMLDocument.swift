internal import CRecitalXML2

/// How to read the bytes: strictly as XML, or leniently as HTML (libxml2's recovering HTML parser).
public enum XMLParseMode: Sendable {
    case xml
    case html
}

/// A parsed XML or HTML document. Owns the libxml2 tree; nodes borrow from it.
///
/// Parsing never touches the network, never loads a DTD or an external entity, and never expands
/// entities recursively, so hostile input (XXE, "billion laughs") cannot leave the document or
/// grow without bound.
public final class XMLDocument {
    let pointer: xmlDocPtr

    /// Parses a document held in memory.
    /// - Parameters:
    ///   - bytes: the document's bytes; the encoding is taken from a BOM or the XML declaration.
    ///   - mode: strict XML or recovering HTML.
    /// - Throws: ``XMLError`` with libxml2's message when nothing usable could be parsed, or when
    ///   the document declares entities: books never need them, and they are how XXE and
    ///   "billion laughs" attacks are built.
    public init(bytes: [UInt8], mode: XMLParseMode) throws(XMLError) {
        XMLDocument.setUp()
        if Self.declaresEntities(bytes) {
            throw XMLError(
                message: "the document declares XML entities (<!ENTITY>), which are refused",
                isRefusedEntityDeclaration: true
            )
        }
        guard bytes.count < Int(Int32.max) else { throw XMLError(message: "document larger than 2 GB") }
        xmlResetLastError()
        let doc: xmlDocPtr? = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress?.withMemoryRebound(to: CChar.self, capacity: buffer.count) { base in
                switch mode {
                case .xml:
                    let options = Int32(
                        XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue
                            | XML_PARSE_NOWARNING.rawValue | XML_PARSE_NOCDATA.rawValue
                    )
                    return xmlReadMemory(base, Int32(buffer.count), nil, nil, options)
                case .html:
                    let options = Int32(
                        HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NONET.rawValue
                            | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
                    )
                    return htmlReadMemory(base, Int32(buffer.count), nil, "UTF-8", options)
                }
            }
        }
        guard let doc else { throw XMLDocument.lastError(default: "empty or unreadable document") }
        pointer = doc
    }

    deinit { xmlFreeDoc(pointer) }

    /// The root element, or nil for an empty document.
    public var root: XMLNode? {
        xmlDocGetRootElement(pointer).map { XMLNode(pointer: $0, document: self) }
    }

    /// Looks for `<!ENTITY` in UTF-8 and in either byte order of UTF-16.
    static func declaresEntities(_ bytes: [UInt8]) -> Bool {
        let marker = Array("<!ENTITY".utf8)
        let little: [UInt8] = marker.flatMap { byte -> [UInt8] in [byte, 0] }
        let big: [UInt8] = marker.flatMap { byte -> [UInt8] in [0, byte] }
        return contains(bytes, marker) || contains(bytes, little) || contains(bytes, big)
    }

    private static func contains(_ bytes: [UInt8], _ pattern: [UInt8]) -> Bool {
        guard let first = pattern.first, bytes.count >= pattern.count else { return false }
        var start = 0
        let last = bytes.count - pattern.count
        while start <= last {
            if bytes[start] == first, bytes[start..<(start + pattern.count)].elementsEqual(pattern) { return true }
            start += 1
        }
        return false
    }

    private static let initialised: Bool = {
        xmlInitParser()
        crecital_xml_silence()
        return true
    }()

    private static func setUp() { _ = initialised }

    static func lastError(default fallback: String) -> XMLError {
        guard let error = xmlGetLastError(), let message = error.pointee.message else {
            return XMLError(message: fallback)
        }
        let text = String(cString: message).trimmingCharacters(in: " \n\t")
        return XMLError(message: text.isEmpty ? fallback : text, line: Int(error.pointee.line))
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let scalars = Set(set.unicodeScalars)
        var view = Substring(self)
        while let first = view.unicodeScalars.first, scalars.contains(first) { view = view.dropFirst() }
        while let last = view.unicodeScalars.last, scalars.contains(last) { view = view.dropLast() }
        return String(view)
    }
}
