import Foundation
import RecitalTestSupport
import RecitalZip
import Testing

@Suite("ZIP archives")
struct ZipArchiveTests {
    private func archive(_ entries: [(String, [UInt8])]) throws -> String {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("a.zip").path
        let writer = try ZipWriter(path: path)
        for (name, bytes) in entries { try writer.add(name, bytes, stored: name == "mimetype") }
        try writer.finish()
        return path
    }

    @Test("entries written are read back in order, byte for byte")
    func roundTrip() throws {
        let text = Array(String(repeating: "chapter text ", count: 1000).utf8)
        let path = try archive([("mimetype", Array("application/epub+zip".utf8)), ("OEBPS/ü.xhtml", text)])
        let zip = try ZipArchive(path: path)
        #expect(zip.entryNames == ["mimetype", "OEBPS/ü.xhtml"])
        #expect(try zip.read("OEBPS/ü.xhtml", limit: 1 << 20) == text)
        #expect(zip.declaredSize(of: "mimetype") == 20)
    }

    @Test("an entry larger than the limit is refused, whatever it declares")
    func limit() throws {
        let path = try archive([("big", [UInt8](repeating: 32, count: 100_000))])
        let zip = try ZipArchive(path: path)
        #expect(throws: ZipError.self) { try zip.read("big", limit: 50_000) }
        do { _ = try zip.read("big", limit: 50_000) } catch { #expect(error.code == .tooLarge) }
    }

    @Test("names that climb out of the archive make it unreadable", arguments: ["../evil", "a/../../b", "/etc/x"])
    func unsafeNames(name: String) throws {
        let path = try archive([(name, [1, 2, 3])])
        do {
            _ = try ZipArchive(path: path)
            Issue.record("opened an archive with entry \(name)")
        } catch {
            #expect(error.code == .unsafeName)
        }
    }

    @Test("bytes that are not a ZIP are reported as such")
    func notAZip() throws {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("x.zip").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 7, count: 300)))
        #expect(throws: ZipError.self) { try ZipArchive(path: path) }
        do { _ = try ZipArchive(path: path) } catch { #expect(error.code == .notAZip) }
    }

    @Test("a missing entry is an error, not empty data")
    func missing() throws {
        let zip = try ZipArchive(path: try archive([("a", [1])]))
        #expect(throws: ZipError.self) { try zip.read("b", limit: 10) }
    }
}
