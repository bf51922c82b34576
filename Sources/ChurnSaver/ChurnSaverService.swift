import Foundation
import Hummingbird

/// Wires the routes of the reference service and runs it on 127.0.0.1.
struct ChurnSaverService {
    let configuration: Configuration

    func run() async throws {
        let faults = FaultSwitch(configuration.faults)
        let pool = DatabasePool(dsn: configuration.databaseURL, size: configuration.poolSize, faults: faults,
                                setup: EventProcessor.prepare)
        let logs = RequestLogWriter(pool: pool)
        let health = HealthChecks(pool: pool, whopAPIURL: configuration.whopAPIURL)
        let intake = WebhookIntake(scheme: configuration.scheme, secret: configuration.webhookSecret,
                                   tolerance: configuration.tolerance,
                                   batcher: EventBatcher(pool: pool, lanes: min(configuration.eventLanes, configuration.poolSize)),
                                   faults: faults, logs: logs)
        let provider = ProviderEvents(path: configuration.providerEventsFile)

        let router = Router()
        router.add(middleware: OperationsMiddleware(faults: faults, logs: logs))
        router.get("/api/health") { request, _ -> Response in
            switch request.uri.queryParameters.get("type") ?? "" {
            case "": return await health.respond(["database", "webhooks", "queue"])
            case "db", "database": return await health.respond(["database"])
            case "webhooks": return await health.respond(["webhooks"])
            case "queue": return await health.respond(["queue"])
            case "external": return await health.respond(["external"])
            case let other:
                return JSONResponse.error("unknown health type \(other) (db, webhooks, queue, external)", status: .badRequest)
            }
        }
        router.get("/api/health/db") { _, _ in await health.respond(["database"], extraTopLevel: true) }
        router.get("/api/health/webhooks") { _, _ in await health.respond(["webhooks"], extraTopLevel: true) }
        router.get("/api/health/queue") { _, _ in await health.respond(["queue"], extraTopLevel: true) }
        router.get("/api/health/external") { _, _ in await health.respond(["external"], extraTopLevel: true) }
        router.post(RouterPath(WebhookIntake.endpoint)) { request, _ in try await intake.handle(request) }
        router.get("/api/provider/events") { request, _ in provider.respond(request) }
        // Loopback only: the server binds 127.0.0.1 and nothing else.
        router.get("/admin/faults") { _, _ in JSONResponse.make(["faults": faults.current.json]) }
        router.post("/admin/faults") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 64 * 1024)
            do {
                let spec = String(buffer: body)
                let updated = try faults.update { try $0.apply(spec: spec.isEmpty ? "{}" : spec) }
                return JSONResponse.make(["faults": updated.json])
            } catch {
                return JSONResponse.error("invalid faults", status: .badRequest, extra: ["detail": "\(error)"])
            }
        }
        router.delete("/admin/faults") { _, _ in
            JSONResponse.make(["faults": faults.update { $0 = Faults() }.json])
        }

        let port = configuration.port
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "churn-saver"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                FileHandle.standardOutput.write(Data("churn-saver listening on http://127.0.0.1:\(bound)\n".utf8))
            })
        let flusher = Task { await logs.run() }
        defer { pool.closeAll() }
        do {
            try await app.runService()
        } catch {
            flusher.cancel()
            await flusher.value
            throw error
        }
        flusher.cancel()
        await flusher.value
    }
}
