import Foundation
import RecitalModel
import RecitalPipeline
import RecitalTestSupport
import RecitalWatch
import Testing

/// The watcher's decisions, driven by hand: events handed in, a clock moved by the test, real files
/// and a real job table; no sleeps and no workers.
@Suite("A watcher deciding what arrived in its inbox")
struct WatcherTests {
    @Test("a book that keeps growing is queued only once it has been quiet for the settle time")
    func slowGrowth() async throws {
        let h = try WatchHarness()
        try await h.watcher.claimInboxes()
        let book = WatchHarness.book
        try h.write("grow.epub", book.prefix(book.count / 3))
        try await h.watcher.handle([h.event("grow.epub", .created)])
        #expect(try await h.state("grow.epub") == .settling)
        try await h.tick(after: 10)
        try h.write("grow.epub", book.prefix(book.count * 2 / 3))
        try await h.tick(after: 10)  // 20 s after it was first seen, 10 s after it last grew
        #expect(try await h.state("grow.epub") == .settling)
        try h.write("grow.epub", book)
        try await h.watcher.handle([h.event("grow.epub")])
        try await h.tick(after: 14)
        #expect(try await h.state("grow.epub") == .settling)
        try await h.tick(after: 1.5)
        let row = try #require(try await h.row("grow.epub"))
        #expect(row.state == .queued)
        #expect(row.size == Int64(book.count))
        #expect(row.book != nil)
    }

    @Test("Syncthing's temporary name is passed over; its rename into place settles in 3 s despite a year-old mtime")
    func renameIntoPlace() async throws {
        let h = try WatchHarness()
        try await h.watcher.claimInboxes()
        try h.write(".syncthing.novel.epub.tmp", WatchHarness.book)
        try await h.watcher.handle([h.event(".syncthing.novel.epub.tmp")])
        #expect(try await h.row(".syncthing.novel.epub.tmp") == nil)
        let old = Date().addingTimeInterval(-365 * 86400)
        try FileManager.default.setAttributes(
            [.modificationDate: old],
            ofItemAtPath: h.path(".syncthing.novel.epub.tmp")
        )
        try FileManager.default.moveItem(atPath: h.path(".syncthing.novel.epub.tmp"), toPath: h.path("novel.epub"))
        try await h.watcher.handle([h.event("novel.epub", .movedIn)])
        try await h.tick(after: 2.5)
        #expect(try await h.state("novel.epub") == .settling)
        try await h.tick(after: 1)
        #expect(try await h.state("novel.epub") == .queued)
    }

    @Test(
        "a book that lands in a new folder after the scan listed it and before its watch began, which no event tells of, is still found"
    )
    func arrivalBeforeWatch() async throws {
        let h = try WatchHarness()
        try await h.watcher.claimInboxes()
        try h.write("drop/first.epub", WatchHarness.book)
        let late = h.path("drop/late.epub")
        h.events.onWatch.withLock {
            $0 = { folder in
                guard folder.hasSuffix("/drop"), !FileManager.default.fileExists(atPath: late) else { return }
                FileManager.default.createFile(atPath: late, contents: WatchHarness.otherBook)
            }
        }
        try await h.watcher.handle([h.event("drop", .created, folder: true)])
        #expect(h.events.watched.contains(h.path("drop")))
        #expect(try await h.state("drop/first.epub") == .settling)
        #expect(try await h.state("drop/late.epub") == .settling)
        try await h.tick(after: 15.5)
        #expect(try await h.state("drop/late.epub") == .queued)
    }

    @Test("a hard link's lone create event is enough to find the book")
    func hardLink() async throws {
        let h = try WatchHarness()
        try await h.watcher.claimInboxes()
        let source = h.root.appendingPathComponent("elsewhere.epub").path
        try WatchHarness.book.write(to: URL(fileURLWithPath: source))
        try FileManager.default.linkItem(atPath: source, toPath: h.path("linked.epub"))
        try await h.watcher.handle([h.event("linked.epub", .created)])
        try await h.tick(after: 15)
        #expect(try await h.state("linked.epub") == .queued)
    }

