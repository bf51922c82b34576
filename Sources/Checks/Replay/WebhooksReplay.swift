import Foundation
import HTTP
import Postgres
import Support
import Webhooks

/// Redelivers selected events to the service's webhook endpoint, re-signed with a fresh timestamp,
/// checkpointing each event's outcome so a replay can be resumed or shared by several workers.
public struct WebhooksReplay: StepKind {
    public static let name = "webhooks.replay"
    public static let summary = "Redeliver lost or failed webhook events, re-signed; concurrent, rate-limited, checkpointed, resumable, shareable by workers"
    public static let parameters: [ParameterSpec] = [
        .init("failed", .bool, default: false, "select events with an error, or unprocessed for longer than `stale`"),
        .init("stale", .duration, default: "15m", "how long an unprocessed event may wait before it counts as failed"),
        .init("since", .string, "events that occurred at or after this time (timestamp, or a duration ago like 2h)"),
        .init("until", .string, "events that occurred before this time (timestamp, or a duration ago)"),
        .init("types", .list, "only these event types"),
        .init("company", .string, "only this company_id"),
        .init("ids_file", .string, "only the event ids listed in this file (one a line)"),
        .init("from_file", .string, "send the events of this JSON-lines export (e.g. reconcile.provider_diff's plan) instead of reading the events table"),
        .init("limit", .int, "at most this many events"),
        .init("resume", .string, "replay id (or `latest`) to continue: only events not acknowledged are sent"),
        .init("join", .string, "replay id (or `latest`) to help with as one more worker"),
        .init("url", .string, "the webhook endpoint (a path is relative to the environment's base_url; default: the environment's webhook path, service.provider.webhook_path)"),
        .init("scheme", .string, default: "whop", "signing scheme: whop, standard, stripe, shopify"),
        .init("secret_env", .string, "env var holding the signing secret (default: the environment's, service.provider.secret_env)"),
        .init("concurrency", .int, default: 8, "requests in flight (resume/join: the replay's own, unless given)"),
        .init("rate", .string, "at most this many events per second (50 or 50/s); default unthrottled (resume/join: the replay's own rate, unless given)"),
        .init("max_attempts", .int, default: 5, "attempts per event on 5xx and connection errors (429 allows four times as many)"),
        .init("backoff", .duration, default: "500ms", "first retry delay; doubles per attempt"),
        .init("backoff_cap", .duration, default: "30s", "longest retry delay"),
        .init("request_timeout", .duration, default: "30s", "timeout of one delivery"),
        .init("worker", .string, "worker name in the checkpoint table (default host:pid)"),
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
    ]
    public static let mutates = true
    public static let example = """
        - id: replay-provider-export
          kind: webhooks.replay
          with:
            from_file: /dev/null      # the provider's export (JSON lines); see reconcile.provider_diff
            rate: 50/s
            concurrency: 8
        """

    let selection: ReplaySelection
    let resume: String?
    let join: String?
    let givenURL: String?
    let scheme: WebhookScheme
    let givenSecretEnv: String?
    /// As given on this step; nil = the default for a new replay, the replay's own pace for resume/join.
    let concurrency: Int?
    let rate: Double?
    let maxAttempts: Int
    let backoff: Double, backoffCap: Double
    let requestTimeout: Double
    let worker: String
    let variable: String?
    let stepID: String

    public init(_ p: StepParameters) throws {
        selection = try ReplaySelection(p)
        resume = try p.nonEmptyString("resume")
        join = try p.nonEmptyString("join")
        givenURL = try p.nonEmptyString("url")
        let schemeName = try p.string("scheme", default: "whop")
        guard let s = WebhookScheme(name: schemeName) else {
            throw StepError("step '\(p.stepID)': scheme '\(schemeName)' is not one of \(WebhookScheme.namesForMessages)")
        }
        scheme = s
        givenSecretEnv = try p.nonEmptyString("secret_env")
        concurrency = p["concurrency"] == nil ? nil : try p.int("concurrency", default: ReplayPace.defaultConcurrency)
        if let concurrency, !(1...512).contains(concurrency) { throw StepError("step '\(p.stepID)': concurrency must be 1...512") }
        let rateText = (p["rate"]?.string ?? p["rate"].map { $0.jsonText } ?? "").lowercased()
            .replacingOccurrences(of: "/s", with: "").trimmingCharacters(in: .whitespaces)
        // Bounded: 1e19/s used to trap when printed as Int; NaN and infinity are not rates. Empty: the
        // replay's recorded rate (on resume/join) or unthrottled.
        if !rateText.isEmpty {
            guard let r = Double(rateText), r.isFinite, r >= 0, r <= 10_000 else {
                throw StepError("step '\(p.stepID)': rate must be events per second from 0 (unthrottled) to 10000, like 50 or 50/s")
            }
        }
        rate = rateText.isEmpty ? nil : Double(rateText)
        maxAttempts = max(1, try p.int("max_attempts", default: 5))
        backoff = try p.duration("backoff", default: 0.5)
        backoffCap = try p.duration("backoff_cap", default: 30)
        requestTimeout = try p.duration("request_timeout", default: 30)
        worker = try p.nonEmptyString("worker")
            ?? "\(ProcessInfo.processInfo.hostName):\(getpid())"
        variable = try p.optionalString("database_url_env")
        stepID = p.stepID
        if resume != nil && join != nil { throw StepError("step '\(p.stepID)': give resume or join, not both") }
        if resume == nil && join == nil && selection.isEmpty {
            throw StepError("step '\(p.stepID)': say which events to replay: failed, since/until, types, company, ids_file or from_file (or resume/join a replay)")
        }
    }

