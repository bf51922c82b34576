import Foundation
import Postgres

/// Sessions waiting on a lock, with who blocks them.
public struct PostgresLockWaits: StepKind {
    public static let name = "postgres.lock_waits"
    public static let summary = "Sessions waiting on locks in this database, the blocking pid chain and the root blocker's query"
    public static let parameters: [ParameterSpec] = [
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
        .init("warn", .int, default: 1, "waiting sessions at or above which the step warns"),
        .init("crit", .int, default: 5, "waiting sessions at or above which the step fails"),
    ]
    public static let mutates = false
    public static let example = """
        - id: lock-waits
          kind: postgres.lock_waits
          with: { warn: 1, crit: 5 }
        """

    let variable: String?
    let warn: Int, crit: Int

    public init(_ p: StepParameters) throws {
        variable = try p.optionalString("database_url_env")
        warn = try p.int("warn", default: 1)
        crit = try p.int("crit", default: 5)
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let (rows, blockers) = try context.readOnlyQuery(variable: variable) { db -> ([Postgres.Row], [Postgres.Row]) in
            let waiting = try db.query("""
                SELECT pid, pg_blocking_pids(pid) AS blocked_by, left(query, 200) AS query,
                       extract(epoch FROM now() - state_change)::float8 AS waiting_s
                  FROM pg_stat_activity
                 WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND datname = current_database()
                 ORDER BY state_change LIMIT 100
                """).rows
            let pids = Set(waiting.flatMap { ($0["blocked_by"].array ?? []).compactMap(\.int) })
            guard !pids.isEmpty else { return (waiting, []) }
            // The sessions at the head of each chain: what they run and since when.
            let heads = try db.query("""
                SELECT pid, coalesce(state, '') AS state, application_name, left(query, 200) AS query,
                       extract(epoch FROM now() - xact_start)::float8 AS transaction_s
                  FROM pg_stat_activity WHERE pid = ANY ($1::int[])
                """, [pids.sorted().map(String.init)]).rows
            return (waiting, heads)
        }
        let count = rows.count
        let status: StepStatus = count >= crit ? .fail : count >= warn ? .warn : .ok
        let blockedBy = Dictionary(rows.map { ($0["pid"].int ?? 0, ($0["blocked_by"].array ?? []).compactMap(\.int)) }, uniquingKeysWith: { a, _ in a })
        let sessions = Dictionary(blockers.map { ($0["pid"].int ?? 0, $0) }, uniquingKeysWith: { a, _ in a })
        // Follows the first blocker of each waiting pid to the session that waits on nobody (the root).
        func chain(_ pid: Int) -> [Int] {
            var path = [pid], current = pid
            while let next = blockedBy[current]?.first, !path.contains(next) {
                path.append(next)
                current = next
            }
            return path
        }
        let waiting: [JSONValue] = rows.map { r in
            let pid = r["pid"].int ?? 0, path = chain(pid)
            return .object(["pid": .int(pid),
                            "blocked_by": .array((r["blocked_by"].array ?? []).map { .int($0.int ?? 0) }),
                            "chain": .array(path.map(JSONValue.int)),
                            "root_blocker": .int(path.last ?? pid),
                            "waiting_s": .double(r["waiting_s"].double ?? 0),
                            "query": .string(r["query"].string ?? "")])
        }
        let roots = Set(rows.compactMap { r in r["pid"].int.map { chain($0).last ?? $0 } }).filter { blockedBy[$0] == nil }.sorted()
        let rootDetails: [JSONValue] = roots.map { pid in
            let s = sessions[pid]
            return .object(["pid": .int(pid), "state": .string(s?["state"].string ?? ""),
                            "application_name": .string(s?["application_name"].string ?? ""),
                            "transaction_s": .double(s?["transaction_s"].double ?? 0), "query": .string(s?["query"].string ?? "")])
        }
        let longest = rows.map { chain($0["pid"].int ?? 0) }.max { $0.count < $1.count } ?? []
        var message = "no sessions waiting on locks"
        if count > 0 {
            let head = roots.first.flatMap { sessions[$0] }
            message = "\(count) session(s) waiting on locks; longest chain \(longest.map(String.init).joined(separator: " ← ")); "
                + "root blocker pid \(roots.map(String.init).joined(separator: ", "))"
                + (head.map { " (\($0["state"].string ?? "?"): \(String(($0["query"].string ?? "").prefix(80))))" } ?? "")
        }
        return .init(status, message, details: ["waiting": .array(waiting), "root_blockers": .array(rootDetails)],
                     metrics: [Metric(name: "lock_waits", value: Double(count), unit: "count", warn: Double(warn), crit: Double(crit), min: 0),
                               Metric(name: "lock_chain_depth", value: Double(Swift.max(0, longest.count - 1)), unit: "count", min: 0)])
    }
}