    @Test(
        "the same bytes under another name are a duplicate; with another voice they are a new book; in another format only an encode is added"
    )
    func duplicates() async throws {
        let h = try WatchHarness()
        try h.write("1 first.epub", WatchHarness.book)
        try h.write("again/second copy.epub", WatchHarness.book)
        try h.write("espeak-fr/recital-folder.json", json: #"{"voice": "piper"}"#)
        try h.write("espeak-fr/third.epub", WatchHarness.book)
        try h.write("as-mp3/recital-folder.json", json: #"{"format": "mp3"}"#)
        try h.write("as-mp3/fourth.epub", WatchHarness.book)
        try await h.watcher.claimInboxes()
        try await h.tick(after: 15)
        let first = try #require(try await h.row("1 first.epub"))
        #expect(first.state == .queued)
        let second = try #require(try await h.row("again/second copy.epub"))
        #expect(second.state == .duplicate)
        #expect(second.book == first.book)
        #expect(second.reason?.contains("book \(first.book!)") == true)
        let third = try #require(try await h.row("espeak-fr/third.epub"))
        #expect(third.state == .queued)
        #expect(third.book != first.book)
        let fourth = try #require(try await h.row("as-mp3/fourth.epub"))
        #expect(fourth.state == .queued)
        #expect(fourth.book == first.book)
        #expect(fourth.reason?.contains("mp3") == true)
        #expect(try await h.settings(of: "as-mp3/fourth.epub")?.encode.formats == [.mp3])
        #expect(try await h.pipeline.status().count == 2)
    }

    @Test("a truncated book is still arriving while young, fails with a report once old, and a good copy is queued")
    func truncatedBook() async throws {
        let h = try WatchHarness()
        try await h.watcher.claimInboxes()
        let book = WatchHarness.book
        try h.write("sf/cut.epub", book.prefix(book.count / 2))
        try await h.watcher.handle([h.event("sf/cut.epub")])
        try await h.tick(after: 15)
        #expect(try await h.state("sf/cut.epub") == .settling)
        #expect(h.lines.text.contains("still arriving"))
        try await h.tick(after: 31 * 60)
        let failed = try #require(try await h.row("sf/cut.epub"))
        #expect(failed.state == .failed)
        let report = "\(h.output)/_failed/sf/cut.epub.error"
        let text = try String(contentsOfFile: report + ".txt", encoding: .utf8)
        let firstLine = String(text.split(separator: "\n").first ?? "")
        #expect(firstLine.hasPrefix("\(h.path("sf/cut.epub")): the EPUB's ZIP directory does not read yet"))
        #expect(firstLine.hasSuffix("it has not changed for 30 minutes"))
        #expect(text.contains("retry:"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report + ".json")))
        #expect((json as? [String: Any])?["reason"] as? String == failed.reason)
        // The same failed file is not looked at again; a good copy in its place is queued.
        try await h.tick(after: 60)
        #expect(try await h.state("sf/cut.epub") == .failed)
        try h.write("sf/cut.epub", book)
        try await h.watcher.handle([h.event("sf/cut.epub")])
        try await h.tick(after: 15)
        #expect(try await h.state("sf/cut.epub") == .queued)
    }

    @Test("a file that is not a book fails at once with its reason; an unreadable book fails with the ingest error")
    func notBooks() async throws {
        let h = try WatchHarness()
        try h.write("notes.epub", Data("these are my notes, not a book".utf8))
        try h.write("broken.epub", try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("bad/drm.epub"))))
        try await h.watcher.claimInboxes()
        try await h.tick(after: 15)
        #expect(try await h.row("notes.epub")?.reason == Completeness.notABook)
        let broken = try #require(try await h.row("broken.epub"))
        #expect(broken.state == .failed)
        #expect(broken.contentHash != nil)
        let text = try String(contentsOfFile: "\(h.output)/_failed/broken.epub.error.txt", encoding: .utf8)
        #expect(text.hasPrefix("\(h.path("broken.epub")): \(broken.reason ?? "?")"))
        #expect(try await h.pipeline.status().isEmpty)
    }

