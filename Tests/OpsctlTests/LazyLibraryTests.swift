import Foundation
import Support
import Testing
import TestSupport

/// libpq and libcurl are loaded on first use (dlopen, Sources/CLibPQ and Sources/CCurl), not by the
/// dynamic loader at start-up: verbs that need neither run without them, and a machine without one
/// gets an error naming the library and the package that installs it, never a loader failure.
@Suite("Lazy libpq and libcurl")
struct LazyLibraryTests {
    /// OPSCTL_LIBPQ / OPSCTL_LIBCURL pointed here: what a machine without the library sees.
    static let missing = "/nonexistent/opsctl-test/libmissing.so.5"

    @Test func theBinaryLinksNeitherLibrary() throws {
        let out = try ProcessRunner.run(["ldd", Opsctl.binary], timeout: 30)
        #expect(out.exitCode == 0, "\(out.stderr)")
        #expect(out.stdout.contains("libc.so"))
        #expect(!out.stdout.contains("libpq"), "\(out.stdout)")
        #expect(!out.stdout.contains("libcurl"), "\(out.stdout)")
    }

    @Test func verbsThatNeedNeitherRunWithoutThem() throws {
        let p = Project()
        let without = ["OPSCTL_LIBPQ": Self.missing, "OPSCTL_LIBCURL": Self.missing]
        let kinds = try p.opsctl(["kinds"], env: without)
        #expect(kinds.exitCode == 0, "\(kinds.stderr)")
        #expect(kinds.stdout.contains("postgres.connect"))
        let explain = try p.opsctl(["explain", "verify"], env: without)
        #expect(explain.exitCode == 0, "\(explain.stderr)")
        #expect(explain.stdout.contains("runbook verify"))
        #expect(explain.stdout.contains("level 1"))
    }

    @Test func aMissingLibpqIsAStepErrorThatNamesThePackage() throws {
        let p = Project()
        try p.file("db.yaml", "steps:\n  - { id: db, kind: postgres.connect }\n")
        let out = try p.opsctl(["run", "db.yaml", "--no-journal", "--format", "json"], env: ["OPSCTL_LIBPQ": Self.missing])
        #expect(out.exitCode == 1, "\(out.stdout)\(out.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let step = try #require((report["results"] as? [[String: Any]])?.first)
        #expect(step["status"] as? String == "error")
        let message = step["message"] as? String ?? ""
        #expect(message.contains("cannot load libpq"), "\(message)")
        #expect(message.contains(Self.missing), "\(message)")
        #expect(message.contains("apt-get install libpq5"), "\(message)")
    }

    @Test func aLibraryThatIsNotLibpqIsNamedWithTheMissingFunction() throws {
        let p = Project()
        try p.file("db.yaml", "steps:\n  - { id: db, kind: postgres.connect }\n")
        // libz is on every machine that runs opsctl (the log scanner links it) and has no PQ* function.
        let out = try p.opsctl(["run", "db.yaml", "--no-journal", "--format", "json"], env: ["OPSCTL_LIBPQ": "libz.so.1"])
        #expect(out.exitCode == 1, "\(out.stdout)\(out.stderr)")
        #expect(out.stdout.contains("the libpq at libz.so.1 has no PQ"), "\(out.stdout)")
        #expect(out.stdout.contains("libpq 14 or newer"), "\(out.stdout)")
    }

    @Test func aMissingLibcurlIsAStepErrorThatNamesThePackage() throws {
        let p = Project()
        try p.file("http.yaml", "steps:\n  - { id: up, kind: http.request, with: { url: 'http://127.0.0.1:1/health' } }\n")
        let out = try p.opsctl(["run", "http.yaml", "--no-journal", "--format", "json"], env: ["OPSCTL_LIBCURL": Self.missing])
        #expect(out.exitCode == 1, "\(out.stdout)\(out.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let step = try #require((report["results"] as? [[String: Any]])?.first)
        #expect(step["status"] as? String == "error")
        let message = step["message"] as? String ?? ""
        #expect(message.contains("cannot load libcurl"), "\(message)")
        #expect(message.contains(Self.missing), "\(message)")
        #expect(message.contains("apt-get install libcurl4"), "\(message)")
    }
}
