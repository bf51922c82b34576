import Foundation

/// Snapshot files for the human reports. A missing or different golden file is a failure everywhere,
/// not only in CI: a golden file is recorded only when asked, with OPSCTL_RECORD_GOLDEN=1, and the
/// recorded diff is then reviewed like any other change.
enum Golden {
    static var recording: Bool { ProcessInfo.processInfo.environment["OPSCTL_RECORD_GOLDEN"] == "1" }

    /// nil when `actual` matches `directory/name` (or was just recorded); otherwise what is wrong.
    static func mismatch(_ name: String, _ actual: String, in directory: URL, record: Bool = recording) throws -> String? {
        let file = directory.appendingPathComponent(name)
        if record {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try actual.write(to: file, atomically: true, encoding: .utf8)
            return nil
        }
        guard FileManager.default.fileExists(atPath: file.path) else {
            return "golden file \(file.path) is missing: record it with OPSCTL_RECORD_GOLDEN=1, review it and commit it"
        }
        let golden = try String(contentsOf: file, encoding: .utf8)
        guard golden != actual else { return nil }
        let expected = golden.split(separator: "\n", omittingEmptySubsequences: false)
        let got = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let line = zip(expected, got).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(expected.count, got.count)
        let want = line < expected.count ? String(expected[line]) : "<end of file>"
        let have = line < got.count ? String(got[line]) : "<end of output>"
        return "output differs from \(name) at line \(line + 1):\n  golden: \(want)\n  actual: \(have)\n(OPSCTL_RECORD_GOLDEN=1 re-records it after an intended change)"
    }
}
