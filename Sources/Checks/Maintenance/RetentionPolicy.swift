import Foundation
import Postgres
import Support

/// One table's retention, as the service profile declares it (`service.retention[]`): which rows are old
/// enough to go, where they are archived first, and how hard each batch may lean on the table.
public struct RetentionPolicy: Sendable, Equatable {
    /// Names the checkpoint; defaults to the table (two policies on one table need their own names).
    public var name: String
    public var table: String
    public var timeColumn: String
    /// As written (`90d`), for messages; `olderThanSeconds` is what the cutoff uses.
    public var olderThan: String
    public var olderThanSeconds: Double
    /// Extra SQL condition, e.g. `status = 'processed'`: configuration text, never an operator's input.
    public var condition: String?
    /// The key the batches range over; default: the table's single-column primary key.
    public var key: String?
    public var archive: Archive?
    public var batch: Batch

    public enum Archive: Sendable, Equatable {
        /// Rows go to this table (created `LIKE` the source when missing) in the batch's own transaction.
        case table(String)
        /// Rows go to this file as JSON lines; the file appears (renamed) when the policy completes.
        case file(String)
    }

    /// How each batch is sized and paced.
    public struct Batch: Sendable, Equatable {
        /// Duration each batch aims at; the key range grows or shrinks towards it.
        public var target: Double = 0.2
        public var maxRows: Int = 10_000
        public var pause: Double = 0.05
        /// lock_timeout of each batch: a batch that cannot get its locks in time retries smaller.
        public var lockTimeout: Double = 0.1
        public init() {}
    }

    static let keys = ["name", "table", "time_column", "older_than", "where", "key", "archive", "batch"]
    static let archiveKeys = ["table", "file"]
    static let batchKeys = ["target", "max_rows", "pause", "lock_timeout"]
    /// Keys and the shape each takes, for opsctl.yaml's file:line:col checks.
    public static let keyShapes: (policy: [String], archive: [String], batch: [String]) = (keys, archiveKeys, batchKeys)

    public init(table: String, timeColumn: String, olderThan: String, condition: String? = nil, name: String? = nil,
                key: String? = nil, archive: Archive? = nil, batch: Batch = Batch()) throws {
        self.table = table
        self.timeColumn = timeColumn
        self.olderThan = olderThan
        guard let seconds = DurationText.seconds(olderThan), seconds > 0 else {
            throw StepError("retention of \(table): older_than '\(olderThan)' is not a duration like 30d or 12h (at most 366d)")
        }
        olderThanSeconds = seconds
        self.condition = condition
        self.name = name ?? table
        self.key = key
        self.archive = archive
        self.batch = batch
    }

    /// From the JSON of one `service.retention[]` entry (or a step's inline `policies`); `place` names it in errors.
    public init(json: JSONValue, place: String) throws {
        guard let o = json.object else { throw StepError("\(place) must be a mapping {table, time_column, older_than, ...}") }
        for key in o.keys where !Self.keys.contains(key) {
            throw StepError("\(place): unknown key '\(key)'\(closest(to: key, in: Self.keys).map { ", did you mean '\($0)'?" } ?? "")")
        }
        func text(_ key: String, _ object: [String: JSONValue], _ at: String) throws -> String? {
            guard let v = object[key] else { return nil }
            guard let s = v.string ?? v.int.map(String.init), !s.isEmpty else { throw StepError("\(at).\(key) must be a non-empty string") }
            return s
        }
        guard let table = try text("table", o, place), let column = try text("time_column", o, place), let age = try text("older_than", o, place) else {
            throw StepError("\(place) needs table, time_column and older_than (e.g. {table: request_log, time_column: created_at, older_than: 90d})")
        }
        var archive: Archive?
        if let a = o["archive"] {
            guard let ao = a.object else { throw StepError("\(place).archive must be {table: NAME} or {file: PATH}") }
            for key in ao.keys where !Self.archiveKeys.contains(key) { throw StepError("\(place).archive: unknown key '\(key)' (use table or file)") }
            let archiveTable = try text("table", ao, "\(place).archive"), archiveFile = try text("file", ao, "\(place).archive")
            switch (archiveTable, archiveFile) {
            case let (t?, nil): archive = .table(t)
            case let (nil, f?): archive = .file(f)
            default: throw StepError("\(place).archive takes one of table or file")
            }
        }
        var batch = Batch()
        if let b = o["batch"] {
            guard let bo = b.object else { throw StepError("\(place).batch must be a mapping {target, max_rows, pause, lock_timeout}") }
            for key in bo.keys where !Self.batchKeys.contains(key) {
                throw StepError("\(place).batch: unknown key '\(key)'\(closest(to: key, in: Self.batchKeys).map { ", did you mean '\($0)'?" } ?? "")")
            }
            func seconds(_ key: String) throws -> Double? {
                guard let v = bo[key] else { return nil }
                if let s = v.string, let d = DurationText.seconds(s) { return d }
                if case .string = v {} else if let d = v.double, d >= 0 { return d }
                throw StepError("\(place).batch.\(key) must be \(DurationText.expected)")
            }
            batch.target = try seconds("target") ?? batch.target
            batch.pause = try seconds("pause") ?? batch.pause
            batch.lockTimeout = try seconds("lock_timeout") ?? batch.lockTimeout
            if let m = bo["max_rows"] {
                guard let n = m.int ?? m.string.flatMap({ Int($0) }), n >= 1 else { throw StepError("\(place).batch.max_rows must be a whole number of 1 or more") }
                batch.maxRows = n
            }
            if batch.target <= 0 { throw StepError("\(place).batch.target must be more than 0") }
        }
        let condition = try text("where", o, place), name = try text("name", o, place), key = try text("key", o, place)
        try self.init(table: table, timeColumn: column, olderThan: age, condition: condition, name: name, key: key, archive: archive, batch: batch)
    }

    /// The policy as `${config.service.retention}` and `--format json` show it.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["name": .string(name), "table": .string(table), "time_column": .string(timeColumn),
                                      "older_than": .string(olderThan),
                                      "batch": .object(["target": .string(DurationText.format(milliseconds: batch.target * 1000)),
                                                        "max_rows": .int(batch.maxRows),
                                                        "pause": .string(DurationText.format(milliseconds: batch.pause * 1000)),
                                                        "lock_timeout": .string(DurationText.format(milliseconds: batch.lockTimeout * 1000))])]
        if let condition { o["where"] = .string(condition) }
        if let key { o["key"] = .string(key) }
        switch archive {
        case let .table(t)?: o["archive"] = .object(["table": .string(t)])
        case let .file(f)?: o["archive"] = .object(["file": .string(f)])
        case nil: break
        }
        return .object(o)
    }
}
