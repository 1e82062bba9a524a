import ArgumentParser

/// The exit codes other tools rely on (DESIGN.md, "Interfaces").
extension ExitCode {
    /// The input could not be read (sysexits EX_DATAERR).
    static let unreadableInput = ExitCode(65)
    /// Stopped by a transient failure; `recital resume` carries on (sysexits EX_TEMPFAIL).
    static let transientFailure = ExitCode(75)
    /// Interrupted by SIGINT after saving state.
    static let interrupted = ExitCode(130)
}
