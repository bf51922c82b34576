import Foundation
import HTTP
import Postgres
import Support

/// `opsctl deploy record`: stores which release now runs in the environment, the schema version the
/// migration history is at, and the outcome of the verify run that followed the deploy — the history
/// `rollback --mode full` picks the last good release from.
public struct ReleaseRecord: StepKind {
    public static let name = "release.record"
    public static let summary = "Record the release running in an environment with its schema version and verify outcome (opsctl.releases)"
    public static let parameters: [ParameterSpec] = [
        .init("environment", .string, required: true, "environment the release runs in (usually ${config.name})"),
        .init("release", .string, "release id; empty: read it from version_endpoint"),
        .init("version_endpoint", .string, "URL or path (on the environment's base_url) answering with the running release"),
        .init("version_json", .string, "where the release id is in that endpoint's JSON body (.version, .build.sha); empty: the whole body as text"),
        .init("verify", .string, "verify outcome: ok, warn, fail, error or unknown; empty: the journal's newest verify run of the environment since the previous release"),
        .init("action", .string, default: "deploy", "deploy, or rollback (recorded by opsctl rollback)"),
        .init("table", .string, default: "opsctl.schema_migrations", "migration history table the schema version is read from"),
        .init("schema_version", .int, "the schema version to record instead of reading it (a rollback records its target's)"),
        Catalog.database,
    ]
    public static let mutates = true
    public static let example = """
        - id: record
          kind: release.record
          with: { environment: test, release: "2026.11.29-1", verify: ok }
        """

    static let outcomes = ["ok", "warn", "fail", "error", "unknown"]

    let environment: String
    let release: String?
    let versionEndpoint: String?
    let versionJSON: String?
    let verify: String?
    let action: String
    let table: String
    let schemaVersion: Int?
    let variable: String?

    public init(_ p: StepParameters) throws {
        environment = try p.string("environment")
        release = try p.nonEmptyString("release")
        versionEndpoint = try p.nonEmptyString("version_endpoint")
        versionJSON = try p.nonEmptyString("version_json")
        verify = try p.nonEmptyString("verify")
        action = try p.string("action", default: "deploy")
        table = try p.string("table", default: "opsctl.schema_migrations")
        schemaVersion = p["schema_version"] == nil ? nil : try p.int("schema_version", default: 0)
        variable = try p.optionalString("database_url_env")
        if let verify, !Self.outcomes.contains(verify) {
            throw StepError("step '\(p.stepID)': verify must be one of \(Self.outcomes.joined(separator: ", ")), not '\(verify)'")
        }
        guard ["deploy", "rollback"].contains(action) else { throw StepError("step '\(p.stepID)': action must be deploy or rollback") }
        if release == nil && versionEndpoint == nil {
            throw StepError("step '\(p.stepID)': no release id: pass --release ID, or declare service.release.version_endpoint in opsctl.yaml")
        }
    }

    /// Everything the record needs, found without writing: the dry run fails where the real run would.
    struct Facts {
        var release: String
        var schemaVersion: Int?
        var verify: String
        var verifyRunID: String?
        var message: String
    }

    func facts(_ context: StepContext, _ store: ReleaseStore) throws -> Facts {
        let id = try release ?? Self.readRelease(context, endpoint: versionEndpoint!, path: versionJSON)
        let schema = try schemaVersion ?? store.schemaVersion(table: table)
        var outcome = verify ?? "unknown", runID: String? = nil, source = verify == nil ? "" : " (given)"
        if verify == nil {
            let previous = try store.list(environment: environment, limit: 1).first
            if let found = try store.latestVerify(environment: environment, since: previous?.recordedAt) {
                outcome = found.status
                runID = found.runID
                source = " (verify run \(found.runID))"
            } else {
                source = previous == nil ? " (no verify run in the journal: run 'opsctl verify' first, or pass --verify)"
                    : " (no verify run since \(previous!.release) was recorded: run 'opsctl verify' first, or pass --verify)"
            }
        }
        let message = "release \(id) in \(environment): schema \(schema.map(String.init) ?? "none (no migration history)"), verify \(outcome)\(source)"
        return Facts(release: id, schemaVersion: schema, verify: outcome, verifyRunID: runID, message: message)
    }

    public func plan(_ context: StepContext) throws -> String {
        let connection = try context.connect(variable: variable)
        defer { connection.close() }
        return "would record " + (try facts(context, ReleaseStore(connection))).message
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let connection = try context.connect(variable: variable)
        defer { connection.close() }
        let store = ReleaseStore(connection)
        let f = try facts(context, store)
        let env = ProcessInfo.processInfo.environment
        let by = "\(env["USER"] ?? env["LOGNAME"] ?? "unknown")@\(ProcessInfo.processInfo.hostName)"
        let id = try store.insert(environment: environment, release: f.release, action: action, schemaVersion: f.schemaVersion,
                                  verify: f.verify, verifyRunID: f.verifyRunID, recordedBy: by, runID: context.runID)
        var details: [String: JSONValue] = ["release": .string(f.release), "environment": .string(environment),
                                            "verify": .string(f.verify), "action": .string(action), "id": .int(id)]
        details["schema_version"] = f.schemaVersion.map(JSONValue.int) ?? .null
        details["verify_run_id"] = f.verifyRunID.map(JSONValue.string) ?? .null
        return .ok("recorded " + (action == "rollback" ? "rollback to " : "") + f.message, details: details)
    }

    /// The running release as the service reports it (`GET /version` -> `{"version": "..."}`).
    static func readRelease(_ context: StepContext, endpoint: String, path: String?) throws -> String {
        let response = try context.send(HTTPRequest(url: try context.resolve(url: endpoint), timeout: 10))
        guard (200..<300).contains(response.status) else {
            throw StepError("version endpoint \(endpoint) answered \(response.status): pass --release ID instead",
                            details: ["status": .int(response.status)])
        }
        let text = String(decoding: response.body, as: UTF8.self)
        guard let path else {
            let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !id.isEmpty, id.count <= 200, !id.contains("\n") else {
                throw StepError("version endpoint \(endpoint) answered no single-line release id: set service.release.json to the field holding it")
            }
            return id
        }
        let field = path.hasPrefix(".") ? String(path.dropFirst()) : path
        guard let json = JSONValue.parse(text) else {
            throw StepError("version endpoint \(endpoint) did not answer JSON (service.release.json is \(path))")
        }
        guard let value = json.at(path: field), !value.isNull else {
            throw StepError("version endpoint \(endpoint): no \(path) in its answer")
        }
        let id = value.string ?? value.jsonText
        guard !id.isEmpty else { throw StepError("version endpoint \(endpoint): \(path) is empty") }
        return id
    }
}
