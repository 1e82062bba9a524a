import Foundation

/// Where output goes: results to stdout, everything else to stderr.
enum Console {
    static func output(_ text: String) {
        FileHandle.standardOutput.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data(("recital: " + text + "\n").utf8))
    }
}
