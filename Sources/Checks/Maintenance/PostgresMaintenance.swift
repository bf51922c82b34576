import Foundation
import Postgres
import Support

/// VACUUM, ANALYZE, REINDEX and CREATE/DROP INDEX CONCURRENTLY: the statements Postgres refuses inside a
/// transaction block (SQLSTATE 25001), so `sql.exec` cannot run them. Built from named tables and indexes
/// (quoted identifiers), one statement at a time on an autocommit session with lock and statement timeouts.
public struct PostgresMaintenance: StepKind {
    public static let name = "postgres.maintenance"
    public static let summary = "VACUUM [(ANALYZE)], ANALYZE, REINDEX [CONCURRENTLY], CREATE/DROP INDEX CONCURRENTLY outside a transaction; reports duration and dead tuples or index size"
    public static let parameters: [ParameterSpec] = [
        .init("action", .string, required: true, "vacuum, analyze, reindex, create_index or drop_index"),
        .init("table", .string, "the table (vacuum, analyze, reindex of a whole table, create_index)"),
        .init("tables", .list, "several tables: one statement each, in order (vacuum, analyze, reindex)"),
        .init("index", .string, "the index (reindex of one index, create_index's name, drop_index)"),
        .init("columns", .list, "create_index: the indexed columns, in order"),
        .init("unique", .bool, default: false, "create_index: a unique index"),
        .init("using", .string, "create_index: the access method (btree, gin, gist, brin, hash)"),
        .init("analyze", .bool, default: false, "vacuum: VACUUM (ANALYZE)"),
        .init("concurrently", .bool, default: true, "reindex, create_index, drop_index: without blocking writes (CONCURRENTLY)"),
        .init("lock_timeout", .duration, default: "5s", "give up when the lock is not granted within this (another session holds it)"),
        .init("statement_timeout", .duration, default: "1h", "give up when one statement runs longer than this"),
        .init("database_url_env", .string, "env var holding the database URL (default: the environment's)"),
    ]
    public static let mutates = true
    public static let example = """
        - id: vacuum-request-log
          kind: postgres.maintenance
          with: { action: vacuum, table: request_log, analyze: true, lock_timeout: 5s, statement_timeout: 30m }
        """

    enum Action: String, CaseIterable { case vacuum, analyze, reindex, createIndex = "create_index", dropIndex = "drop_index" }
    static let methods = ["btree", "hash", "gist", "spgist", "gin", "brin"]

    let action: Action
    let tables: [String]
    let index: String?
    let columns: [String]
    let unique: Bool
    let method: String?
    let analyze: Bool
    let concurrently: Bool
    let lockMs: Int, statementMs: Int
    let variable: String?

