import Checks
import Foundation
import Testing

/// Which backup `latest` means when the manifests cannot tell them apart.
@Suite struct BackupStoreTests {
    /// Two backups made within one second carry the same manifest time (whole seconds): `latest` is the
    /// one written last, not whichever the directory listing returns first.
    @Test func latestOfTwoBackupsInTheSameSecondIsTheOneWrittenLast() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("opsctl-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = BackupStore(directory: dir)
        let second = Date(timeIntervalSince1970: 1_795_500_800)  // 2026-11-24T06:13:20Z, the manifests' time
        // Names chosen so the listing order and the write order disagree whichever way the listing sorts.
        for (name, offset) in [("db-b.dump", 0.0), ("db-a.dump", 0.5), ("db-c.dump", 0.25)] {
            let path = dir + "/" + name
            #expect(FileManager.default.createFile(atPath: path, contents: Data("PGDMP".utf8)))
            let manifest = #"{"file": "\#(name)", "format": "custom", "created_at": "2026-11-24T06:13:20Z", "row_counts": {}, "#
                + #""sha256": "", "size_bytes": 5, "duration_ms": 1}"#
            #expect(FileManager.default.createFile(atPath: BackupStore.manifestPath(for: path), contents: Data(manifest.utf8)))
            try FileManager.default.setAttributes([.modificationDate: second.addingTimeInterval(offset)], ofItemAtPath: path)
        }
        #expect(try store.entries().map(\.name) == ["db-a.dump", "db-c.dump", "db-b.dump"])
        #expect(try store.resolve("latest") == dir + "/db-a.dump")
    }
}
