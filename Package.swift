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
        .executable(name: "churn-saver", targets: ["ChurnSaver"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
    ],
    targets: [
        // C modules: libpq through pkg-config; libcurl through typed, non-variadic wrappers.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        // simdjson (C++) behind a pure C batch API for the log scanner, plus zlib for `.gz` logs.
        .target(name: "CSimdJSON", linkerSettings: [.linkedLibrary("simdjson"), .linkedLibrary("z")]),
        // libpg_query, the real Postgres parser (static archive: see Sources/CPgQuery/module.modulemap).
        .systemLibrary(name: "CPgQuery", path: "Sources/CPgQuery"),

        // Process spawning with timeouts, secret masking, durations: shared by every layer.
        .target(name: "Support", swiftSettings: swiftSettings),
        .target(name: "Postgres", dependencies: ["CLibPQ", "Support"], swiftSettings: swiftSettings),
        .target(name: "HTTP", dependencies: ["CCurl", "Support"], swiftSettings: swiftSettings),
        // Migration files, history, lint (libpg_query) and apply/rollback: the engine behind `opsctl migrate`.
        .target(name: "Migrations", dependencies: ["Support", "Postgres", "CPgQuery", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: swiftSettings),
        // Streaming, multi-core log analysis behind `opsctl logs analyze`.
        .target(name: "LogAnalysis", dependencies: ["Support", "CSimdJSON"], swiftSettings: swiftSettings),
        .target(name: "Checks", dependencies: ["Support", "Postgres", "HTTP", "Migrations", "LogAnalysis", "Webhooks"],
                swiftSettings: swiftSettings),
        .target(name: "Runbooks", dependencies: ["Checks", "Postgres", "HTTP", .product(name: "Yams", package: "Yams")],
                swiftSettings: swiftSettings),
        .executableTarget(name: "opsctl", dependencies: [
            "Runbooks", "Checks", "Postgres", "HTTP", "Webhooks", "Migrations", "LogAnalysis",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: swiftSettings),

        .target(name: "TestSupport", dependencies: ["Support", "Postgres", "HTTP"], path: "Tests/TestSupport"),
        .testTarget(name: "SupportTests", dependencies: ["Support", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "ChecksTests", dependencies: ["Checks", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "RunbooksTests", dependencies: ["Runbooks", "Checks", "Postgres", "HTTP", "TestSupport"], exclude: ["Reporters/Golden"], swiftSettings: swiftSettings),
        .testTarget(name: "MigrationsTests", dependencies: ["Migrations", "TestSupport"], exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(name: "LogAnalysisTests", dependencies: ["LogAnalysis", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "OpsctlTests", dependencies: ["TestSupport"], swiftSettings: swiftSettings),
        // In-process fuzzing of every parser of outside input, time-bounded (OPSCTL_FUZZ_SECONDS); saved corpus in Corpus/.
        .testTarget(name: "FuzzTests", dependencies: ["Runbooks", "Checks", "Migrations", "LogAnalysis", "Support"],
                    path: "Tests/Fuzz", exclude: ["Corpus"], swiftSettings: swiftSettings),

        // Webhook signing (Whop, Standard Webhooks, Stripe): used by opsctl and the reference service.
        .target(name: "Webhooks", dependencies: [.product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: swiftSettings),
        // The reference "Churn Saver" service for the demo and integration tests; never imports opsctl code.
        .executableTarget(name: "ChurnSaver", dependencies: [
            "Postgres", "Support", "Webhooks", .product(name: "Hummingbird", package: "hummingbird"),
        ], swiftSettings: swiftSettings),
        .testTarget(name: "WebhooksTests", dependencies: ["Webhooks", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "ChurnSaverTests", dependencies: ["Webhooks", "Postgres", "HTTP", "TestSupport"], swiftSettings: swiftSettings),
    ],
    cxxLanguageStandard: .cxx17
)
