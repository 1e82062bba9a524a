internal import CRecitalXML2

/// A node of an ``XMLDocument``. Keeps its document alive; it must not outlive a mutation of the
/// tree (the wrapper never mutates trees, so in practice it is valid as long as it is held).
public struct XMLNode {
    let pointer: xmlNodePtr
    let document: XMLDocument

    /// What a node is, as far as text extraction cares.
    public enum Kind: Sendable, Equatable {
        case element
        case text
        /// An entity reference left unexpanded by the parser (for example `&nbsp;` in XHTML).
        case entityReference
        case other
    }

    public var kind: Kind {
        switch pointer.pointee.type {
        case XML_ELEMENT_NODE: .element
        case XML_TEXT_NODE, XML_CDATA_SECTION_NODE: .text
        case XML_ENTITY_REF_NODE: .entityReference
        default: .other
        }
    }

    /// The local name, lower-cased for HTML documents by libxml2 itself.
    public var name: String { pointer.pointee.name.map { String(cString: $0) } ?? "" }

    /// The namespace URI of an element, if it has one.
    public var namespaceURI: String? {
        pointer.pointee.ns?.pointee.href.map { String(cString: $0) }
    }

    /// The text of a text node, or the replacement text of an entity reference.
    ///
    /// Entity references resolve to the entity's literal replacement text when it is plain text,
    /// or to the HTML entity of that name; nested or markup-bearing entities resolve to nothing,
    /// which bounds expansion.
    public var text: String {
        switch kind {
        case .text:
            return pointer.pointee.content.map { String(cString: $0) } ?? ""
        case .entityReference:
            return entityReplacement()
        default:
            return ""
        }
    }

    private func entityReplacement() -> String {
        guard let namePointer = pointer.pointee.name else { return "" }
        if let entity = xmlGetDocEntity(document.pointer, namePointer),
            entity.pointee.etype == XML_INTERNAL_GENERAL_ENTITY,
            let content = entity.pointee.content
        {
            let value = String(cString: content)
            return value.contains("&") || value.contains("<") ? "" : value
        }
        if let html = htmlEntityLookup(namePointer), let scalar = Unicode.Scalar(html.pointee.value) {
            return String(Character(scalar))
        }
        return ""
    }

    /// An attribute by its qualified name as written, `"id"` or `"epub:type"`.
    ///
    /// In XML documents a prefixed name matches the attribute whose namespace has that prefix; in
    /// HTML documents (which have no namespaces) it matches the literal name.
    public func attribute(_ qualifiedName: String) -> String? {
        var attribute = pointer.pointee.properties
        let (prefix, local) = Self.split(qualifiedName)
        while let current = attribute {
            defer { attribute = current.pointee.next }
            guard let rawName = current.pointee.name else { continue }
            let name = String(cString: rawName)
            let attributePrefix = current.pointee.ns?.pointee.prefix.map { String(cString: $0) }
            let matches =
                (name == local && attributePrefix == prefix)
                || (attributePrefix == nil && name == qualifiedName)
            if matches { return Self.value(of: current) }
        }
        return nil
    }

    /// An attribute by local name and namespace URI.
    public func attribute(local: String, namespaceURI: String) -> String? {
        guard let value = xmlGetNsProp(pointer, local, namespaceURI) else { return nil }
        defer { crecital_xml_free(value) }
        return String(cString: value)
    }

    private static func value(of attribute: xmlAttrPtr) -> String {
        guard let value = xmlNodeGetContent(UnsafeMutableRawPointer(attribute).assumingMemoryBound(to: xmlNode.self))
        else { return "" }
        defer { crecital_xml_free(value) }
        return String(cString: value)
    }

    private static func split(_ qualifiedName: String) -> (String?, String) {
        guard let colon = qualifiedName.firstIndex(of: ":") else { return (nil, qualifiedName) }
        return (String(qualifiedName[..<colon]), String(qualifiedName[qualifiedName.index(after: colon)...]))
    }

    public var firstChild: XMLNode? { pointer.pointee.children.map { XMLNode(pointer: $0, document: document) } }
    public var nextSibling: XMLNode? { pointer.pointee.next.map { XMLNode(pointer: $0, document: document) } }
    public var parent: XMLNode? {
        guard let parent = pointer.pointee.parent, parent.pointee.type == XML_ELEMENT_NODE else { return nil }
        return XMLNode(pointer: parent, document: document)
    }

    /// Element children in document order.
    public var elementChildren: [XMLNode] {
        var result: [XMLNode] = []
        var child = firstChild
        while let node = child {
            if node.kind == .element { result.append(node) }
            child = node.nextSibling
        }
        return result
    }

    /// All text below this node, in document order, without any separators.
    public var textContent: String {
        var text = ""
        walk { event in
            if case .text(let node) = event { text += node.text }
            return .continue
        }
        return text
    }

    /// Whether two values refer to the same node.
    public func isSameNode(as other: XMLNode) -> Bool { pointer == other.pointer }
}

// MARK: - Walking

extension XMLNode {
    /// One step of a document-order walk.
    public enum WalkEvent {
        case enter(XMLNode)
        case exit(XMLNode)
        /// A text node or an entity reference; read ``XMLNode/text``.
        case text(XMLNode)
    }

    /// What the visitor wants next.
    public enum WalkDecision {
        case `continue`
        /// Do not descend into the element just entered (its exit event still follows).
        case skipChildren
    }

    /// Walks this subtree in document order without recursion, so nesting depth cannot exhaust
    /// the stack.
    public func walk<E: Error>(_ visit: (WalkEvent) throws(E) -> WalkDecision) throws(E) {
        let start = pointer
        var current: xmlNodePtr? = pointer
        var entering = true
        while let node = current {
            let value = XMLNode(pointer: node, document: document)
            if entering {
                switch value.kind {
                case .element:
                    if try visit(.enter(value)) == .continue, let child = node.pointee.children {
                        current = child
                        continue
                    }
                    _ = try visit(.exit(value))
                case .text, .entityReference:
                    _ = try visit(.text(value))
                case .other:
                    break
                }
            } else {
                _ = try visit(.exit(value))
            }
            if node == start { return }
            if let next = node.pointee.next {
                current = next
                entering = true
            } else {
                current = node.pointee.parent
                entering = false
                if current == nil { return }
            }
        }
    }
}
