import RecitalXML
import Testing

@Suite("XML and HTML parsing")
struct XMLDocumentTests {
    private func texts(_ document: XMLDocument) -> String {
        var text = ""
        document.root?.walk { event in
            if case .text(let node) = event { text += node.text }
            return .continue
        }
        return text
    }

    @Test("strict XML parses, exposes names, namespaces and prefixed attributes")
    func strictXML() throws {
        let source = """
            <html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">
            <body><section epub:type="chapter" id="c1"><p>Hello <em>world</em></p></section></body></html>
            """
        let document = try XMLDocument(bytes: Array(source.utf8), mode: .xml)
        let root = try #require(document.root)
        #expect(root.name == "html")
        #expect(root.namespaceURI == "http://www.w3.org/1999/xhtml")
        let section = try #require(root.elementChildren.first?.elementChildren.first)
        #expect(section.attribute("epub:type") == "chapter")
        #expect(section.attribute(local: "type", namespaceURI: "http://www.idpf.org/2007/ops") == "chapter")
        #expect(section.attribute("id") == "c1")
        #expect(section.textContent == "Hello world")
    }

    @Test("malformed markup fails in XML mode with libxml2's message and recovers in HTML mode")
    func recovery() throws {
        let source = Array("<html><body><p>One<p>Two &nbsp;three</body>".utf8)
        #expect(throws: XMLError.self) { try XMLDocument(bytes: source, mode: .xml) }
        do {
            _ = try XMLDocument(bytes: source, mode: .xml)
        } catch {
            #expect(!error.message.isEmpty)
        }
        let document = try XMLDocument(bytes: source, mode: .html)
        #expect(texts(document) == "OneTwo \u{00A0}three")
    }

    @Test("UTF-16 documents with a BOM and declaration decode")
    func utf16() throws {
        let source = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>Grüße 漢字</a>"
        var bytes: [UInt8] = [0xFF, 0xFE]
        for unit in source.utf16 { bytes += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        let document = try XMLDocument(bytes: bytes, mode: .xml)
        #expect(document.root?.textContent == "Grüße 漢字")
    }

    @Test("undeclared HTML entities in XHTML resolve to their characters")
    func htmlEntities() throws {
        let source = """
            <!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">
            <html xmlns="http://www.w3.org/1999/xhtml"><body><p>caf&eacute;&nbsp;x</p></body></html>
            """
        let document = try XMLDocument(bytes: Array(source.utf8), mode: .xml)
        #expect(texts(document) == "café\u{00A0}x")
    }

    @Test(
        "entity declarations are refused before parsing",
        arguments: [
            "<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>",
            "<!DOCTYPE a [<!ENTITY l \"lol\"><!ENTITY l2 \"&l;&l;&l;&l;\">]><a>&l2;</a>",
        ]
    )
    func entityDeclarations(source: String) {
        #expect(throws: XMLError.self) { try XMLDocument(bytes: Array(source.utf8), mode: .xml) }
        #expect(throws: XMLError.self) { try XMLDocument(bytes: Array(source.utf8), mode: .html) }
    }

    @Test("walking a very deep tree does not recurse")
    func deepWalk() throws {
        let depth = 20_000
        let source = String(repeating: "<div>", count: depth) + "x" + String(repeating: "</div>", count: depth)
        let document = try XMLDocument(bytes: Array(("<html><body>" + source + "</body></html>").utf8), mode: .html)
        var deepest = 0
        var current = 0
        document.root?.walk { event in
            switch event {
            case .enter: current += 1
            case .exit: current -= 1
            case .text: break
            }
            deepest = max(deepest, current)
            return .continue
        }
        #expect(deepest > 200)
        #expect(current == 0)
    }

    @Test("skipChildren leaves an element's content unvisited")
    func skipChildren() throws {
        let document = try XMLDocument(bytes: Array("<a><b>hidden</b><c>shown</c></a>".utf8), mode: .xml)
        var text = ""
        document.root?.walk { event in
            switch event {
            case .enter(let node) where node.name == "b": return .skipChildren
            case .text(let node): text += node.text
            default: break
            }
            return .continue
        }
        #expect(text == "shown")
    }
}
