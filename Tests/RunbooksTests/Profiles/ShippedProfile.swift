import Foundation

/// One shipped profile as the end-to-end tests stand it up: its example directory (opsctl.yaml,
/// migrations, seed data), the receiver config, the secrets, and SQL that breaks it in known ways.
/// Service names live here and in the profiles' YAML, never in Sources.
struct ShippedProfile: Sendable, CustomStringConvertible {
    var name: String
    /// The example opsctl.yaml's `database_url_env`.
    var databaseEnv: String
    var secrets: [String: String]
    /// Text of the example opsctl.yaml replaced by the stand's own (the local base_url, an API URL).
    var rewrites: [(String, String)] = []
    /// Variables a deploy has (predeploy checks them against the profile's env_rules).
    var deployEnv: [String: String] = [:]
    /// TypeORM applies the migrations (psql here, plus its `migrations` table); opsctl adopts that history.
    var typeorm = false
    var eventTable: String
    var providerID: String
    /// WHERE clauses over the event table.
    var failedWhere: String
    var processedWhere: String
    /// Turns the three newest processed events into failed ones, as a crashing handler leaves them.
    var failThree: String
    /// Leaves one event waiting for two hours: reconcile's `unprocessed` and verify's `event-backlog` go red.
    var stuckPending: String
    /// Breaks one of the profile's invariants; `invariantStep` is the reconcile step that must go red.
    var brokenInvariant: String
    var invariantStep: String
    /// Breaks an invariant the profile can repair safely; `fixableStep` is its check (reconcile --fix repairs it).
    var fixable: String
    var fixableStep: String

    var description: String { name }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../..").standardized.path
    var example: String { "\(Self.root)/examples/\(name)" }
    var fragments: String { "\(Self.root)/profiles/\(name)/runbooks" }
    var receiverConfig: String { "\(Self.root)/Tests/Fixtures/services/profiles/\(name).json" }

