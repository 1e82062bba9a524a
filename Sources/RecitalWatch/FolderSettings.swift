public import Foundation
public import RecitalModel

/// What to do with a book once it is queued: keep it (the default: in synced folders a delete
/// travels to every device), move it to the done folder, or delete it.
public enum AfterQueued: String, Sendable, Codable, CaseIterable {
    case keep
    case move
    case delete
}

/// A `recital-folder.json`: convert options for the books of its folder and the folders below it.
/// Deeper files override shallower ones, key by key. Unknown keys are refused, so a misspelt key
/// holds the folder instead of being ignored.
public struct FolderSettings: Sendable, Equatable {
    public static let fileName = "recital-folder.json"

    /// A voice profile name or file.
    public var voice: String?
    public var formats: [AudioContainer]?
    /// Where the books of this folder go, relative to the output folder (instead of the folder's
    /// own relative path).
    public var output: String?
    public var priority: Int?
    public var after: AfterQueued?
    /// The folder (relative to the inbox) whose file set `output`: books below it keep their path
    /// relative to it.
    public var outputBase: String?
    /// The file that named `voice` (for a voice that cannot be found).
    public var voiceFile: String?

    public init(
        voice: String? = nil,
        formats: [AudioContainer]? = nil,
        output: String? = nil,
        priority: Int? = nil,
        after: AfterQueued? = nil
    ) {
        self.voice = voice
        self.formats = formats
        self.output = output
        self.priority = priority
        self.after = after
    }

    /// Reads one file. Returns the problem as one line (`file: reason`).
    public static func parse(_ data: Data, file: String) -> Result<FolderSettings, FolderSettingsError> {
        func fail(_ reason: String) -> Result<FolderSettings, FolderSettingsError> {
            .failure(FolderSettingsError(file: file, reason: reason))
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            return fail("not valid JSON (\((error as NSError).userInfo[NSDebugDescriptionErrorKey] ?? error))")
        }
        guard let fields = object as? [String: Any] else { return fail("must be a JSON object") }
        var settings = FolderSettings()
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "voice":
                guard let name = value as? String, !name.isEmpty else {
                    return fail("\"voice\" must be a profile name")
                }
                settings.voice = name
            case "format":
                let names: [String]
                if let text = value as? String {
                    names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                } else if let list = value as? [String] {
                    names = list
                } else {
                    return fail("\"format\" must be \"m4b\", \"mp3\", \"flac\" or a list of them")
                }
                var formats: [AudioContainer] = []
                for name in names {
                    guard let format = AudioContainer(rawValue: name.lowercased()) else {
                        return fail("unknown format \"\(name)\" (use m4b, mp3, flac)")
                    }
                    formats.append(format)
                }
                guard !formats.isEmpty else { return fail("\"format\" names no format") }
                settings.formats = formats
            case "output":
                guard let folder = value as? String, !folder.isEmpty, !folder.hasPrefix("/"),
                    !folder.split(separator: "/").contains("..")
                else { return fail("\"output\" must be a folder inside the output folder (no /, no ..)") }
                settings.output = folder
            case "priority":
                guard let number = value as? Int, (1...4).contains(number) else {
                    return fail("\"priority\" must be 1 to 4")
                }
                settings.priority = number
            case "after":
                guard let text = value as? String, let after = AfterQueued(rawValue: text) else {
                    return fail("\"after\" must be keep, move or delete")
                }
                settings.after = after
            default:
                return fail("unknown key \"\(key)\" (known: voice, format, output, priority, after)")
            }
        }
        return .success(settings)
    }

    /// This file's choices over `outer`'s (`self` is the deeper folder's, at `folder`).
    func over(_ outer: FolderSettings, folder: String, file: String) -> FolderSettings {
        var merged = outer
        if let voice {
            merged.voice = voice
            merged.voiceFile = file
        }
        if let formats { merged.formats = formats }
        if let output {
            merged.output = output
            merged.outputBase = folder
        }
        if let priority { merged.priority = priority }
        if let after { merged.after = after }
        return merged
    }

    /// The settings that apply to a book at `relativePath` under `inbox`: every
    /// `recital-folder.json` from the inbox down to the book's folder, deeper ones winning.
    /// - Returns: the merged settings, or the first file that does not parse (the folder is held).
    public static func resolve(
        for relativePath: String,
        inbox: String
    ) -> Result<FolderSettings, FolderSettingsError> {
        var folders = [""]
        let parts = relativePath.split(separator: "/").dropLast()
        for index in parts.indices { folders.append(parts[...index].joined(separator: "/")) }
        var merged = FolderSettings()
        for folder in folders {
            let file = folder.isEmpty ? "\(inbox)/\(fileName)" : "\(inbox)/\(folder)/\(fileName)"
            guard FileManager.default.fileExists(atPath: file) else { continue }
            guard let data = FileManager.default.contents(atPath: file) else {
                return .failure(FolderSettingsError(file: file, reason: "cannot be read"))
            }
            switch parse(data, file: file) {
            case .success(let settings): merged = settings.over(merged, folder: folder, file: file)
            case .failure(let error): return .failure(error)
            }
        }
        return .success(merged)
    }

    /// The folder, relative to the output folder, that a book at `relativePath` goes to.
    public func outputFolder(for relativePath: String) -> String {
        let folder = (relativePath as NSString).deletingLastPathComponent
        guard let output else { return folder }
        let base = outputBase ?? ""
        let below =
            base.isEmpty ? folder : (folder == base ? "" : String(folder.dropFirst(base.count + 1)))
        return below.isEmpty ? output : "\(output)/\(below)"
    }
}

/// A `recital-folder.json` that cannot be used: its folder's books wait until it is fixed.
public struct FolderSettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var reason: String
    public var description: String { "\(file): \(reason)" }
}
