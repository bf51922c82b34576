import Foundation
import Testing
@testable import LogAnalysis

@Suite struct FormatTests {
    @Test func bunyanAndWinstonLevelsAndTimeFields() throws {
        let text = """
            {"level":"error","timestamp":"2026-01-01T00:00:01.500+01:00","message":"winston error"}
            {"level":"warning","ts":1767225600,"msg":"seconds epoch"}
            {"level":"INFO","ts":1767225600123,"msg":"ms epoch"}
            {"lvl":"fatal","@timestamp":"2026-01-01 00:00:00Z","msg":"space separated"}
            {"severity":"debug","time":"not a time","msg":"bad time"}
            {"level":35,"msg":"custom pino level"}
            {"msg":"no level"}
            {"level":50,"time":1767225600000,"msg":"escaped \\"quote\\" and \\u00e9","route":"/a\\/b"}

            """
        let file = TempFile(text)
        let r = try analyze([file.path]) { $0.groupBy = "route" }
        #expect(r.files.first?.format == .json)
        #expect(r.levels == ["trace": 0, "debug": 1, "info": 2, "warn": 1, "error": 2, "fatal": 1, "unknown": 1])
        #expect(r.firstSeen == Date(timeIntervalSince1970: 1_767_222_001.5))
        #expect(r.lastSeen == Date(timeIntervalSince1970: 1_767_225_600.123))
        #expect(r.topFingerprints.contains { $0.fingerprint == "escaped <str> and é" })
        #expect(r.groups.first?.value == "/a/b")
    }

    @Test func nestedFieldsByDottedPath() throws {
        let text = """
            {"level":30,"req":{"method":"GET","route":"/users"},"res":{"ms":12.5},"msg":"ok"}
            {"level":30,"req":{"route":"/users"},"res":{"ms":7.5},"msg":"ok"}

            """
        let file = TempFile(text)
        let r = try analyze([file.path]) { $0.groupBy = "req.route"; $0.latencyField = "res.ms" }
        #expect(r.groups.first?.value == "/users")
        #expect(r.groups.first?.count == 2)
        #expect(r.latency?.p99 == 12.5)
        #expect(r.latency?.mean == 10)
    }

    @Test func logfmt() throws {
        let text = """
            time=2026-01-01T00:00:00Z level=info msg="request done" route=/a duration_ms=12
            time=2026-01-01T00:00:05Z level=error msg="payment 42 failed" route=/pay duration_ms=250
            ts=2026-01-01T00:01:00Z lvl=warn msg=slow route=/a duration_ms=30
            ERROR a line without pairs falls back to plain text

            """
        let file = TempFile(text)
        let r = try analyze([file.path]) { $0.groupBy = "route"; $0.latencyField = "duration_ms" }
        #expect(r.files.first?.format == .logfmt)
        #expect(r.levels["info"] == 1)
        #expect(r.levels["error"] == 2)
        #expect(r.levels["warn"] == 1)
        #expect(Set(r.topFingerprints.map(\.fingerprint)) == ["payment <num> failed", "a line without pairs falls back to plain text"])
        #expect(r.latency?.count == 3)
        #expect(r.latency?.p50 == 30)
        #expect(Set(r.groups.map(\.value)) == ["/a", "/pay"])
    }

    @Test func plainTextWithLevelWordsAndMarkers() throws {
        let text = """
            2026-01-01T00:00:00Z INFO server started on port 8080
            [2026-01-01T00:00:01.250Z] [error] payment 17 failed: card declined
            2026-01-01 00:00:02 WARN: disk at 91%
            2026-01-01T00:00:03Z ✅ migrations applied (12)
            2026-01-01T00:00:04Z ⚠️ replication lag 3s
            2026-01-01T00:00:05Z ❌ webhook replay failed for 3 events
            error: connection reset by peer
            a line that says no error at all
                at Object.<anonymous> (/app/index.js:10:5)

            """
        let file = TempFile(text)
        let r = try analyze([file.path])
        #expect(r.files.first?.format == .plain)
        #expect(r.levels["info"] == 2)
        #expect(r.levels["warn"] == 2)
        #expect(r.levels["error"] == 3)
        #expect(r.levels["unknown"] == 2)
        #expect(r.markers == LogReport.Markers(ok: 1, warn: 1, fail: 1))
        let fps = Set(r.topFingerprints.map(\.fingerprint))
        #expect(fps == ["payment <num> failed: card declined", "❌ webhook replay failed for <num> events", "connection reset by peer"])
        #expect(r.firstSeen == Date(timeIntervalSince1970: 1_767_225_600))
    }

    @Test func formatIsDetectedPerFile() throws {
        let json = TempFile(#"{"level":50,"msg":"from json"}"# + "\n")
        let plain = TempFile("2026-01-01T00:00:00Z ERROR from plain\n")
        let r = try analyze([json.path, plain.path])
        #expect(r.files.map(\.format) == [.json, .plain])
        #expect(r.files.map(\.lines) == [1, 1])
        #expect(r.errors == 2)
    }
}
