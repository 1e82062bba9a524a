/// A book read from a file: metadata, cover, chapters with their segments, and what was noticed
/// along the way. A pure value: nothing in it refers back to the file.
public struct Book: Sendable, Codable, Equatable {
    /// The path the book was read from, as given.
    public var source: String
    public var format: BookFormat
    public var metadata: BookMetadata
    public var cover: Cover?
    public var chapters: [Chapter]
    public var diagnostics: [Diagnostic]

    public init(
        source: String,
        format: BookFormat,
        metadata: BookMetadata,
        cover: Cover?,
        chapters: [Chapter],
        diagnostics: [Diagnostic]
    ) {
        self.source = source
        self.format = format
        self.metadata = metadata
        self.cover = cover
        self.chapters = chapters
        self.diagnostics = diagnostics
    }

    /// Characters of chapter text in the whole book.
    public var characterCount: Int { chapters.reduce(0) { $0 + $1.characterCount } }
}

public enum BookFormat: String, Sendable, Codable, Equatable {
    case epub
    case pdf
}

/// Descriptive metadata, as the book states it. Missing values are nil, never placeholders.
public struct BookMetadata: Sendable, Codable, Equatable {
    public var title: String?
    public var authors: [String]
    /// Creators and contributors other than authors (translators, narrators, illustrators…).
    public var contributors: [Contributor]
    /// BCP 47 language tag, as declared.
    public var language: String?
    public var publisher: String?
    public var date: String?
    public var identifiers: [String]
    /// The ISBN among the identifiers, digits only (ISBN-13 or ISBN-10), when one is recognised.
    public var isbn: String?
    /// Plain text: any HTML in the source is stripped.
    public var description: String?
    public var subjects: [String]
    public var series: Series?

    public init(
        title: String? = nil,
        authors: [String] = [],
        contributors: [Contributor] = [],
        language: String? = nil,
        publisher: String? = nil,
        date: String? = nil,
        identifiers: [String] = [],
        isbn: String? = nil,
        description: String? = nil,
        subjects: [String] = [],
        series: Series? = nil
    ) {
        self.title = title
        self.authors = authors
        self.contributors = contributors
        self.language = language
        self.publisher = publisher
        self.date = date
        self.identifiers = identifiers
        self.isbn = isbn
        self.description = description
        self.subjects = subjects
        self.series = series
    }
}

public struct Contributor: Sendable, Codable, Equatable {
    public var name: String
    /// A MARC relator code such as `trl` (translator) or `nrt` (narrator), lower-cased.
    public var role: String

    public init(name: String, role: String) {
        self.name = name
        self.role = role
    }
}

public struct Series: Sendable, Codable, Equatable {
    public var name: String
    /// The book's position in the series as written ("3", "2.5").
    public var position: String?

    public init(name: String, position: String? = nil) {
        self.name = name
        self.position = position
    }
}

/// The cover image, as stored in the book.
public struct Cover: Sendable, Codable, Equatable {
    public var mediaType: String
    public var data: [UInt8]

    public init(mediaType: String, data: [UInt8]) {
        self.mediaType = mediaType
        self.data = data
    }
}
