import Foundation
import Testing

/// Reproducible builds: every package is pinned with `exact:` in Package.swift (Package.resolved is not
/// committed), and every package SwiftPM resolved for this build is one of those pins.
@Suite struct DependencyPinsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func manifest() throws -> String {
        try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
    }

    /// Identity of a package URL, as SwiftPM computes it: the last path component without `.git`, lowercased.
    static func identity(_ url: String) -> String {
        String(url.split(separator: "/").last ?? "").replacingOccurrences(of: ".git", with: "").lowercased()
    }

    /// The package URLs the manifest pins: direct `.package(url:, exact:)` lines and the transitivePins table.
    static func pinnedIdentities(_ manifest: String) -> Set<String> {
        Set(manifest.matches(of: /"(https:\/\/github\.com\/[^"]+)"/).map { identity(String($0.1)) })
    }

    @Test func everyPackageLineIsExact() throws {
        let manifest = try Self.manifest()
        let lines = manifest.split(separator: "\n").filter { $0.contains(".package(") }
        #expect(!lines.isEmpty)
        for line in lines {
            #expect(line.contains("exact:"), "not pinned: \(line)")
        }
        for loose in ["from:", "upToNextMajor", "upToNextMinor", "branch:", "revision:", "\"..<", "...\""] {
            #expect(!manifest.contains(loose), "Package.swift uses \(loose)")
        }
    }

    /// Every package the last resolution chose is pinned, at the pinned version (when this checkout was resolved).
    @Test func everyResolvedPackageIsPinnedAtItsVersion() throws {
        let state = Self.root.appendingPathComponent(".build/workspace-state.json")
        let data = try #require(try? Data(contentsOf: state), "no .build/workspace-state.json: build with the default scratch path")
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let dependencies = (json["object"] as? [String: Any])?["dependencies"] as? [[String: Any]] ?? []
        #expect(!dependencies.isEmpty)
        let manifest = try Self.manifest()
        let pinned = Self.pinnedIdentities(manifest)
        for dependency in dependencies {
            let reference = dependency["packageRef"] as? [String: Any] ?? [:]
            let name = (reference["identity"] as? String ?? "?").lowercased()
            let version = ((dependency["state"] as? [String: Any])?["checkoutState"] as? [String: Any])?["version"] as? String
            #expect(pinned.contains(name), "\(name) is resolved but not pinned in Package.swift (see README: bumping a dependency)")
            if let version {
                let line = manifest.split(separator: "\n").first { Self.identity(String($0.firstMatch(of: /"(https:[^"]+)"/)?.1 ?? "")) == name }
                #expect(line?.contains("\"\(version)\"") == true, "\(name) resolved at \(version), pinned: \(line ?? "none")")
            }
        }
    }
}