    // MARK: - Dry run

    /// What a real run would hit before sending anything: no signing secret, an endpoint that cannot be
    /// resolved, an unreachable database, a missing events table, a selection the database rejects
    /// (`since: garbage`), an unreadable ids_file or from_file, an unknown replay id. No PASSED with
    /// "(could not count: ...)": the dry-run reports `error` with the same reason.
    /// Then: the count by type, the first ids and the duration at the rate.
    public func plan(_ context: StepContext) throws -> String {
        let secretEnv = secretVariable(context)
        guard let secret = context.environment[secretEnv], !secret.isEmpty else { throw Self.missingSecret(secretEnv) }
        SecretMasker.shared.register(secret)
        _ = try context.resolve(url: endpoint(context))
        do {
            return try survey(context)
        } catch let error as PostgresError {
            throw StepError(error.description, details: ["sqlstate": error.sqlState.map(JSONValue.string) ?? .null])
        }
    }

    /// The endpoint and secret variable given to the step, else the environment's (service.provider).
    func endpoint(_ context: StepContext) -> String { givenURL ?? context.webhookPath }
    func secretVariable(_ context: StepContext) -> String { givenSecretEnv ?? context.webhookSecretVariable ?? "" }

    static func missingSecret(_ variable: String) -> StepError {
        if variable.isEmpty { return StepError("no webhook signing secret is declared: set service.provider.secret_env in opsctl.yaml (the env var holding it)") }
        return StepError("\(variable) is not set: export the webhook signing secret the service verifies with (webhook.secret_env in opsctl.yaml names it)")
    }

    /// Counts what would be sent, by type, with the first ids and an estimate at the configured rate.
    func survey(_ context: StepContext) throws -> String {
        let target = (try? context.resolve(url: endpoint(context))) ?? endpoint(context)
        let connection = try context.connect(variable: variable)
        defer { connection.close() }
        var byType: [(String, Int)] = []
        var firstIDs: [String] = []
        var heading: String
        var pace = newPace
        if let existing = resume ?? join {
            let store = ReplayStore(db: connection)
            try store.ensureSchema()
            let id = try store.resolve(existing)
            pace = ReplayPace.given(rate: rate, concurrency: concurrency, else: try store.pace(id: id))
            let rows = try connection.query("""
                SELECT coalesce(event_type, '?') AS type, count(*) AS n, (array_agg(event_id ORDER BY seq))[1:10] AS ids
                  FROM opsctl.replay_items WHERE replay_id = $1 AND status <> 'delivered' GROUP BY 1 ORDER BY 2 DESC
                """, [id]).rows
            byType = rows.map { ($0["type"].string ?? "?", $0["n"].int ?? 0) }
            firstIDs = rows.flatMap { ($0["ids"].array ?? []).compactMap(\.string) }.prefix(10).map { $0 }
            heading = "would \(resume != nil ? "resume" : "join") replay \(id)"
        } else if selection.fromFile != nil {
            let events = try selection.fileEvents()
            byType = Dictionary(grouping: events, by: { $0.type ?? "?" }).map { ($0.key, $0.value.count) }.sorted { $0.1 > $1.1 }
            firstIDs = events.prefix(10).map(\.id)
            heading = "would replay"
        } else {
            let store = try context.service.eventStore(for: stepID)
            let (filter, params) = try selection.filter(store)
            let limitClause = selection.limit.map { " LIMIT \($0)" } ?? ""
            let rows = try connection.readOnly(statementTimeoutMs: 60_000) { db in
                try db.query("""
                    SELECT \(store.typeSQL()) AS type, \(store.providerIDSQL())::text AS event_id
                      FROM \(store.tableSQL) WHERE \(filter) ORDER BY \(store.orderSQL())\(limitClause)
                    """, params).rows
            }
            var counts: [String: Int] = [:]
            for row in rows { counts[row["type"].string ?? "?", default: 0] += 1 }
            byType = counts.sorted { $0.value > $1.value }
            firstIDs = rows.prefix(10).compactMap { $0["event_id"].string }
            heading = "would replay"
        }
        let total = byType.reduce(0) { $0 + $1.1 }
        let types = byType.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        let estimate = pace.rate > 0 ? "~\(DurationText.format(milliseconds: Double(total) / pace.rate * 1000)) at \(Self.format(pace.rate))/s"
                                     : "unthrottled (set rate for an estimate)"
        var text = "\(heading) \(total) event(s)\(types.isEmpty ? "" : " (\(types))") to \(target) signed \(scheme.rawValue); \(estimate)"
        if !selection.isEmpty && resume == nil && join == nil { text += "\n  selection: \(selection.summary)" }
        if !firstIDs.isEmpty { text += "\n  first ids: \(firstIDs.joined(separator: ", "))" }
        text += "\n  concurrency \(pace.concurrency), up to \(maxAttempts) attempts per event on 5xx/connection errors"
        return text
    }

