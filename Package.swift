// swift-tools-version:6.1
import PackageDescription

// MARK: - Shared settings

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let grdb: Target.Dependency = .product(name: "GRDB", package: "GRDB.swift")
let httpClient: Target.Dependency = .product(name: "AsyncHTTPClient", package: "async-http-client")
let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")

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
    ],
    targets: [
        // MARK: - C libraries (one system target each; only their wrapper imports them)
        .systemLibrary(name: "CRecitalXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "CRecitalZip", pkgConfig: "libzip", providers: [.apt(["libzip-dev"])]),
        .systemLibrary(name: "CRecitalPoppler", pkgConfig: "poppler-glib", providers: [.apt(["libpoppler-glib-dev"])]),
        .systemLibrary(
            name: "CRecitalFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswresample-dev"])]
        ),

        // MARK: - Safe wrappers over the C libraries
        .target(name: "RecitalXML", dependencies: ["CRecitalXML2"], swiftSettings: strictSettings),
        .target(name: "RecitalZip", dependencies: ["CRecitalZip"], swiftSettings: strictSettings),
        .target(name: "RecitalPDF", dependencies: ["CRecitalPoppler"], swiftSettings: strictSettings),
        .target(name: "RecitalMedia", dependencies: ["CRecitalFFmpeg"], swiftSettings: strictSettings),

        // MARK: - Core
        .target(name: "RecitalModel", swiftSettings: strictSettings),
        .target(
            name: "RecitalIngest",
            dependencies: ["RecitalModel", "RecitalXML", "RecitalZip", "RecitalPDF"],
            swiftSettings: strictSettings
        ),
        .target(name: "RecitalJobs", dependencies: ["RecitalModel", grdb], swiftSettings: strictSettings),

        // MARK: - Executable
        .executableTarget(
            name: "recital",
            dependencies: ["RecitalModel", "RecitalIngest", argumentParser],
            swiftSettings: strictSettings
        ),

        // MARK: - Tests
        .target(
            name: "RecitalTestSupport",
            dependencies: ["RecitalModel"],
            path: "Tests/RecitalTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(name: "RecitalXMLTests", dependencies: ["RecitalXML"], swiftSettings: strictSettings),
        .testTarget(
            name: "RecitalZipTests",
            dependencies: ["RecitalZip", "RecitalTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RecitalPDFTests",
            dependencies: ["RecitalPDF", "RecitalTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RecitalMediaTests",
            dependencies: ["RecitalMedia", "RecitalTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "RecitalModelTests", dependencies: ["RecitalModel"], swiftSettings: strictSettings),
        .testTarget(
            name: "RecitalJobsTests",
            dependencies: ["RecitalJobs", "RecitalModel", "RecitalTestSupport", grdb],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RecitalIngestTests",
            dependencies: ["RecitalIngest", "RecitalModel", "RecitalZip", "RecitalTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "recitalTests",
            dependencies: ["recital", "RecitalTestSupport"],
            swiftSettings: strictSettings
        ),
    ]
)
