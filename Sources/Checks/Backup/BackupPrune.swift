import Foundation

/// Deletes the backups a grandfather-father-son policy does not keep (`keep: {daily, weekly, monthly}`).
public struct BackupPrune: StepKind {
    public static let name = "backup.prune"
    public static let summary = "Apply the keep policy (newest backup of each of the last N days, ISO weeks, months); dry-run lists what would go"
    public static let parameters: [ParameterSpec] = [
        .init("dir", .string, required: true, "backup directory (opsctl.yaml backups.dir)"),
        .init("keep", .map, "{daily: 7, weekly: 4, monthly: 3} (opsctl.yaml backups.keep)"),
    ]
    public static let mutates = true
    public static let example = """
        - id: prune
          kind: backup.prune
          with: { dir: /tmp/opsctl-example-backups, keep: { daily: 7, weekly: 4, monthly: 3 } }
        """

    let dir: String
    let keep: Policy

    /// How many periods of each size keep their newest backup.
    public struct Policy: Sendable, Equatable {
        public var daily: Int, weekly: Int, monthly: Int
        public init(daily: Int = 7, weekly: Int = 4, monthly: Int = 3) {
            self.daily = daily
            self.weekly = weekly
            self.monthly = monthly
        }
    }

    public init(_ p: StepParameters) throws {
        dir = try p.string("dir")
        let map = try p.map("keep")
        func count(_ key: String, _ d: Int) throws -> Int {
            guard let v = map[key] else { return d }
            guard let n = v.int, n >= 0 else { throw StepError("step '\(p.stepID)': keep.\(key) must be a whole number ≥ 0") }
            return n
        }
        for key in map.keys where !["daily", "weekly", "monthly"].contains(key) {
            throw StepError("step '\(p.stepID)': unknown keep period '\(key)' (daily, weekly, monthly)")
        }
        keep = Policy(daily: try count("daily", 7), weekly: try count("weekly", 4), monthly: try count("monthly", 3))
    }

    /// The backups (newest first) the policy keeps: for each period size, the newest backup of each of
    /// the N most recent periods that have one, and always the newest. Everything else may go.
    public static func kept(_ dates: [Date], policy: Policy) -> Set<Int> {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        // The newest backup always stays, whatever the policy says: pruning must never leave none.
        var keep: Set<Int> = dates.isEmpty ? [] : [0]
        func select(_ limit: Int, _ period: (Date) -> String) {
            var seen: [String] = []
            for (i, date) in dates.enumerated() {
                let key = period(date)
                if seen.contains(key) { continue }
                if seen.count >= limit { break }
                seen.append(key)
                keep.insert(i)
            }
        }
        select(policy.daily) { let c = calendar.dateComponents([.year, .month, .day], from: $0); return "\(c.year!)-\(c.month!)-\(c.day!)" }
        select(policy.weekly) { let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: $0); return "\(c.yearForWeekOfYear!)-W\(c.weekOfYear!)" }
        select(policy.monthly) { let c = calendar.dateComponents([.year, .month], from: $0); return "\(c.year!)-\(c.month!)" }
        return keep
    }

    func split() throws -> (keep: [BackupStore.Entry], delete: [BackupStore.Entry]) {
        let entries = try BackupStore(directory: dir).entries()
        let kept = Self.kept(entries.map(\.createdAt), policy: keep)
        return (entries.indices.filter { kept.contains($0) }.map { entries[$0] },
                entries.indices.filter { !kept.contains($0) }.map { entries[$0] })
    }

    var policyText: String { "keep daily \(keep.daily), weekly \(keep.weekly), monthly \(keep.monthly)" }

    public func plan(_ context: StepContext) throws -> String {
        let (kept, delete) = try split()
        guard !delete.isEmpty else { return "would delete nothing: \(kept.count) backup(s), all kept (\(policyText))" }
        return (["would delete \(delete.count) of \(kept.count + delete.count) backup(s) (\(policyText)):"]
                + delete.map { "  \($0.name)" }).joined(separator: "\n")
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let (kept, delete) = try split()
        var deleted: [JSONValue] = [], freed: Int64 = 0
        for entry in delete {
            if context.cancellation.isCancelled { break }
            do {
                try FileManager.default.removeItem(atPath: entry.path)
                try? FileManager.default.removeItem(atPath: BackupStore.manifestPath(for: entry.path))
            } catch {
                throw StepError("cannot delete \(entry.path): \(error.localizedDescription) (deleted \(deleted.count) before it)")
            }
            deleted.append(.string(entry.name))
            freed += entry.sizeBytes
        }
        return .ok("deleted \(deleted.count) backup(s), freed \(ByteText.format(freed)); kept \(kept.count) (\(policyText))",
                   details: ["deleted": .array(deleted), "kept": .array(kept.map { .string($0.name) })],
                   metrics: [Metric(name: "deleted", value: Double(deleted.count), unit: "count", min: 0),
                             Metric(name: "freed", value: Double(freed), unit: "B", min: 0)])
    }
}
