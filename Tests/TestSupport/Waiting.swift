import Foundation

/// Polls until `condition` holds or `timeout` seconds pass; the last check decides.
/// (Service logs are written in batches, servers take a moment to listen, workers to make progress.)
public func eventually(timeout: Double = 20, every interval: Double = 0.05, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: interval)
    }
    return try condition()
}
