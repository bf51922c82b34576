import Checks
import Foundation
import Support
import Postgres
import Testing
import TestSupport

/// reconcile.provider_diff pages through a real local provider API in each pagination style, with the
/// auth header from a secret env var and a since window, and reports what the event store lacks.
@Suite(.enabled(if: TestDatabase.available), .serialized)
final class ProviderEventsAPITests {
    /// Nine events, newest first (as Stripe lists them): seven of the last hours, two older than two days.
    static let events: [(id: String, created: Int)] = {
        let now = Int(Date().timeIntervalSince1970)
        return (1...9).map { i in ("evt_api_\(i)", i <= 7 ? now - i * 600 : now - 3 * 86_400 - i) }
    }()
    /// The event store has these three of the recent seven.
    static let stored = ["evt_api_1", "evt_api_4", "evt_api_6"]

    let fixture: ProviderFixture
    let databaseURL: String

    init() throws {
        fixture = try ProviderFixture(events: Self.events.map {
            #"{"id":"\#($0.id)","object":"event","type":"invoice.paid","created":\#($0.created),"data":{"object":{"id":"in_1"}}}"#
        })
        databaseURL = try TestDatabase.fresh("provider_api")
        let db = try PostgresConnection(dsn: databaseURL)
        defer { db.close() }
        _ = try db.query("CREATE TABLE hooks (hook_id text PRIMARY KEY, kind text NOT NULL, body jsonb NOT NULL, done boolean NOT NULL DEFAULT true)")
        for id in Self.stored { _ = try db.query("INSERT INTO hooks (hook_id, kind, body) VALUES ($1, 'invoice.paid', '{}')", [id]) }
    }

    func config(_ api: String) -> String {
        """
        environments:
          local:
            base_url: \(fixture.baseURL)
            database_url_env: HOOKS_DATABASE_URL
        service:
          events: { table: hooks, provider_id: hook_id, type: kind, payload: body, state: { column: done } }
          provider:
            scheme: stripe
            secret_env: STRIPE_SECRET
            events_api: \(api)
        """
    }

    func diff(_ api: String, since: String = "24h", env: [String: String] = [:]) throws -> (ProcessOutput, JSONValue?) {
        _ = try fixture.directory.write("diff.yaml", """
            name: diff
            steps:
              - id: diff
                kind: reconcile.provider_diff
                with: { since: \(since), plan_file: missing.jsonl }
            """)
        let out = try fixture.opsctl(["run", "diff.yaml", "--format", "json"], config: config(api),
                                     env: ["HOOKS_DATABASE_URL": databaseURL].merging(env) { $1 })
        let step = JSONValue.parse(Data(out.stdout.utf8))?["results"]?.array?.first { $0["id"]?.string == "diff" }
        return (out, step)
    }

    static let auth = "auth: { secret_env: PROVIDER_API_KEY }"

