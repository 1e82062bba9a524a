// swift-tools-version:6.1
import PackageDescription

// MARK: - Shared settings

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// Tests read better without import-per-member bookkeeping; they keep ExistentialAny.
let testSettings: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let grdb: Target.Dependency = .product(name: "GRDB", package: "GRDB.swift")
let httpClient: Target.Dependency = .product(name: "AsyncHTTPClient", package: "async-http-client")
let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioHTTP: Target.Dependency = .product(name: "NIOHTTP1", package: "swift-nio")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let httpTypes: Target.Dependency = .product(name: "HTTPTypes", package: "swift-http-types")

let package = Package(
    name: "Recital",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "recital", targets: ["recital"]),
        .library(name: "RecitalIngest", targets: ["RecitalIngest"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // MARK: - C libraries (one target each; only their wrapper imports them)
        .systemLibrary(name: "CRecitalXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "CRecitalZip", pkgConfig: "libzip", providers: [.apt(["libzip-dev"])]),
        .systemLibrary(name: "CRecitalPoppler", pkgConfig: "poppler-glib", providers: [.apt(["libpoppler-glib-dev"])]),
        // espeak-ng and FFmpeg are opened on first use, not linked (see their headers), so they are C
        // targets with a loader each.
        .target(name: "CRecitalEspeak"),
        .target(name: "CRecitalFFmpeg"),
        .target(name: "CRecitalTesseract"),

        // MARK: - Safe wrappers over the C libraries
        .target(name: "RecitalXML", dependencies: ["CRecitalXML2"], swiftSettings: strictSettings),
        .target(name: "RecitalZip", dependencies: ["CRecitalZip"], swiftSettings: strictSettings),
        .target(name: "RecitalPDF", dependencies: ["CRecitalPoppler"], swiftSettings: strictSettings),
        .target(name: "RecitalMedia", dependencies: ["CRecitalFFmpeg", "RecitalModel"], swiftSettings: strictSettings),
        .target(name: "RecitalEspeak", dependencies: ["CRecitalEspeak"], swiftSettings: strictSettings),
        .target(name: "RecitalOCR", dependencies: ["CRecitalTesseract"], swiftSettings: strictSettings),

        // MARK: - Core
        .target(
            name: "RecitalModel",
            // PackedPCM's per-sample codec runs 20x slower unoptimised, and every encode on PostgreSQL
            // unpacks each segment twice: optimised in every configuration, as RecitalEncode is.
            swiftSettings: strictSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        .target(
            name: "RecitalIngest",
            dependencies: ["RecitalModel", "RecitalXML", "RecitalZip", "RecitalPDF", "RecitalOCR"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "RecitalJobs",
            dependencies: [
                "RecitalModel", grdb, .product(name: "PostgresNIO", package: "postgres-nio"), nioCore, nioPosix,
                logging,
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "RecitalEncode",
            dependencies: ["RecitalModel", "RecitalMedia"],
            // Per-sample loops (loudness, limiter, fades) run 30x slower unoptimised, which makes debug
            // test runs of real books take minutes; optimise them in every configuration.
            swiftSettings: strictSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        .target(
            name: "RecitalSpeech",
            dependencies: [
                "RecitalModel", "RecitalMedia", "RecitalEspeak", httpClient, hummingbird, nioCore, nioHTTP, nioPosix,
                logging,
                serviceLifecycle,
            ],
            swiftSettings: strictSettings
        ),

        .target(
            name: "RecitalPipeline",
            dependencies: [
                "RecitalModel", "RecitalIngest", "RecitalJobs", "RecitalSpeech", "RecitalMedia", "RecitalEncode",
                hummingbird, nioPosix,
                serviceLifecycle, logging, .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: - Front ends
        // `recital watch`: noticing books that arrive in a folder, deciding when they are whole.
        .target(
            name: "RecitalWatch",
            dependencies: ["RecitalZip", "RecitalModel", "RecitalEncode", "RecitalPipeline"],
            swiftSettings: strictSettings
        ),

        // `recital serve`: the JSON API over the job table.
        .target(
            name: "RecitalServer",
            dependencies: [
                "RecitalModel", "RecitalPipeline", "RecitalIngest", "RecitalEncode", hummingbird, httpTypes, nioCore,
                nioPosix, .product(name: "MultipartKit", package: "multipart-kit"),
                logging, serviceLifecycle, .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: - Executable
        .executableTarget(
            name: "recital",
            dependencies: [
                "RecitalModel", "RecitalIngest", "RecitalPipeline", "RecitalSpeech", "RecitalWatch", "RecitalServer",
                argumentParser,
                hummingbird, serviceLifecycle, logging,
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: - Benchmarks
        .executableTarget(
            name: "encode-benchmark",
            dependencies: ["RecitalEncode", "RecitalMedia", "RecitalModel", "RecitalTestSupport"],
            path: "Benchmarks/EncodeBenchmark",
            swiftSettings: testSettings
        ),
        .executableTarget(
            name: "finish-benchmark",
            dependencies: ["RecitalTestSupport"],
            path: "Benchmarks/FinishBenchmark",
            swiftSettings: testSettings
        ),
        .executableTarget(
            name: "synthesis-benchmark",
            dependencies: ["RecitalJobs", "RecitalModel", "RecitalPipeline", "RecitalSpeech", "RecitalTestSupport"],
            path: "Benchmarks/SynthesisBenchmark",
            swiftSettings: testSettings
        ),

        .executableTarget(
            name: "serve-benchmark",
            dependencies: ["RecitalTestSupport", httpClient, nioCore, nioHTTP],
            path: "Benchmarks/ServeBenchmark",
            swiftSettings: testSettings
        ),
        .executableTarget(
            name: "watch-benchmark",
            dependencies: [grdb],
            path: "Benchmarks/WatchBenchmark",
            swiftSettings: testSettings
        ),
        .executableTarget(
            name: "cluster-benchmark",
            dependencies: ["RecitalJobs", "RecitalModel", "RecitalPipeline", "RecitalTestSupport"],
            path: "Benchmarks/ClusterBenchmark",
            swiftSettings: testSettings
        ),
        .executableTarget(
            name: "status-benchmark",
            dependencies: ["RecitalJobs", "RecitalModel", grdb],
            path: "Benchmarks/StatusBenchmark",
            swiftSettings: testSettings
        ),

        // MARK: - Tests
        .target(
            name: "RecitalTestSupport",
            dependencies: ["RecitalModel", "RecitalSpeech", hummingbird, nioCore],
            path: "Tests/RecitalTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(name: "RecitalXMLTests", dependencies: ["RecitalXML"], swiftSettings: testSettings),
        .testTarget(
            name: "RecitalZipTests",
            dependencies: ["RecitalZip", "RecitalTestSupport"],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "RecitalPDFTests",
            dependencies: ["RecitalPDF", "RecitalTestSupport"],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "RecitalMediaTests",
            dependencies: ["RecitalMedia", "RecitalTestSupport"],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "RecitalEncodeTests",
            dependencies: ["RecitalEncode", "RecitalMedia", "RecitalModel", "RecitalTestSupport"],
            swiftSettings: testSettings
        ),
        .testTarget(name: "RecitalModelTests", dependencies: ["RecitalModel"], swiftSettings: testSettings),
        .testTarget(
            name: "RecitalSpeechTests",
            dependencies: ["RecitalSpeech", "RecitalModel", "RecitalMedia", "RecitalTestSupport", httpClient, nioCore],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "RecitalPipelineTests",
            dependencies: [
                "RecitalEncode",
                "RecitalPipeline", "RecitalJobs", "RecitalSpeech", "RecitalIngest", "RecitalModel",
                "RecitalTestSupport",
            ],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "RecitalOCRTests",
            dependencies: ["RecitalOCR", "RecitalPDF", "RecitalTestSupport"],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "RecitalEspeakTests",
            dependencies: ["RecitalEspeak"],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "RecitalJobsTests",
            dependencies: ["RecitalJobs", "RecitalModel", "RecitalTestSupport", grdb],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "RecitalIngestTests",
            dependencies: ["RecitalIngest", "RecitalModel", "RecitalZip", "RecitalTestSupport"],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "RecitalWatchTests",
            dependencies: ["RecitalWatch", "RecitalPipeline", "RecitalModel", "RecitalSpeech", "RecitalTestSupport"],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "RecitalServerTests",
            dependencies: [
                "RecitalServer", "RecitalPipeline", "RecitalModel", "RecitalSpeech", "RecitalTestSupport", httpClient,
                nioCore, nioHTTP,
            ],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "recitalTests",
            dependencies: ["recital", "RecitalTestSupport", "RecitalIngest", "RecitalZip", grdb],
            swiftSettings: testSettings
        ),
    ]
)
