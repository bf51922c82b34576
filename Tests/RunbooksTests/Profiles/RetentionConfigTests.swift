import Checks
import Foundation
@testable import Runbooks
import Testing
import TestSupport

/// `service.retention[]`: typed policies, mistakes named at file:line:col, the shipped profile's policies.
struct RetentionConfigTests {
    @Test func policiesAreTypedWithTheirDefaults() throws {
        let config = try Config.parse("""
            service:
              retention:
                - { table: webhook_logs, time_column: created_at, older_than: 90d }
                - name: done-hooks
                  table: audit.hooks
                  time_column: arrived_at
                  older_than: 12h
                  where: "state = 'done'"
                  key: hook_id
                  archive: { file: "archive/hooks-{date}.jsonl" }
                  batch: { target: 1s, max_rows: 500, pause: 0ms, lock_timeout: 2s }
            environments:
              local: {}
            """, file: "/tmp/opsctl.yaml")
        let policies = try config.environment("local").service.retention
        #expect(policies.count == 2)
        #expect(policies[0].name == "webhook_logs" && policies[0].olderThanSeconds == 90 * 86_400 && policies[0].archive == nil)
        #expect(policies[0].batch == RetentionPolicy.Batch())
        #expect(policies[1].name == "done-hooks" && policies[1].key == "hook_id" && policies[1].condition == "state = 'done'")
        #expect(policies[1].archive == .file("archive/hooks-{date}.jsonl"))
        #expect(policies[1].batch.target == 1 && policies[1].batch.maxRows == 500 && policies[1].batch.pause == 0 && policies[1].batch.lockTimeout == 2)
        #expect(try config.environment("local").json["service"]?["retention"]?.array?.count == 2)
    }

    @Test func theChurnSaverProfileDeclaresItsPolicies() throws {
        let config = try Config.parse("environments:\n  local: {}\n", file: "/tmp/opsctl.yaml")
        let names = try config.environment("local").service.retention.map(\.name)
        #expect(names == ["webhook_logs", "api_request_logs", "auth_logs", "events"])
    }

    @Test(arguments: [
        ("service:\n  retention: { table: t }\n", 2, 14, "must be a list"),
        ("service:\n  retention:\n    - { table: t, time_column: c, older_than: 1d, batch: { max_row: 5 } }\n", 3, 60, "did you mean 'max_rows'"),
        ("service:\n  retention:\n    - { table: t, time_column: c, older_than: 1d, archive: { bucket: x } }\n", 3, 62, "unknown key 'bucket'"),
        ("service:\n  retention:\n    - { table: t, time_column: c, older_than: 1d, tabel: x }\n", 3, 51, "did you mean 'table'"),
        ("service:\n  retention:\n    - { table: t, time_column: c }\n", 3, 7, "needs table, time_column and older_than"),
        ("service:\n  retention:\n    - { table: t, time_column: c, older_than: someday }\n", 3, 7, "not a duration"),
        ("service:\n  retention:\n    - { table: t, time_column: c, older_than: 1d, archive: { table: a, file: f } }\n", 3, 7, "one of table or file"),
        ("service:\n  retention:\n    - { table: t, time_column: c, older_than: 1d }\n    - { table: t, time_column: d, older_than: 2d }\n", 4, 7, "same name"),
    ])
    func mistakesNameFileLineAndColumn(_ block: String, _ line: Int, _ column: Int, _ message: String) throws {
        do {
            _ = try Config.parse(block + "environments:\n  local: {}\n", file: "/tmp/opsctl.yaml")
            Issue.record("accepted: \(block)")
        } catch let error as LoadError {
            #expect(error.message.contains(message), "\(error)")
            #expect(error.line == line && error.column == column, "\(error)")
        }
    }
}
