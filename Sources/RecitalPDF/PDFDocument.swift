internal import CRecitalPoppler

/// A PDF opened with poppler-glib. Pages and outline items are read on demand.
public final class PDFDocument {
    let pointer: OpaquePointer

    /// Opens the PDF at a filesystem path (poppler wants a `file://` URI; the conversion is done here).
    /// - Throws: ``PDFError`` `.encrypted` when a password is needed, `.damaged` otherwise.
    public init(path: String) throws(PDFError) {
        var error: UnsafeMutablePointer<GError>?
        // g_filename_to_uri accepts only absolute paths.
        let absolute: String
        if path.hasPrefix("/") {
            absolute = path
        } else {
            let cwd = g_get_current_dir()
            defer { g_free(cwd) }
            absolute = (cwd.map { String(cString: $0) } ?? ".") + "/" + path
        }
        guard let uri = g_filename_to_uri(absolute, nil, &error) else {
            throw PDFDocument.consume(error, fallback: .io)
        }
        defer { g_free(uri) }
        guard let document = poppler_document_new_from_file(uri, nil, &error) else {
            throw PDFDocument.consume(error, fallback: .damaged)
        }
        pointer = document
    }

    deinit { crecital_unref(UnsafeMutableRawPointer(pointer)) }

    public var pageCount: Int { Int(poppler_document_get_n_pages(pointer)) }

    /// The page at a zero-based index.
    public func page(at index: Int) -> PDFPage? {
        guard index >= 0, index < pageCount, let page = poppler_document_get_page(pointer, Int32(index)) else {
            return nil
        }
        return PDFPage(pointer: page, document: self)
    }

    // MARK: Document information

    public var title: String? { Self.take(poppler_document_get_title(pointer)) }
    public var author: String? { Self.take(poppler_document_get_author(pointer)) }
    public var subject: String? { Self.take(poppler_document_get_subject(pointer)) }
    public var keywords: String? { Self.take(poppler_document_get_keywords(pointer)) }
    public var creator: String? { Self.take(poppler_document_get_creator(pointer)) }
    public var producer: String? { Self.take(poppler_document_get_producer(pointer)) }
    /// The catalog's XMP metadata packet (XML), if the document has one.
    public var xmpMetadata: String? { Self.take(poppler_document_get_metadata(pointer)) }

    /// Seconds since 1970 of the creation date, if the document has one.
    public var creationDate: Int? {
        let value = poppler_document_get_creation_date(pointer)
        return value > 0 ? Int(value) : nil
    }

    /// The document's outline (bookmarks) flattened in reading order, or empty when it has none.
    public var outline: [PDFOutlineItem] {
        guard let root = poppler_index_iter_new(pointer) else { return [] }
        defer { poppler_index_iter_free(root) }
        var items: [PDFOutlineItem] = []
        collect(root, level: 1, into: &items)
        return items
    }

    private func collect(_ iterator: OpaquePointer, level: Int, into items: inout [PDFOutlineItem]) {
        // Outlines are shallow in practice; a hostile one is bounded by this depth.
        guard level <= 32 else { return }
        repeat {
            if let action = poppler_index_iter_get_action(iterator) {
                let title = crecital_action_title(action).map { String(cString: $0) } ?? ""
                let type = crecital_action_type(action)
                var page: Int?
                var top: Double?
                var uri: String?
                if type == POPPLER_ACTION_GOTO_DEST, let dest = crecital_action_goto_dest(action) {
                    (page, top) = resolve(dest)
                } else if type == POPPLER_ACTION_URI {
                    uri = "external"
                }
                items.append(
                    PDFOutlineItem(title: title, level: level, pageIndex: page, top: top, isExternal: uri != nil)
                )
                poppler_action_free(action)
            }
            if let child = poppler_index_iter_get_child(iterator) {
                collect(child, level: level + 1, into: &items)
                poppler_index_iter_free(child)
            }
        } while poppler_index_iter_next(iterator) != 0
    }

    private func resolve(_ dest: UnsafeMutablePointer<PopplerDest>) -> (Int?, Double?) {
        if dest.pointee.type == POPPLER_DEST_NAMED, let name = dest.pointee.named_dest {
            guard let named = poppler_document_find_dest(pointer, name) else { return (nil, nil) }
            defer { poppler_dest_free(named) }
            return (Int(named.pointee.page_num) - 1, named.pointee.change_top != 0 ? named.pointee.top : nil)
        }
        return (Int(dest.pointee.page_num) - 1, dest.pointee.change_top != 0 ? dest.pointee.top : nil)
    }

    static func take(_ value: UnsafeMutablePointer<gchar>?) -> String? {
        guard let value else { return nil }
        defer { g_free(value) }
        return String(cString: value)
    }

    static func consume(_ error: UnsafeMutablePointer<GError>?, fallback: PDFError.Code) -> PDFError {
        guard let error else { return PDFError(fallback, "unknown poppler error") }
        defer { g_error_free(error) }
        let message = error.pointee.message.map { String(cString: $0) } ?? "unknown poppler error"
        let encrypted =
            error.pointee.domain == poppler_error_quark()
            && error.pointee.code == Int32(POPPLER_ERROR_ENCRYPTED.rawValue)
        return PDFError(encrypted ? .encrypted : fallback, message)
    }
}

/// One outline entry; `level` 1 is the top.
public struct PDFOutlineItem: Sendable, Equatable {
    public var title: String
    public var level: Int
    /// Zero-based page index of the destination, nil for items that go nowhere in this file.
    public var pageIndex: Int?
    /// The destination's top in PDF user space (origin bottom-left), when the item names one.
    public var top: Double?
    /// A web link rather than a place in the document.
    public var isExternal: Bool
}
