// swift-tools-version:6.1
import PackageDescription

// Micro-benchmarks of Pulseboard's hot paths, with committed thresholds (see README.md).
// Its own package so the main package never depends on package-benchmark; it uses the main
// package's library products by path.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "pulseboard-micro",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "pulseboard", path: "../.."),
        // MallocInterposer only: the default RuntimeInterposer trait needs a package this
        // machine's mirror does not have, and the malloc counts need nothing else.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // The four workloads: set up once, then one operation per call. Shared by the
        // package-benchmark suite and the callgrind runner so both measure the same code.
        .target(
            name: "MicroWorkloads",
            dependencies: [
                .product(name: "PulseboardCore", package: "pulseboard"),
                .product(name: "PulseboardEngine", package: "pulseboard"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Callgrind client requests (header-only; no-ops without valgrind's headers).
        .target(name: "CCallgrind"),
        // `micro-workload NAME N`: runs one workload N times (what callgrind.sh counts).
        .executableTarget(
            name: "micro-workload",
            dependencies: ["MicroWorkloads", "CCallgrind"],
            swiftSettings: swiftSettings
        ),
        // The package-benchmark suite (`swift package benchmark`).
        .executableTarget(
            name: "PulseboardMicro",
            dependencies: [
                "MicroWorkloads",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/PulseboardMicro",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
