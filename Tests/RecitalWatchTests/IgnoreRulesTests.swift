import RecitalWatch
import Testing

@Suite("Which names under an inbox are never books")
struct IgnoreRulesTests {
    static let rules = IgnoreRules(
        patterns: ["drafts/*", "*.bak.pdf"],
        ownFolders: ["audiobooks", "audiobooks/_failed"]
    )

    @Test(
        "temporary, hidden, system and own names are ignored; books are not",
        arguments: [
            (".syncthing.novel.epub.tmp", false, "a hidden file"),
            ("sf/._novel.epub", false, "a hidden file"),
            (".stversions/novel.epub", false, "in a hidden folder"),
            (".Trash-1000/files/novel.epub", false, "in a hidden folder"),
            ("~$report.pdf", false, "an office program's lock file"),
            ("novel.epub.part", false, "a file still being written (.part)"),
            ("novel.epub.crdownload", false, "a file still being written (.crdownload)"),
            ("novel.epub.!qB", false, "a file still being written (.!qb)"),
            ("novel.epub.aria2", false, "a file still being written (.aria2)"),
            ("@eaDir/novel.epub", false, "in a system folder (@eaDir)"),
            ("#recycle/novel.epub", false, "in a system folder (#recycle)"),
            ("$RECYCLE.BIN/novel.epub", false, "in a system folder ($RECYCLE.BIN)"),
            ("lost+found/novel.epub", false, "in a system folder (lost+found)"),
            ("__MACOSX", true, "in a system folder (__MACOSX)"),
            ("audiobooks/Author - Title.m4b", false, "inside Recital's own folder audiobooks"),
            ("audiobooks/_failed/sf/x.epub.error.txt", false, "inside Recital's own folder audiobooks"),
            ("drafts/novel.epub", false, "matches --ignore drafts/*"),
            ("sf/report.bak.pdf", false, "matches --ignore *.bak.pdf"),
            ("sf/novel.epub", false, nil),
            ("sf/A. Writer - Short Stories.pdf", false, nil),
            ("sf/drafts/novel.epub", false, nil),
            ("recycled thoughts.epub", false, nil),
            ("sf", true, nil),
        ] as [(String, Bool, String?)]
    )
    func rule(path: String, isDirectory: Bool, reason: String?) {
        #expect(Self.rules.reason(for: path, isDirectory: isDirectory) == reason)
    }
}
