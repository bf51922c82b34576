import Foundation

// churn-saver: the reference "Churn Saver" service opsctl is demonstrated and tested against.
// Environment: DATABASE_URL, WHOP_WEBHOOK_SECRET, WEBHOOK_SCHEME (whop|standard|stripe), PORT (8080; 0 picks
// a free one), FAULTS, PROVIDER_EVENTS_FILE, WHOP_API_URL, DB_POOL_SIZE, EVENT_LANES, WEBHOOK_TOLERANCE_SECONDS, LOG_LEVEL.
let configuration: Configuration
do {
    configuration = try Configuration.load()
} catch {
    FileHandle.standardError.write(Data("churn-saver: \(error)\n".utf8))
    exit(64)
}
if ProcessInfo.processInfo.environment["LOG_LEVEL"] == nil { setenv("LOG_LEVEL", "warning", 1) }
if !configuration.faults.isEmpty {
    let text = (try? JSONSerialization.data(withJSONObject: configuration.faults.json, options: [.sortedKeys]))
        .map { String(decoding: $0, as: UTF8.self) } ?? ""
    FileHandle.standardError.write(Data("churn-saver: faults in force: \(text)\n".utf8))
}
do {
    try await ChurnSaverService(configuration: configuration).run()
} catch {
    FileHandle.standardError.write(Data("churn-saver: \(error)\n".utf8))
    exit(1)
}