    @Test(arguments: [
        // style, events_api, pages the style needs for the listing
        ("cursor", "{ url: /events/cursor, \(auth), pagination: cursor, page_size: 2, since_param: created_after, since_format: iso8601 }", 5),
        ("stripe", "{ url: /events/stripe, \(auth), pagination: stripe, page_size: 2 }", 4),
        ("page", "{ url: /events/page, \(auth), pagination: page, page_size: 2, items: items, total_pages: total_pages }", 5),
        ("link", "{ url: /events/link, \(auth), pagination: link, page_size: 2, items: \"\" }", 5),
    ])
    func eachPaginationStyleFindsTheMissingEventsOfTheWindow(_ style: String, _ api: String, _ pages: Int) throws {
        let (out, step) = try diff(api)
        #expect(out.exitCode == 1, "\(out.stdout)\(out.stderr)")
        let details = step?["details"] ?? .null
        #expect(step?["status"]?.string == "fail", "\(out.stdout)")
        #expect(details["provider_events"]?.int == 7, "the window keeps the seven recent events: \(details)")
        #expect(details["missing"]?.int == 4, "\(details)")
        #expect(details["pages"]?.int == pages, "\(details)")
        let plan = try String(contentsOfFile: fixture.directory.path + "/missing.jsonl", encoding: .utf8)
        let planned = Set(plan.split(separator: "\n").compactMap { JSONValue.parse(Data($0.utf8))?["id"]?.string })
        #expect(planned == ["evt_api_2", "evt_api_3", "evt_api_5", "evt_api_7"])

        let requests = fixture.records(fixture.requestsFile)
        #expect(requests.count == pages)
        #expect(requests.allSatisfy { $0["authorization"]?.string == "Bearer " + ProviderFixture.secrets["PROVIDER_API_KEY"]! })
        #expect(!out.stdout.contains(ProviderFixture.secrets["PROVIDER_API_KEY"]!) && !out.stderr.contains(ProviderFixture.secrets["PROVIDER_API_KEY"]!))
        if style == "cursor" {
            // A configured since_param carries the window in the configured format.
            let sent = requests.compactMap { $0["query"]?["created_after"]?.string }
            #expect(sent.count == pages && sent.allSatisfy { ISO8601DateFormatter().date(from: $0) != nil }, "\(requests)")
        }
        if style == "stripe" {
            // Stripe filters on its side: the window goes as created[gte], the cursor as starting_after.
            #expect(requests.allSatisfy { $0["query"]?["created[gte]"]?.string != nil }, "\(requests)")
            #expect(requests.dropFirst().allSatisfy { $0["query"]?["starting_after"]?.string != nil }, "\(requests)")
            #expect(details["outside_window"] == nil)
        } else {
            #expect(details["outside_window"]?.int == 2, "\(details)")
        }
    }

    @Test func everythingStoredIsOK() throws {
        let db = try PostgresConnection(dsn: databaseURL)
        for e in Self.events { _ = try db.query("INSERT INTO hooks (hook_id, kind, body) VALUES ($1, 'invoice.paid', '{}') ON CONFLICT DO NOTHING", [e.id]) }
        db.close()
        let (out, step) = try diff("{ url: /events/stripe, \(Self.auth), pagination: stripe, page_size: 4 }", since: "7d")
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        #expect(step?["message"]?.string?.contains("has all 9 provider events created in the last") == true, "\(out.stdout)")
    }

    @Test func aRefusedKeyNamesTheHostAndTheVariable() throws {
        let wrong = "sk_test_wrong_key_never_shown_0042"
        let (out, step) = try diff("{ url: /events/cursor, \(Self.auth) }", env: ["PROVIDER_API_KEY": wrong])
        #expect(out.exitCode == 1, "\(out.stdout)\(out.stderr)")
        let message = step?["message"]?.string ?? ""
        #expect(message.contains("127.0.0.1:\(fixture.port) answered 401 Unauthorized") && message.contains("PROVIDER_API_KEY"), "\(message)")
        #expect(!out.stdout.contains(wrong) && !out.stderr.contains(wrong))

        let unset = try diff("{ url: /events/cursor, auth: { secret_env: NO_SUCH_KEY } }").1?["message"]?.string ?? ""
        #expect(unset.contains("NO_SUCH_KEY is not set"), "\(unset)")
    }

    @Test func a429IsWaitedOutAndA5xxNamesTheHost() throws {
        let (ok, step) = try diff("{ url: /events/ratelimited, \(Self.auth), page_size: 5 }")
        #expect(step?["details"]?["missing"]?.int == 4, "\(ok.stdout)\(ok.stderr)")
        #expect((step?["details"]?["rate_limited_wait_s"]?.double ?? 0) >= 1, "Retry-After: 1 was honoured: \(ok.stdout)")

        let (broken, failed) = try diff("{ url: /events/broken, \(Self.auth) }")
        #expect(broken.exitCode == 1)
        let message = failed?["message"]?.string ?? ""
        #expect(message.contains("127.0.0.1:\(fixture.port) answered 503") && message.contains("try again later"), "\(message)")
        #expect(fixture.records(fixture.requestsFile).filter { $0["path"]?.string == "/events/broken" }.count == 3, "two retries, then the error")
    }
}
