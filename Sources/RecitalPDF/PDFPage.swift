internal import CRecitalPoppler

/// One page of a ``PDFDocument``.
public final class PDFPage {
    let pointer: OpaquePointer
    let document: PDFDocument

    init(pointer: OpaquePointer, document: PDFDocument) {
        self.pointer = pointer
        self.document = document
    }

    deinit { crecital_unref(UnsafeMutableRawPointer(pointer)) }

    public var size: (width: Double, height: Double) {
        var width = 0.0
        var height = 0.0
        poppler_page_get_size(pointer, &width, &height)
        return (width, height)
    }

    /// The page's text in poppler's reading order, lines separated by newlines.
    public var text: String { PDFDocument.take(poppler_page_get_text(pointer)) ?? "" }

    /// The page's text as lines with their position and font size, in reading order.
    ///
    /// Positions are in points from the top of the page. The font size of a line is the largest
    /// size used on it, which is what tells a heading from body text.
    public func lines() -> [PDFTextLine] {
        guard let raw = poppler_page_get_text(pointer) else { return [] }
        defer { g_free(raw) }
        let characters = Array(String(cString: raw).unicodeScalars)
        var rectangles: UnsafeMutablePointer<PopplerRectangle>?
        var rectangleCount: guint = 0
        let hasLayout = poppler_page_get_text_layout(pointer, &rectangles, &rectangleCount) != 0
        defer { if let rectangles { g_free(rectangles) } }
        let (sizes, boldness) = fonts(count: characters.count)

        var lines: [PDFTextLine] = []
        var current = String.UnicodeScalarView()
        var top = Double.greatestFiniteMagnitude
        var bottom = 0.0
        var left = Double.greatestFiniteMagnitude
        var fontSize = 0.0
        var boldCharacters = 0
        var letters = 0
        func flush() {
            let text = String(current)
            if !text.allSatisfy({ $0.isWhitespace }) {
                lines.append(
                    PDFTextLine(
                        text: text,
                        top: top == .greatestFiniteMagnitude ? 0 : top,
                        bottom: bottom,
                        left: left == .greatestFiniteMagnitude ? 0 : left,
                        fontSize: fontSize,
                        isBold: letters > 0 && boldCharacters * 2 > letters
                    )
                )
            }
            boldCharacters = 0
            letters = 0
            current = String.UnicodeScalarView()
            top = .greatestFiniteMagnitude
            bottom = 0
            left = .greatestFiniteMagnitude
            fontSize = 0
        }
        for (index, scalar) in characters.enumerated() {
            if scalar == "\n" {
                flush()
                continue
            }
            current.append(scalar)
            if hasLayout, let rectangles, index < Int(rectangleCount), scalar != " " {
                let rect = rectangles[index]
                top = min(top, min(rect.y1, rect.y2))
                bottom = max(bottom, max(rect.y1, rect.y2))
                left = min(left, min(rect.x1, rect.x2))
            }
            if index < sizes.count { fontSize = max(fontSize, sizes[index]) }
            if scalar.properties.isAlphabetic {
                letters += 1
                if index < boldness.count, boldness[index] { boldCharacters += 1 }
            }
        }
        flush()
        return lines
    }

    /// Each character's font size, and whether its font is a bold one (by the font's name, which is
    /// all a PDF says of weight: "Helvetica-Bold", "Arial,Bold", "…-Semibold").
    private func fonts(count: Int) -> (sizes: [Double], bold: [Bool]) {
        guard let list = poppler_page_get_text_attributes(pointer) else { return ([], []) }
        defer { poppler_page_free_text_attributes(list) }
        var sizes = [Double](repeating: 0, count: count)
        var bold = [Bool](repeating: false, count: count)
        var node: UnsafeMutablePointer<GList>? = list
        while let current = node {
            if let attributes = current.pointee.data?.assumingMemoryBound(to: PopplerTextAttributes.self) {
                let start = max(0, Int(attributes.pointee.start_index))
                let end = min(count - 1, Int(attributes.pointee.end_index))
                let name = attributes.pointee.font_name.map { String(cString: $0).lowercased() } ?? ""
                let heavy = ["bold", "black", "heavy", "semibold", "demi"].contains { name.contains($0) }
                if start <= end {
                    for index in start...end {
                        sizes[index] = attributes.pointee.font_size
                        bold[index] = heavy
                    }
                }
            }
            node = current.pointee.next
        }
        return (sizes, bold)
    }
}

/// A line of text on a page with its geometry (points, origin at the top-left).
public struct PDFTextLine: Sendable, Equatable {
    public var text: String
    public var top: Double
    public var bottom: Double
    public var left: Double
    public var fontSize: Double
    /// Most of its letters are set in a bold font.
    public var isBold: Bool = false
}

extension PDFPage {
    /// Whether the page draws a raster image: a page with no text that does is a scan to recognise,
    /// one that does not is blank.
    public var hasImages: Bool { crecital_page_has_images(pointer) != 0 }

    /// The page drawn on white as 8-bit gray, `dotsPerInch` pixels per inch, for OCR. Pages too large
    /// for that resolution (posters, maps) are drawn smaller, to at most `maxSide` pixels a side.
    /// - Throws: ``PDFError`` `.damaged` with cairo's message when the page cannot be drawn.
    public func grayImage(dotsPerInch: Double, maxSide: Int = 7000) throws(PDFError) -> PDFGrayImage {
        let (pointsWide, pointsHigh) = size
        var scale = dotsPerInch / 72
        let longest = max(pointsWide, pointsHigh) * scale
        if longest > Double(maxSide) { scale *= Double(maxSide) / longest }
        let width = max(1, Int((pointsWide * scale).rounded()))
        let height = max(1, Int((pointsHigh * scale).rounded()))
        var pixels = [UInt8](repeating: 255, count: width * height)
        let status = pixels.withUnsafeMutableBufferPointer { buffer in
            crecital_render_gray(pointer, scale, Int32(width), Int32(height), buffer.baseAddress)
        }
        guard status == CAIRO_STATUS_SUCCESS else {
            let message = cairo_status_to_string(status).map { String(cString: $0) } ?? "cairo error \(status)"
            throw PDFError(.damaged, "page cannot be drawn: \(message)")
        }
        return PDFGrayImage(width: width, height: height, pixels: pixels, dotsPerInch: scale * 72)
    }
}

/// A page as 8-bit gray pixels, rows top to bottom with no padding.
public struct PDFGrayImage: Sendable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]
    /// Pixels per inch of the page as drawn.
    public var dotsPerInch: Double
}
