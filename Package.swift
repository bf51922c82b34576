// swift-tools-version:6.0
import Foundation
import PackageDescription

// Strict settings everywhere (STYLE.md): Swift 6 language mode; CI (make with CI set) adds -warnings-as-errors.
let strict = ProcessInfo.processInfo.environment["OPSCTL_STRICT"] != nil
let swiftSettings: [SwiftSetting] = strict ? [.unsafeFlags(["-warnings-as-errors"])] : []

/// The packages our dependencies pull in, pinned as well: Package.resolved cannot be committed (the package
/// mirror CI resolves from has other commit ids than upstream), so the lock lives here. Versions are the ones
/// `swift package resolve` chose for the direct pins above; bump them together (README).
let transitivePins: [(url: String, version: Version, product: String)] = [
    ("https://github.com/swift-server/async-http-client.git", "1.37.0", "AsyncHTTPClient"),
    ("https://github.com/apple/swift-algorithms.git", "1.2.1", "Algorithms"),
    ("https://github.com/apple/swift-asn1.git", "1.7.4", "SwiftASN1"),
    ("https://github.com/apple/swift-async-algorithms.git", "1.1.4", "AsyncAlgorithms"),
    ("https://github.com/apple/swift-atomics.git", "1.3.0", "Atomics"),
    ("https://github.com/apple/swift-certificates.git", "1.21.1", "X509"),
    ("https://github.com/apple/swift-collections.git", "1.6.0", "Collections"),
    ("https://github.com/apple/swift-configuration.git", "1.4.0", "Configuration"),
    ("https://github.com/apple/swift-distributed-tracing.git", "1.7.3", "Tracing"),
    ("https://github.com/apple/swift-http-structured-headers.git", "1.7.0", "StructuredFieldValues"),
    ("https://github.com/apple/swift-http-types.git", "1.8.0", "HTTPTypes"),
    ("https://github.com/apple/swift-log.git", "1.16.2", "Logging"),
    ("https://github.com/apple/swift-metrics.git", "2.13.0", "Metrics"),
    ("https://github.com/apple/swift-nio.git", "2.101.3", "NIOCore"),
    ("https://github.com/apple/swift-nio-extras.git", "1.35.2", "NIOExtras"),
    ("https://github.com/apple/swift-nio-http2.git", "1.46.0", "NIOHTTP2"),
    ("https://github.com/apple/swift-nio-ssl.git", "2.37.6", "NIOSSL"),
    ("https://github.com/apple/swift-nio-transport-services.git", "1.28.0", "NIOTransportServices"),
    ("https://github.com/apple/swift-numerics.git", "1.1.1", "Numerics"),
    ("https://github.com/apple/swift-service-context.git", "1.5.1", "ServiceContextModule"),
    ("https://github.com/swift-server/swift-service-lifecycle.git", "2.13.0", "ServiceLifecycle"),
    ("https://github.com/apple/swift-system", "1.8.1", "SystemPackage"),
]
/// SwiftPM warns about a root dependency no target uses; each pin is therefore referenced under a platform
/// condition that never holds here (WASI), which pins the version without building or linking anything more.
let transitivePinReferences: [Target.Dependency] = transitivePins.map { pin in
    let identity = String(pin.url.split(separator: "/").last!.replacingOccurrences(of: ".git", with: ""))
    return .product(name: pin.product, package: identity, condition: .when(platforms: [.wasi]))
}

/// Start-up of the opsctl binary (README, "Performance"): linked by lld, the linker the Swift toolchain
/// ships, with the position-independent executable's ~100k relative relocations packed as DT_RELR (glibc
/// ≥ 2.36 applies them; Debian 12 has 2.36): the loader reads a few KB instead of 2.4 MB before main.
let startupLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"], .when(platforms: [.linux])),
]

let package = Package(
    name: "opsctl",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "opsctl", targets: ["opsctl"]),
        .executable(name: "churn-saver", targets: ["ChurnSaver"]),
    ],
    // Every package is pinned with `exact:` (README, "Bumping a dependency"): a fresh clone builds what CI built.
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
    ] + transitivePins.map { .package(url: $0.url, exact: $0.version) },
    targets: [
        // C modules: libpq and libcurl are loaded with dlopen on first use, not linked (their dependency
        // closure was most of every verb's start-up); CCurl holds typed, non-variadic wrappers over libcurl.
        .target(name: "CLibPQ"),
        .target(name: "CCurl"),
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
        .target(name: "Checks", dependencies: ["Support", "Postgres", "HTTP", "Migrations", "LogAnalysis", "Webhooks",
                                              .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: swiftSettings),
        .target(name: "Runbooks", dependencies: ["Checks", "Postgres", "HTTP", .product(name: "Yams", package: "Yams")],
                swiftSettings: swiftSettings),
        .executableTarget(name: "opsctl", dependencies: [
            "Runbooks", "Checks", "Postgres", "HTTP", "Webhooks", "Migrations", "LogAnalysis",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ] + transitivePinReferences, swiftSettings: swiftSettings, linkerSettings: startupLinkerSettings),

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
