import Foundation
import Postgres

/// Buffers `api_request_logs` and `webhook_logs` rows and writes them in one statement per table
/// every few hundred milliseconds, so logging costs a request no database round trip.
final class RequestLogWriter: @unchecked Sendable {
    struct APIRequest {
        var route: String
        var method: String
        var statusCode: Int
        var durationMs: Int
        var at: Date
    }

    struct WebhookDelivery {
        var endpoint: String
        var eventType: String?
        var success: Bool
        var durationMs: Int
        var error: String?
        var at: Date
    }

    private let pool: DatabasePool
    private let lock = NSLock()
    private var requests: [APIRequest] = []
    private var deliveries: [WebhookDelivery] = []
    /// Rows dropped because the buffer was full (rows are kept while the database is down).
    private(set) var dropped = 0
    static let capacity = 50_000

    init(pool: DatabasePool) { self.pool = pool }

    func record(_ row: APIRequest) {
        lock.withLock {
            if requests.count < Self.capacity { requests.append(row) } else { dropped += 1 }
        }
    }

    func record(_ row: WebhookDelivery) {
        lock.withLock {
            if deliveries.count < Self.capacity { deliveries.append(row) } else { dropped += 1 }
        }
    }

    /// Flushes every `interval` until the task is cancelled, then once more.
    func run(interval: Duration = .milliseconds(200)) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await flush()
        }
        await flush()
    }

    func flush() async {
        let (api, hooks) = lock.withLock { () -> ([APIRequest], [WebhookDelivery]) in
            defer { requests.removeAll(keepingCapacity: true); deliveries.removeAll(keepingCapacity: true) }
            return (requests, deliveries)
        }
        if api.isEmpty && hooks.isEmpty { return }
        do {
            try await pool.run { connection in
                if !api.isEmpty {
                    try connection.query("""
                        INSERT INTO api_request_logs (route, method, status_code, duration_ms, created_at)
                        SELECT r, m, s::int, d::bigint, to_timestamp(c::float8)
                          FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(r, m, s, d, c)
                        """, [api.map(\.route), api.map(\.method), api.map { String($0.statusCode) },
                              api.map { String($0.durationMs) }, api.map { Self.timestamp($0.at) }])
                }
                if !hooks.isEmpty {
                    // Text arrays cannot carry NULL here: '' stands for "none".
                    try connection.query("""
                        INSERT INTO webhook_logs (endpoint, event_type, status, duration_ms, error, created_at)
                        SELECT e, nullif(t, ''), s, d::bigint, nullif(err, ''), to_timestamp(c::float8)
                          FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
                               AS u(e, t, s, d, err, c)
                        """, [hooks.map(\.endpoint), hooks.map { $0.eventType ?? "" },
                              hooks.map { $0.success ? "success" : "failed" }, hooks.map { String($0.durationMs) },
                              hooks.map { $0.error ?? "" }, hooks.map { Self.timestamp($0.at) }])
                }
            }
        } catch let error as PostgresError where error.kind == .connection {
            // The database is away (an outage, the db_down fault): keep the rows for the next flush, as a
            // service should, so the incident's 5xx are in the logs once it is back. Beyond capacity the
            // oldest rows go.
            lock.withLock {
                requests = Self.bounded(api + requests, &dropped)
                deliveries = Self.bounded(hooks + deliveries, &dropped)
            }
        } catch {
            // Rows the database refuses (no log tables before the first migration) never will be written.
            lock.withLock { dropped += api.count + hooks.count }
        }
    }

    private static func bounded<Row>(_ rows: [Row], _ dropped: inout Int) -> [Row] {
        guard rows.count > capacity else { return rows }
        dropped += rows.count - capacity
        return Array(rows.suffix(capacity))
    }

    private static func timestamp(_ date: Date) -> String {
        String(format: "%.6f", date.timeIntervalSince1970)
    }
}