    /// The pace of a replay this step creates.
    var newPace: ReplayPace {
        ReplayPace(rate: rate ?? ReplayPace.defaultRate, concurrency: concurrency ?? ReplayPace.defaultConcurrency)
    }

    static func format(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v) }

    // MARK: - Run

    public func run(_ context: StepContext) throws -> StepOutcome {
        PhaseClock.mark("replay step starts")
        // libcurl loads while the database connections are made, not between the first events and the
        // first request.
        HTTPClient.loadInBackground()
        let secretEnv = secretVariable(context)
        guard let secret = context.environment[secretEnv], !secret.isEmpty else { throw Self.missingSecret(secretEnv) }
        SecretMasker.shared.register(secret)
        let target = try context.resolve(url: endpoint(context))
        // A new replay writes its items on a second connection (ReplayCreation), opened alongside this
        // one; it closes after the commit, or unused.
        let newReplay = resume == nil && join == nil
            ? ReplayCreation(id: ReplayStore.newID(), target: target, selectionJSON: selection.json.jsonText, createdBy: worker,
                             pace: newPace, runID: context.runID, connect: { [variable] in try context.connect(variable: variable) })
            : nil
        // A new replay for sure (not `run --resume` of a run that worked on one): its first events are read
        // while this connection sets up.
        let source = newReplay != nil && context.resumedRunID == nil ? try creationSource(context.service) : nil
        newReplay?.start(reading: source)
        defer {
            newReplay?.abandon()
            newReplay?.finish()
        }
        let connection = try context.connect(variable: variable)
        defer {
            // The selection lock (this session's) is held until the replay is written or given up.
            newReplay?.abandon()
            newReplay?.finish()
            connection.close()
            PhaseClock.mark("replay connection closed")
        }
        PhaseClock.mark("replay connected")
        let store = ReplayStore(db: connection)
        var creation: ReplayCreation?
        do {
            try store.ensureSchema()
            PhaseClock.mark("replay schema current")
            let replayID: String
            var retried = 0
            if let existing = resume ?? join {
                replayID = try store.resolve(existing)
                if resume != nil { retried = try store.resetFailed(id: replayID) }
            } else if let previousRun = context.resumedRunID, let continuing = try store.replay(workedOnBy: previousRun) {
                // `opsctl run replay --resume RUN_ID`: continue that run's replay, not a new selection.
                replayID = continuing
                retried = try store.resetFailed(id: replayID)
                context.progress?("run \(previousRun) worked on replay \(replayID): continuing it")
            } else {
                try store.lockSelection(selection.json.jsonText)
                PhaseClock.mark("replay selection locked")
                let source = try source ?? creationSource(context.service)
                creation = newReplay
                replayID = newReplay?.id ?? ""
                newReplay?.proceed(source)
            }
            let created = creation != nil
            if !created, let runID = context.runID { try store.record(runID: runID, replayID: replayID) }
            // A replay continued (--resume, --join, run --resume) keeps the pace it was started with unless given here.
            let pace = created ? newPace : ReplayPace.given(rate: rate, concurrency: concurrency, else: try store.pace(id: replayID))
            let toSend: Int
            var first: [ReplayEvent] = []
            if let creation {
                let head = try creation.firstEvents()
                PhaseClock.mark("replay first events handed over")
                first = head.events
                toSend = head.total
            } else {
                let before = try store.totals(id: replayID)
                toSend = before["pending"] + before["sending"]
            }
            context.progress?("replay \(replayID): \(toSend) event(s) to send (resume with: opsctl replay --resume \(replayID))")
            let delivery = ReplayDelivery(
                settings: .init(url: target, scheme: scheme, secret: secret, replayID: replayID, worker: worker,
                                concurrency: pace.concurrency, rate: pace.rate, maxAttempts: maxAttempts, backoffBase: backoff,
                                backoffCap: backoffCap, timeout: requestTimeout, insecure: context.insecure,
                                extraHeaders: context.service.provider?.extraHeaders ?? []),
                store: store, cancellation: context.cancellation, progress: context.progress, expected: toSend,
                creation: creation, first: first, connect: { [variable] in try context.connect(variable: variable) })
            let started = Date()
            let summary = try delivery.run()
            let seconds = Date().timeIntervalSince(started)
            PhaseClock.mark("replay delivery done")
            let (after, failures) = try store.conclude(id: replayID)
            PhaseClock.mark("replay concluded")
            var result = outcome(replayID, created: created, retried: retried, summary: summary, seconds: seconds, totals: after,
                                 failures: failures)
            result.details["rate"] = .double(pace.rate)
            result.details["concurrency"] = .int(pace.concurrency)
            return result
        } catch let error as PostgresError {
            throw StepError("checkpoint database: \(error.description)", details: ["sqlstate": error.sqlState.map(JSONValue.string) ?? .null])
        }
    }

    /// What a new replay is made of: the events of `from_file`, or the selection over the service's event store.
    func creationSource(_ service: ServiceMapping) throws -> ReplayCreation.Source {
        if selection.fromFile != nil { return .file(try selection.fileEvents()) }
        let eventStore = try service.eventStore(for: stepID)
        let (filter, params) = try selection.filter(eventStore, first: 2)
        return .table(eventStore, filter: filter, params: params, limit: selection.limit)
    }

    func outcome(_ id: String, created: Bool, retried: Int, summary: ReplayDelivery.Summary, seconds: Double,
                 totals: ReplayStore.Totals, failures: [JSONValue]) -> StepOutcome {
        let rateDone = seconds > 0 ? Double(summary.delivered + summary.failed) / seconds : 0
        let details: [String: JSONValue] = [
            "replay_id": .string(id), "created": .bool(created), "worker": .string(worker),
            "delivered": .int(summary.delivered), "already_processed": .int(summary.duplicates),
            "failed": .int(summary.failed), "requests": .int(summary.requests), "retries": .int(summary.retried),
            "retried_previous_failures": .int(retried),
            "replay_totals": .object(totals.byStatus.mapValues { .int($0) }),
            "failures": .array(failures),
            "resume": .string("opsctl replay --resume \(id)"),
        ]
        let metrics = [
            Metric(name: "events_delivered", value: Double(summary.delivered), unit: "count"),
            Metric(name: "events_failed", value: Double(summary.failed), unit: "count"),
            Metric(name: "delivery_rate", value: rateDone, unit: "per_second"),
        ]
        let notDone = totals["pending"] + totals["sending"]
        var message = "replay \(id): \(summary.delivered) delivered"
        if summary.duplicates > 0 { message += " (\(summary.duplicates) already processed)" }
        message += ", \(summary.failed) failed in \(DurationText.format(milliseconds: seconds * 1000)) (\(Int(rateDone))/s)"
        if totals.total != summary.delivered + summary.failed {
            message += "; replay total \(totals["delivered"])/\(totals.total) delivered"
        }
        if let stopped = summary.stoppedBecause {
            return .init(.fail, message + "; stopped: \(stopped); \(notDone) not sent, nothing lost: opsctl replay --resume \(id)",
                         details: details, metrics: metrics)
        }
        if totals["failed"] > 0 {
            let first = failures.first.flatMap { $0["error"]?.string }.map { " — first: \($0)" } ?? ""
            return .init(.fail, message + "; \(totals["failed"]) failed for good\(first); retry with opsctl replay --resume \(id)",
                         details: details, metrics: metrics)
        }
        if notDone > 0 {
            return .init(.warn, message + "; \(notDone) still with other workers", details: details, metrics: metrics)
        }
        return .ok(message, details: details, metrics: metrics)
    }
}
