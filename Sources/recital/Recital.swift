import ArgumentParser

@main
struct Recital: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recital",
        abstract: "Turns EPUB and PDF books into audiobooks through any HTTP text-to-speech server.",
        discussion: """
            Exit codes: 0 done; 1 failed; 64 usage; 65 unreadable input; 75 stopped by a transient \
            failure that `resume` can continue; 130 interrupted with state saved.
            """,
        version: "0.1.0",
        subcommands: [Inspect.self]
    )
}
