// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "pulseboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "pulseboard", targets: ["pulseboard"]),
        .library(name: "PulseboardCore", targets: ["PulseboardCore"]),
        .library(name: "PulseboardEngine", targets: ["PulseboardEngine"]),
        .library(name: "PulseboardServer", targets: ["PulseboardServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.1.4"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
    ],
    targets: [
        // zlib (system library) for WebSocket permessage-deflate.
        .systemLibrary(name: "CZlib"),
        // Pure core: events, validation, windows, sketches. No I/O, no NIO.
        .target(name: "PulseboardCore", swiftSettings: swiftSettings),
        // Stateful runtime: ingestor, journal, replay, demo traffic, services.
        .target(
            name: "PulseboardEngine",
            dependencies: [
                "PulseboardCore",
                "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The embedded rollup store: `RollupStore` on SQLite (GRDB, system libsqlite3).
        .target(
            name: "PulseboardSQLite",
            dependencies: [
                "PulseboardCore",
                "PulseboardEngine",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // Hummingbird wiring: routes, auth, limits, configuration.
        .target(
            name: "PulseboardServer",
            dependencies: [
                "PulseboardCore",
                "PulseboardEngine",
                "PulseboardSQLite",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Load clients for `pulseboard bench` (SwiftNIO, loopback only).
        .target(
            name: "PulseboardBench",
            dependencies: [
                "PulseboardCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Thin executable: argument parsing and subcommands.
        .executableTarget(
            name: "pulseboard",
            dependencies: [
                "PulseboardServer",
                "PulseboardEngine",
                "PulseboardBench",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "PulseboardCoreTests", dependencies: ["PulseboardCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PulseboardBenchTests",
            dependencies: ["PulseboardBench", "PulseboardEngine", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PulseboardEngineTests",
            dependencies: [
                "PulseboardEngine", "PulseboardCore", "PulseboardSQLite", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PulseboardServerTests",
            dependencies: [
                "PulseboardServer", "PulseboardEngine", "PulseboardCore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSCompression", package: "hummingbird-websocket"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