    @Test("Recital's own folders inside the inbox and the ignore rules are passed over")
    func ignored() async throws {
        let h = try WatchHarness {
            $0.output = "\($0.inboxes[0])/audiobooks"
            $0.ignore = ["*draft*"]
        }
        for name in [
            "audiobooks/_failed/x.epub", "audiobooks/_done/y.epub", ".hidden.epub", "._mac.epub", "z.epub.part",
            "~$lock.epub", "@eaDir/thumb.epub", "#recycle/old.epub", "my draft.epub", "real.epub",
        ] {
            try h.write(name, WatchHarness.book)
        }
        try await h.watcher.claimInboxes()
        try await h.tick(after: 15)
        let rows = try await h.pipeline.watchedFiles()
        #expect(rows.map(\.relativePath) == ["real.epub"])
    }

    @Test("a queue overflow rescans the inbox: the books whose events were lost are found")
    func overflow() async throws {
        let h = try WatchHarness()
        try await h.watcher.claimInboxes()
        try h.write("lost/one.epub", WatchHarness.book)
        #expect(try await h.row("lost/one.epub") == nil)
        try await h.watcher.handle([FolderEvent(kind: .overflow, folder: "", name: "", isDirectory: false)])
        #expect(try await h.state("lost/one.epub") == .settling)
        #expect(h.events.watched.contains(h.path("lost")))
        try await h.tick(after: 15)
        #expect(try await h.state("lost/one.epub") == .queued)
    }

