internal import Logging
public import ServiceLifecycle
internal import Synchronization
public import UnixSignals

/// One piece of pipeline work (a conversion, a resume, an encode) run as a service: when the group
/// shuts down gracefully, the work is cancelled; its workers give their held tasks back without
/// using an attempt, and it returns how far it got.
public final class PipelineService<Value: Sendable>: Service, Sendable {
    private let work: @Sendable () async throws -> Value
    private let outcome = Mutex<Result<Value, any Error>?>(nil)

    public init(_ work: @escaping @Sendable () async throws -> Value) { self.work = work }

    public func run() async throws {
        let work = self.work
        let result: Result<Value, any Error>
        do {
            result = .success(try await cancelWhenGracefulShutdown { try await work() })
        } catch {
            result = .failure(error)
        }
        outcome.withLock { $0 = result }
    }

    /// What the work returned or threw, once it has run.
    public var result: Result<Value, any Error>? { outcome.withLock { $0 } }
}

extension Pipeline {
    /// Runs `work` as a ``PipelineService`` in a `ServiceGroup` that shuts down gracefully on
    /// `signals` (SIGINT and SIGTERM): the work is cancelled, gives back what it holds and returns
    /// (a run returns ``SynthesisOutcome/interrupted``).
    public static func untilSignalled<T: Sendable>(
        _ signals: [UnixSignal] = [.sigint, .sigterm],
        _ work: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let service = PipelineService(work)
        var logger = Logger(label: "recital")
        logger.logLevel = .critical
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: signals,
                logger: logger
            )
        )
        try await group.run()
        guard let result = service.result else { throw CancellationError() }
        return try result.get()
    }
}