    public init(_ p: StepParameters) throws {
        let word = try p.string("action")
        guard let action = Action(rawValue: word) else {
            throw StepError("step '\(p.stepID)': action '\(word)' is not one of \(Action.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.action = action
        let one = try p.optionalString("table"), several = try p.stringList("tables")
        tables = (one.map { [$0] } ?? []) + several
        index = try p.optionalString("index")
        columns = try p.stringList("columns")
        unique = try p.bool("unique", default: false)
        method = try p.optionalString("using")
        analyze = try p.bool("analyze", default: false)
        concurrently = try p.bool("concurrently", default: true)
        lockMs = Int(try p.duration("lock_timeout", default: 5) * 1000)
        statementMs = Int(try p.duration("statement_timeout", default: 3600) * 1000)
        variable = try p.optionalString("database_url_env")
        let step = "step '\(p.stepID)' (\(word))"
        switch action {
        case .vacuum, .analyze:
            if tables.isEmpty { throw StepError("\(step) needs table or tables") }
            if index != nil { throw StepError("\(step) takes tables, not an index") }
        case .reindex:
            if tables.isEmpty == (index == nil) { throw StepError("\(step) needs either table/tables (all their indexes) or index") }
        case .createIndex:
            if tables.count != 1 || index == nil || columns.isEmpty { throw StepError("\(step) needs table, index and columns") }
        case .dropIndex:
            if index == nil || !tables.isEmpty { throw StepError("\(step) needs index (and no table)") }
        }
        if let method, !Self.methods.contains(method) { throw StepError("\(step): using '\(method)' is not one of \(Self.methods.joined(separator: ", "))") }
        if action != .vacuum && analyze { throw StepError("\(step): analyze applies to vacuum (or use action: analyze)") }
    }

    /// One statement and what it is measured on.
    struct Statement {
        let sql: String
        let table: String?
        let index: String?
    }

    var statements: [Statement] {
        let c = concurrently ? " CONCURRENTLY" : ""
        switch action {
        case .vacuum: return tables.map { .init(sql: "VACUUM \(analyze ? "(ANALYZE) " : "")\(quoteQualifiedName($0))", table: $0, index: nil) }
        case .analyze: return tables.map { .init(sql: "ANALYZE \(quoteQualifiedName($0))", table: $0, index: nil) }
        case .reindex:
            if let index { return [.init(sql: "REINDEX INDEX\(c) \(quoteQualifiedName(index))", table: nil, index: index)] }
            return tables.map { .init(sql: "REINDEX TABLE\(c) \(quoteQualifiedName($0))", table: $0, index: nil) }
        case .createIndex:
            let table = tables[0], name = index!.split(separator: ".").last.map(String.init) ?? index!
            let using = method.map { " USING \($0)" } ?? ""
            return [.init(sql: "CREATE \(unique ? "UNIQUE " : "")INDEX\(c) \(quoteIdentifier(name)) ON \(quoteQualifiedName(table))\(using) (\(columns.map(quoteIdentifier).joined(separator: ", ")))",
                          table: table, index: index)]
        case .dropIndex: return [.init(sql: "DROP INDEX\(c) \(quoteQualifiedName(index!))", table: nil, index: index)]
        }
    }

    public func plan(_ context: StepContext) throws -> String {
        let db = try context.connect(variable: variable)
        defer { db.close() }
        do {
            try MaintenanceChecks(db: db, step: self).check()
        } catch let error as PostgresError {
            throw StepError(error.description, details: ["sqlstate": error.sqlState.map(JSONValue.string) ?? .null])
        }
        return "would run outside a transaction (lock_timeout \(lockMs) ms, statement_timeout \(statementMs) ms):\n"
            + statements.map { "  " + $0.sql }.joined(separator: "\n")
    }

    public func run(_ context: StepContext) throws -> StepOutcome {
        let db = try context.connect(variable: variable)
        defer { db.close() }
        var done: [JSONValue] = []
        var lines: [String] = []
        var totalMs = 0.0, deadAfter = 0, indexAfter = 0
        var current: Statement?
        var metrics: [Metric] {
            var m = [Metric(name: "duration_ms", value: totalMs.rounded(), unit: "ms")]
            if action == .vacuum { m.append(Metric(name: "dead_tuples_after", value: Double(deadAfter), unit: "count")) }
            if action != .vacuum && action != .analyze { m.append(Metric(name: "index_bytes_after", value: Double(indexAfter), unit: "B")) }
            return m
        }
        do {
            try MaintenanceChecks(db: db, step: self).check()
            try db.setTimeouts(statementMs: statementMs, lockMs: lockMs)
            for statement in statements {
                current = statement
                let before = try measure(db, statement)
                let started = Date()
                try db.execute(statement.sql)
                let ms = Date().timeIntervalSince(started) * 1000
                let after = try measure(db, statement)
                var entry: [String: JSONValue] = ["statement": .string(statement.sql), "duration_ms": .int(Int(ms.rounded()))]
                var line = "\(statement.sql) in \(DurationText.format(milliseconds: ms))"
                if let b = before.deadTuples, let a = after.deadTuples {
                    entry["dead_tuples_before"] = .int(b); entry["dead_tuples_after"] = .int(a)
                    line += ", dead tuples \(b) → \(a)"
                    deadAfter += a
                }
                if before.indexBytes != nil || after.indexBytes != nil {
                    entry["index_bytes_before"] = before.indexBytes.map(JSONValue.int) ?? .null
                    entry["index_bytes_after"] = after.indexBytes.map(JSONValue.int) ?? .null
                    line += ", index size \(before.indexBytes.map(Self.bytes) ?? "none") → \(after.indexBytes.map(Self.bytes) ?? "none")"
                    indexAfter += after.indexBytes ?? 0
                }
                totalMs += ms
                done.append(.object(entry))
                lines.append(line)
            }
        } catch let error as PostgresError {
            var text = "\(current?.sql ?? "maintenance") failed: \(error.description)"
            if error.isLockTimeout { text += " (another session holds a conflicting lock: see postgres.lock_waits)" }
            // A failed CREATE INDEX CONCURRENTLY leaves an INVALID index that still slows every write.
            if action == .createIndex && concurrently, let index, (try? db.query("SELECT 1 FROM pg_index WHERE indexrelid = to_regclass($1) AND NOT indisvalid", [quoteQualifiedName(qualified(index))]).first) != nil {
                _ = try? db.execute("DROP INDEX CONCURRENTLY IF EXISTS \(quoteQualifiedName(qualified(index)))")
                text += "; the invalid index it left was dropped"
            }
            return .init(.fail, text, details: ["done": .array(done), "sqlstate": error.sqlState.map(JSONValue.string) ?? .null], metrics: metrics)
        }
        return .ok(lines.joined(separator: "; "), details: ["statements": .array(done)], metrics: metrics)
    }

    /// The index's name qualified with its table's schema when the table is (CREATE INDEX puts it there).
    func qualified(_ index: String) -> String {
        if index.contains(".") || action != .createIndex { return index }
        let parts = tables.first?.split(separator: ".") ?? []
        return parts.count == 2 ? "\(parts[0]).\(index)" : index
    }

    func measure(_ db: PostgresConnection, _ s: Statement) throws -> (deadTuples: Int?, indexBytes: Int?) {
        _ = try db.execute("SELECT pg_stat_clear_snapshot()")
        switch action {
        case .vacuum, .analyze:
            let dead = try db.query("SELECT n_dead_tup::int8 AS n FROM pg_stat_all_tables WHERE relid = $1::regclass", [quoteQualifiedName(s.table!)]).first?["n"].int
            return (dead, nil)
        case .reindex, .createIndex, .dropIndex:
            if let index = s.index {
                let size = try db.query("SELECT pg_relation_size(to_regclass($1))::int8 AS n", [quoteQualifiedName(qualified(index))]).first?["n"].int
                return (nil, size)
            }
            return (nil, try db.query("SELECT pg_indexes_size($1::regclass)::int8 AS n", [quoteQualifiedName(s.table!)]).first?["n"].int)
        }
    }

    static func bytes(_ n: Int) -> String {
        n >= 1 << 20 ? String(format: "%.1f MB", Double(n) / 1_048_576) : n >= 1024 ? "\(n / 1024) kB" : "\(n) B"
    }
}
