import Foundation
import Support
import Testing

/// Issue 12 item 15: file errors read as what failed, where, and what to try — never "NSCocoaErrorDomain error 514".
@Suite("FileErrorText")
struct FileErrorTextTests {
    @Test func aNameTooLongSaysSo() throws {
        let path = NSTemporaryDirectory() + String(repeating: "n", count: 100_000) + ".sql"
        do {
            try "x".write(toFile: path, atomically: true, encoding: .utf8)
            Issue.record("a 100k-character file name was written")
        } catch {
            let text = FileErrorText.describe(error, doing: "write", path: path)
            #expect(!text.contains("NSCocoaErrorDomain"), "\(text)")
            #expect(text.contains("cannot write"), "\(text)")
            #expect(text.contains("(\(path.count) characters)"), "the path is shortened, with its length: \(text)")
            #expect(text.contains("shorter name") || text.contains("too long"), "\(text)")
        }
    }

    @Test func listingAFileAsADirectoryNamesThePath() throws {
        let file = NSTemporaryDirectory() + "opsctl-not-a-dir-\(UUID().uuidString.prefix(6))"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        do {
            _ = try FileManager.default.contentsOfDirectory(atPath: file)
            Issue.record("listed a regular file")
        } catch {
            let text = FileErrorText.describe(error, doing: "list", path: file)
            #expect(text.hasPrefix("cannot list \(file): "), "\(text)")
            #expect(!text.contains("NSCocoaErrorDomain"), "\(text)")
        }
    }
}