    @Test(
        "a folder past the inotify watch limit is polled, the log names the sysctl, its books are found, and it is watched once the limit is raised"
    )
    func watchLimit() async throws {
        let h = try WatchHarness(events: ScriptedEvents(limit: 1)) { $0.pollInterval = 30 }
        try FileManager.default.createDirectory(atPath: h.path("deep"), withIntermediateDirectories: true)
        try await h.watcher.claimInboxes()
        let status = try #require(try await h.pipeline.watchStatus().first)
        let deep = try #require(status.folders.first { $0.path == h.path("deep") })
        #expect(deep.mode == .polling)
        #expect(deep.reason?.contains("fs.inotify.max_user_watches") == true)
        #expect(h.lines.text.contains("polling \(h.path("deep")) every 30 s"))
        try h.write("deep/quiet.epub", WatchHarness.book)
        try await h.tick(after: 10)
        #expect(try await h.row("deep/quiet.epub") == nil)
        try await h.tick(after: 20)  // the poll
        #expect(try await h.state("deep/quiet.epub") == .settling)
        try await h.tick(after: 15)
        #expect(try await h.state("deep/quiet.epub") == .queued)
        h.events.limit = 10
        try await h.tick(after: 30)  // the next poll tries inotify again
        let watched = try #require(
            try await h.pipeline.watchStatus().first?.folders.first { $0.path == h.path("deep") }
        )
        #expect(watched.mode == .inotify)
        #expect(h.lines.text.contains("watching \(h.path("deep")) with inotify again"))
    }

    @Test("a folder on a network filesystem is polled and settles for 60 s")
    func networkFolder() async throws {
        let mounts = try Fixtures.temporaryDirectory().appendingPathComponent("mounts").path
        let h = try WatchHarness { options in
            options.mounts = mounts
        }
        try "/dev/sda1 / ext4 rw 0 0\nnas:/books \(h.inbox) nfs4 rw 0 0\n".write(
            toFile: mounts,
            atomically: true,
            encoding: .utf8
        )
        try h.write("shared.epub", WatchHarness.book)
        try await h.watcher.claimInboxes()
        let folder = try #require(try await h.pipeline.watchStatus().first?.folders.first)
        #expect(folder.mode == .polling)
        #expect(folder.reason?.contains("nfs4") == true)
        #expect(h.events.watched.isEmpty)
        try await h.tick(after: 30)
        #expect(try await h.state("shared.epub") == .settling)
        try await h.tick(after: 30)
        #expect(try await h.state("shared.epub") == .queued)
    }

    @Test("folder settings are inherited and overridden deeper; a broken one holds its folder until it is fixed")
    func folderSettings() async throws {
        let h = try WatchHarness()
        try h.write("kids/recital-folder.json", json: #"{"format": "mp3", "priority": 1, "output": "Children"}"#)
        try h.write("kids/picture/recital-folder.json", json: #"{"format": ["flac"]}"#)
        try h.write("kids/picture/a.epub", WatchHarness.book)
        try h.write("kids/b.epub", WatchHarness.otherBook)
        try h.write("odd/recital-folder.json", json: #"{"formt": "mp3"}"#)
        try h.write("odd/c.epub", try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("scene-breaks.epub"))))
        try await h.watcher.claimInboxes()
        try await h.tick(after: 15)
        let pictureRow = try await h.row("kids/picture/a.epub")
        #expect(pictureRow?.state == .queued, "\(String(describing: pictureRow))")
        let picture = try #require(try await h.settings(of: "kids/picture/a.epub"))
        #expect(picture.encode.formats == [.flac])
        #expect(picture.outputDirectory == "\(h.output)/Children/picture")
        let kids = try #require(try await h.settings(of: "kids/b.epub"))
        #expect(kids.encode.formats == [.mp3])
        #expect(kids.outputDirectory == "\(h.output)/Children")
        let held = try #require(try await h.row("odd/c.epub"))
        #expect(held.state == .held)
        #expect(
            held.reason
                == "\(h.path("odd/recital-folder.json")): unknown key \"formt\" (known: voice, format, output, priority, after)"
        )
        // Fixed while the watcher runs: the event on the settings file has it look again at once.
        try h.write("odd/late/recital-folder.json", json: #"{"format": "flac"}"#)
        try h.write(
            "odd/late/d.epub",
            try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("epub3-fragments.epub")))
        )
        try await h.watcher.handle([h.event("odd/late/d.epub")])
        try await h.tick(after: 15)
        #expect(try await h.state("odd/late/d.epub") == .held)
        try h.write("odd/recital-folder.json", json: #"{"priority": 3}"#)
        try await h.watcher.handle([h.event("odd/recital-folder.json")])
        try await h.tick(after: 0)
        #expect(try await h.state("odd/late/d.epub") == .queued)
        #expect(try await h.settings(of: "odd/late/d.epub")?.encode.formats == [.flac])
        // Fixed while no watcher runs: the next one takes the held book.
        try h.write("odd/recital-folder.json", json: #"{"formt": "mp3"}"#)
        try await h.watcher.releaseInboxes()
        try h.write("odd/recital-folder.json", json: #"{"format": "mp3"}"#)
        let next = try h.second()
        try await next.watcher.claimInboxes()
        try await next.tick(after: 15)
        #expect(try await h.state("odd/c.epub") == .queued)
        #expect(try await h.settings(of: "odd/c.epub")?.outputDirectory == "\(h.output)/odd")
    }

    @Test("a restarted watcher reads no unchanged file again and queues nothing twice")
    func restart() async throws {
        let h = try WatchHarness()
        try h.write("one.epub", WatchHarness.book)
        try h.write("two.epub", WatchHarness.otherBook)
        try await h.watcher.claimInboxes()
        try await h.tick(after: 15)
        let before = try await h.pipeline.watchedFiles()
        #expect(before.map(\.state) == [.queued, .queued])
        try await h.watcher.releaseInboxes()
        // A new process on the same table: the rows, not memory, say these were queued.
        let again = try h.second()
        try await again.watcher.claimInboxes()
        try await again.tick(after: 60)
        #expect(try await again.pipeline.watchedFiles() == before)
        #expect(try await again.pipeline.status().count == 2)
    }

    @Test("one watcher scans an inbox at a time; the other takes it over once it is given back")
    func oneScannerPerInbox() async throws {
        let h = try WatchHarness()
        let other = try h.second()
        try await h.watcher.claimInboxes()
        // The lease lasts 30 s of the table's real clock; the first claim's scan on a loaded machine
        // must not use it up before the second watcher asks, so it is renewed right before.
        #expect(try await h.pipeline.claimInbox(h.inbox))
        try await other.watcher.claimInboxes()
        try h.write("new.epub", WatchHarness.book)
        try await other.watcher.scan(other.inbox)
        #expect(try await h.row("new.epub") == nil)
        #expect(other.lines.text.contains("scanned by another watcher"))
        try await h.watcher.releaseInboxes()
        try await other.watcher.claimInboxes()
        #expect(try await h.state("new.epub") == .settling)
        #expect(try await other.pipeline.watchStatus().first?.owner == other.pipeline.owner)
    }
}

@Suite("What a watcher does once a book is queued")
struct WatcherAfterQueueingTests {
    @Test("--after move puts the source under the done folder by its relative path; delete removes it; keep keeps it")
    func afterQueueing() async throws {
        let h = try WatchHarness()
        try h.write("recital-folder.json", json: #"{"after": "move"}"#)
        try h.write("sf/moved.epub", WatchHarness.book)
        try h.write("gone/recital-folder.json", json: #"{"after": "delete"}"#)
        try h.write("gone/deleted.epub", WatchHarness.otherBook)
        try h.write("stay/recital-folder.json", json: #"{"after": "keep"}"#)
        try h.write("stay/kept.epub", try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("scene-breaks.epub"))))
        try await h.watcher.claimInboxes()
        try await h.tick(after: 15)
        #expect(try await h.pipeline.watchedFiles().map(\.state) == [.queued, .queued, .queued])
        #expect(!FileManager.default.fileExists(atPath: h.path("sf/moved.epub")))
        #expect(FileManager.default.contents(atPath: "\(h.output)/_done/sf/moved.epub") == WatchHarness.book)
        #expect(!FileManager.default.fileExists(atPath: h.path("gone/deleted.epub")))
        #expect(FileManager.default.fileExists(atPath: h.path("stay/kept.epub")))
        // The source going away does not undo its row: the book is queued.
        try await h.watcher.handle([h.event("sf/moved.epub", .removed)])
        #expect(try await h.state("sf/moved.epub") == .queued)
    }

    @Test("a book that fails in the job table gets a report naming the retry; once retried it is queued again")
    func failedInTheJobTable() async throws {
        let server = FakeTTSServer()
        try await server.serve { url in
            let h = try WatchHarness { options in
                options.settings.voice = VoiceProfile(
                    name: "fake",
                    backend: .openai,
                    url: url,
                    voice: "v",
                    format: "wav"
                )
            }
            try h.write("refused.epub", WatchHarness.book)
            try await h.watcher.claimInboxes()
            try await h.tick(after: 15)
            let book = try #require(try await h.row("refused.epub")?.book)
            // The server refuses the book's first request outright: a permanent failure.
            server.fail(next: [.status(400, body: #"{"error": "voice v does not exist"}"#)])
            _ = try await h.pipeline.run(books: [book])
            try await h.watcher.deliver()
            let failed = try #require(try await h.row("refused.epub"))
            #expect(failed.state == .failed)
            #expect(failed.reason?.contains("voice v does not exist") == true)
            let report = try String(contentsOfFile: "\(h.output)/_failed/refused.epub.error.txt", encoding: .utf8)
            #expect(report.contains("retry:    recital retry \(book)"))
            #expect(report.contains("\"voice\""))
            _ = try await h.pipeline.retry(book)
            try await h.watcher.deliver()
            #expect(try await h.state("refused.epub") == .queued)
            _ = try await h.pipeline.run(books: [book])
            try await h.watcher.deliver()
            #expect(try await h.state("refused.epub") == .delivered)
            #expect(!FileManager.default.fileExists(atPath: "\(h.output)/_failed/refused.epub.error.txt"))
        }
    }
}