    static let all: [ShippedProfile] = [
        ShippedProfile(
            name: "stripe-webhooks", databaseEnv: "DATABASE_URL",
            secrets: ["STRIPE_WEBHOOK_SECRET": "whsec_" + String(repeating: "s", count: 32)],
            rewrites: [("http://127.0.0.1:4242", "{base}")],
            deployEnv: ["STRIPE_API_KEY": "rk_test_" + String(repeating: "k", count: 24)],
            eventTable: "stripe_events", providerID: "id",
            failedWhere: "status = 'failed'", processedWhere: "status = 'processed'",
            failThree: """
                UPDATE stripe_events SET status = 'failed', last_error = 'StripeHandlerError: customer lookup timed out', attempts = 3,
                       processed_at = NULL
                 WHERE id IN (SELECT id FROM stripe_events WHERE status = 'processed' ORDER BY received_at DESC LIMIT 3)
                """,
            stuckPending: """
                UPDATE stripe_events SET status = 'pending', processed_at = NULL, received_at = now() - interval '2 hours'
                 WHERE id = (SELECT id FROM stripe_events WHERE status = 'processed' AND type = 'invoice.paid' ORDER BY id LIMIT 1)
                """,
            brokenInvariant: """
                INSERT INTO payment_recovery_attempts (stripe_event_id, customer_id, invoice_id, amount_cents, action)
                VALUES ('evt_never_stored', 'cus_lost', 'in_lost', 4900, 'dunning_email')
                """,
            invariantStep: "attempts-without-processed-event",
            fixable: """
                UPDATE stripe_events SET last_error = 'timeout on first attempt', attempts = 2
                 WHERE id = (SELECT max(id) FROM stripe_events WHERE status = 'processed')
                """,
            fixableStep: "processed-with-error"),
        ShippedProfile(
            name: "whop-app", databaseEnv: "DATABASE_URL",
            secrets: ["WHOP_WEBHOOK_SECRET": "whop_wh_" + String(repeating: "w", count: 32)],
            rewrites: [("http://127.0.0.1:3000", "{base}")],
            deployEnv: ["NEXT_PUBLIC_WHOP_APP_ID": "app_seedApp42", "WHOP_API_KEY": "apik_" + String(repeating: "a", count: 24)],
            eventTable: "whop_events", providerID: "whop_event_id",
            failedWhere: "processed_at IS NULL AND error_message IS NOT NULL", processedWhere: "processed_at IS NOT NULL",
            failThree: """
                UPDATE whop_events SET processed_at = NULL, error_message = 'WhopApiError: 503 from /v5/memberships', retry_count = 3
                 WHERE id IN (SELECT id FROM whop_events WHERE processed_at IS NOT NULL ORDER BY id DESC LIMIT 3)
                """,
            stuckPending: """
                UPDATE whop_events SET processed_at = NULL, created_at = now() - interval '2 hours'
                 WHERE id = (SELECT min(id) FROM whop_events)
                """,
            brokenInvariant: """
                UPDATE circuit_breaker_metrics SET state = 'open', failure_count = 5, last_failure_time = now() - interval '5 minutes',
                       last_success_time = now() - interval '1 minute'
                 WHERE service_name = 'whop_api'
                """,
            invariantStep: "breaker-open-after-success",
            fixable: """
                UPDATE circuit_breaker_metrics SET state = 'open', last_failure_time = now() - interval '10 minutes',
                       last_success_time = now() - interval '30 seconds'
                 WHERE service_name = 'whop_oauth'
                """,
            fixableStep: "breaker-open-after-success"),
        ShippedProfile(
            name: "twentycrm-whop", databaseEnv: "PG_DATABASE_URL",
            secrets: ["WHOP_WEBHOOK_SECRET": "whsec_" + Data(repeating: 0x5a, count: 24).base64EncodedString()],
            rewrites: [("http://127.0.0.1:3000", "{base}")],
            deployEnv: ["AUTH_WHOP_CLIENT_ID": "client_seed_twenty", "AUTH_WHOP_CLIENT_SECRET": "cs_" + String(repeating: "c", count: 24),
                        "AUTH_WHOP_CALLBACK_URL": "https://crm.example.com/auth/whop/callback"],
            typeorm: true,
            eventTable: "whop_webhook_log", providerID: "whop_event_id",
            failedWhere: "status = 'failed'", processedWhere: "status = 'processed'",
            failThree: """
                UPDATE whop_webhook_log SET status = 'failed', error_message = 'QueryFailedError: deadlock detected', attempts = 2, processed_at = NULL
                 WHERE id IN (SELECT id FROM whop_webhook_log WHERE status = 'processed' ORDER BY created_at DESC LIMIT 3)
                """,
            stuckPending: """
                UPDATE whop_webhook_log SET status = 'received', processed_at = NULL, created_at = now() - interval '2 hours'
                 WHERE id = (SELECT id FROM whop_webhook_log ORDER BY whop_event_id LIMIT 1)
                """,
            brokenInvariant: "UPDATE connected_account SET deleted_at = now() WHERE handle = 'biz_seed_2'",
            invariantStep: "webhooks-without-connection",
            fixable: "UPDATE connected_account SET auth_failed_at = now() - interval '1 hour' WHERE handle = 'biz_seed_1'",
            fixableStep: "auth-failed-connections"),
        ShippedProfile(
            name: "shopify-membership", databaseEnv: "DATABASE_URL",
            secrets: ["SHOPIFY_WEBHOOK_SECRET": "shpss_" + String(repeating: "h", count: 32),
                      "SHOPIFY_ADMIN_ACCESS_TOKEN": "shpat_" + String(repeating: "t", count: 32)],
            rewrites: [("http://127.0.0.1:3000", "{base}"), ("https://atp-store.myshopify.com/admin/api/2024-01", "{base}/admin/api/2024-01")],
            deployEnv: ["SHOPIFY_STORE_DOMAIN": "atp-store.myshopify.com"],
            eventTable: "shopify_webhooks", providerID: "webhook_id",
            failedWhere: "status = 'failed'", processedWhere: "status = 'processed'",
            failThree: """
                UPDATE shopify_webhooks SET status = 'failed', error = 'ShopifyAPIError: 429 Too Many Requests', attempts = 2, processed_at = NULL
                 WHERE webhook_id IN (SELECT webhook_id FROM shopify_webhooks WHERE status = 'processed' ORDER BY received_at DESC LIMIT 3)
                """,
            stuckPending: """
                UPDATE shopify_webhooks SET status = 'pending', processed_at = NULL, received_at = now() - interval '2 hours'
                 WHERE webhook_id = (SELECT min(webhook_id) FROM shopify_webhooks)
                """,
            brokenInvariant: "DELETE FROM memberships WHERE id = (SELECT max(id) FROM memberships)",
            invariantStep: "paid-orders-without-membership",
            fixable: "UPDATE memberships SET expires_at = now() - interval '1 day' WHERE id = (SELECT min(id) FROM memberships)",
            fixableStep: "expired-still-active"),
    ]
}
