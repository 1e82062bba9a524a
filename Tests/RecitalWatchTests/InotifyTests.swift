import Foundation
import RecitalTestSupport
import RecitalWatch
import Testing

/// Real inotify on real folders: what a writer, a rename into place and a hard link look like.
@Suite("Folder events from the kernel")
struct InotifyTests {
    /// Events until `condition` holds for what has arrived, or 10 s pass.
    func events(_ inotify: Inotify, until condition: ([FolderEvent]) -> Bool) -> [FolderEvent] {
        var all: [FolderEvent] = []
        let end = Date().addingTimeInterval(10)
        while !condition(all), Date() < end { all += inotify.next(timeout: 0.2) }
        return all
    }

    @Test("a written file, a rename into place, a hard link, a new folder and a removal are each reported")
    func arrivals() throws {
        let inbox = try Fixtures.temporaryDirectory()
        let elsewhere = try Fixtures.temporaryDirectory()
        let inotify = try Inotify()
        try inotify.watch(inbox.path)

        // A writer closes the file: create, then closed after writing.
        try Data("%PDF-1.4".utf8).write(to: inbox.appendingPathComponent("written.pdf"))
        let written = events(inotify) { $0.contains { $0.kind == .closedAfterWriting } }
        #expect(written.map(\.kind) == [.created, .closedAfterWriting])
        #expect(written.first?.path == inbox.appendingPathComponent("written.pdf").path)

        // Syncthing's way: a temporary name, renamed into place.
        let temporary = elsewhere.appendingPathComponent("book.epub")
        try Data("PK".utf8).write(to: temporary)
        try FileManager.default.moveItem(at: temporary, to: inbox.appendingPathComponent("moved.epub"))
        let moved = events(inotify) { $0.contains { $0.kind == .movedIn } }
        #expect(moved.map(\.kind) == [.movedIn] && moved.first?.name == "moved.epub")

        // An importer's hard link brings a create event and nothing else.
        try FileManager.default.linkItem(
            atPath: inbox.appendingPathComponent("written.pdf").path,
            toPath: inbox.appendingPathComponent("linked.pdf").path
        )
        let linked = events(inotify) { !$0.isEmpty }
        #expect(linked.map(\.kind) == [.created] && linked.first?.name == "linked.pdf")

        try FileManager.default.createDirectory(
            at: inbox.appendingPathComponent("sf"),
            withIntermediateDirectories: false
        )
        let folder = events(inotify) { !$0.isEmpty }
        #expect(folder.first?.kind == .created && folder.first?.isDirectory == true)

        try FileManager.default.removeItem(at: inbox.appendingPathComponent("linked.pdf"))
        let removed = events(inotify) { !$0.isEmpty }
        #expect(removed.map(\.kind) == [.removed])
    }

    @Test("a folder that does not exist cannot be watched, and says why")
    func missingFolder() throws {
        let inotify = try Inotify()
        #expect(throws: InotifyError.self) { try inotify.watch("/no/such/folder") }
    }
}
