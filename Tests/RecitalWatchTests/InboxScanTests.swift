import Foundation
import RecitalTestSupport
import RecitalWatch
import Testing

@Suite("Scanning an inbox's tree")
struct InboxScanTests {
    @Test(
        "books are found at every depth by extension; ignored names and Recital's own folder are passed over with a reason"
    )
    func tree() throws {
        let inbox = try Fixtures.temporaryDirectory()
        let files = [
            "top.epub", "sf/Deep Space.PDF", "sf/older/classic.epub", "sf/notes.txt", "sf/.hidden.epub",
            "sf/download.epub.part", "@eaDir/thumb.epub", "audiobooks/Author - Title.m4b", "audiobooks/x.epub",
        ]
        for file in files {
            let url = inbox.appendingPathComponent(file)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try Data("x".utf8).write(to: url)
        }
        let scan = InboxScan.scan(inbox.path, rules: IgnoreRules(ownFolders: ["audiobooks"]))
        #expect(scan.books.map(\.relativePath) == ["sf/Deep Space.PDF", "sf/older/classic.epub", "top.epub"])
        #expect(scan.books.allSatisfy { $0.stamp.size == 1 })
        #expect(Set(scan.folders.map { String($0.dropFirst(inbox.path.count)) }) == ["", "/sf", "/sf/older"])
        let ignored = Dictionary(
            uniqueKeysWithValues: scan.ignored.map { (String($0.path.dropFirst(inbox.path.count + 1)), $0.reason) }
        )
        #expect(ignored["sf/.hidden.epub"] == "a hidden file")
        #expect(ignored["sf/download.epub.part"] == "a file still being written (.part)")
        #expect(ignored["@eaDir"] == "in a system folder (@eaDir)")
        #expect(ignored["audiobooks"] == "inside Recital's own folder audiobooks")
        #expect(ignored["sf/notes.txt"] == nil)
    }

    @Test(
        "network and FUSE filesystems are polled, found from the mount table; the test machine's temporary folder is local"
    )
    func sources() throws {
        #expect(FolderSource.kind(fileSystem: "nfs4") == .remote("nfs4"))
        #expect(FolderSource.kind(fileSystem: "cifs") == .remote("cifs"))
        #expect(FolderSource.kind(fileSystem: "fuse.sshfs") == .remote("fuse.sshfs"))
        #expect(FolderSource.kind(fileSystem: "ext4") == .local)
        // A mount table with a share inside a local disk: the deepest mount decides.
        let table = try Fixtures.temporaryDirectory().appendingPathComponent("mounts")
        try Data(
            """
            /dev/sda1 / ext4 rw 0 0
            //nas/books /srv/My\\040Books cifs rw 0 0
            nas:/export /srv/My\\040Books/nfs nfs4 rw 0 0
            """.utf8
        ).write(to: table)
        #expect(FolderSource.of("/srv/My Books/sf", mounts: table.path) == .remote("cifs"))
        #expect(FolderSource.of("/srv/My Books/nfs/x", mounts: table.path) == .remote("nfs4"))
        #expect(FolderSource.of("/srv/other", mounts: table.path) == .local)
        #expect(FolderSource.of(try Fixtures.temporaryDirectory().path) == .local)
    }
}
