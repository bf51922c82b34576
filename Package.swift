// swift-tools-version:6.0
import Foundation
import PackageDescription

// Strict settings everywhere (STYLE.md): Swift 6 language mode; CI (make with CI set) adds -warnings-as-errors.
let strict = ProcessInfo.processInfo.environment["OPSCTL_STRICT"] != nil
let swiftSettings: [SwiftSetting] = strict ? [.unsafeFlags(["-warnings-as-errors"])] : []

let package = Package(
    name: "opsctl",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "opsctl", targets: ["opsctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // C modules: libpq through pkg-config; libcurl through typed, non-variadic wrappers.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),

        // Process spawning with timeouts, secret masking, durations: shared by every layer.
        .target(name: "Support", swiftSettings: swiftSettings),
        .target(name: "Postgres", dependencies: ["CLibPQ", "Support"], swiftSettings: swiftSettings),
        .target(name: "HTTP", dependencies: ["CCurl", "Support"], swiftSettings: swiftSettings),
        // Migration files, history, lint (libpg_query) and apply/rollback: the engine behind `opsctl migrate`.
        .target(name: "Migrations", dependencies: ["Support", "Postgres"], swiftSettings: swiftSettings),
        // Streaming, multi-core log analysis behind `opsctl logs analyze`.
        .target(name: "LogAnalysis", dependencies: ["Support"], swiftSettings: swiftSettings),
        .target(name: "Checks", dependencies: ["Support", "Postgres", "HTTP", "Migrations", "LogAnalysis"],
                swiftSettings: swiftSettings),
        .target(name: "Runbooks", dependencies: ["Checks", "Postgres", "HTTP", .product(name: "Yams", package: "Yams")],
                swiftSettings: swiftSettings),
        .executableTarget(name: "opsctl", dependencies: [
            "Runbooks", "Checks", "Postgres", "HTTP",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: swiftSettings),

        .target(name: "TestSupport", dependencies: ["Support", "Postgres", "HTTP"], path: "Tests/TestSupport"),
        .testTarget(name: "SupportTests", dependencies: ["Support", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "ChecksTests", dependencies: ["Checks", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "RunbooksTests", dependencies: ["Runbooks", "Checks", "Postgres", "HTTP", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "MigrationsTests", dependencies: ["Migrations", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "LogAnalysisTests", dependencies: ["LogAnalysis", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "OpsctlTests", dependencies: ["TestSupport"], swiftSettings: swiftSettings),
    ]
)
