import ArgumentParser
import Checks
import Foundation
import Runbooks
import Support

extension Opsctl {
    struct Releases: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "releases",
            abstract: "List the releases recorded for an environment (newest first): id, deployed at, schema version, verify, current.",
            discussion: """
                Recorded by 'opsctl deploy record' and by 'opsctl rollback' (a rollback makes the release it went back to current).
                  opsctl releases --env production
                  opsctl releases --env production --format json
                """)

        @Option(name: .long, parsing: .unconditional, help: "How many releases.")
        var limit: Int = 20

        @OptionGroup var options: JournalReadOptions

        func validate() throws {
            try FlagCheck.range(limit, "--limit", 1...100_000)
            guard ["human", "json"].contains(options.format) else { throw ValidationError("--format for releases is human or json") }
        }

        func run() throws {
            let service = RunService(global: try options.global)
            let (_, env) = try service.environment()
            let releases = Array(try service.releaseHistory(env).prefix(limit))
            let good = try? RollbackTarget.choose(releases, release: nil, environment: env.name).target.id
            if options.format == "json" {
                let rows: [JSONValue] = releases.enumerated().map { i, r in
                    .object(["release": .string(r.release), "action": .string(r.action), "deployed_at": .string(ISO8601DateFormatter().string(from: r.recordedAt)),
                             "schema_version": r.schemaVersion.map(JSONValue.int) ?? .null, "verify": .string(r.verify),
                             "verify_run_id": r.verifyRunID.map(JSONValue.string) ?? .null, "recorded_by": .string(r.recordedBy),
                             "current": .bool(i == 0), "last_good": .bool(r.id == good)])
                }
                print(SecretMasker.shared.mask(JSONValue.object(["environment": .string(env.name), "releases": .array(rows)]).jsonText))
                return
            }
            let f = ISO8601DateFormatter()
            let header = ["", "RELEASE", "DEPLOYED AT", "SCHEMA", "VERIFY", "BY"]
            let rows = releases.enumerated().map { i, r in
                [i == 0 ? "*" : (r.id == good ? "<" : ""), r.release + (r.action == "rollback" ? " (rollback)" : ""),
                 f.string(from: r.recordedAt), r.schemaVersion.map(String.init) ?? "-", r.verify, r.recordedBy]
            }
            let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max() ?? 0 }
            for row in [header] + rows {
                let cells = row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                print(TerminalText.sanitize(SecretMasker.shared.mask(cells.joined(separator: "  "))))
            }
            Terminal.note(releases.isEmpty
                ? "no release recorded for \(env.name): record deploys with 'opsctl deploy record --release ID --env \(env.name)'"
                : "* current, < last good (what 'opsctl rollback --mode full' goes back to)")
        }
    }
}
