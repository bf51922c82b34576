import Foundation
import Postgres

/// Whether the database has what its applied migrations say it should.
public struct VerifyReport: Sendable {
    public var appliedVersions: Int
    /// Objects created by applied migrations (and not dropped by later ones) that do not exist.
    public var missing: [(version: Int64, object: SchemaObject)]
    /// Applied versions whose file changed since.
    public var modified: [Int64]
    /// Applied versions whose file is gone.
    public var missingFiles: [Int64]
    /// Failed or partial versions.
    public var unfinished: [Int64]
    public var objectsChecked: Int
    /// Highest applied version, from the same read of the history as the rest of the report.
    public var currentVersion: Int64 = 0

    public var ok: Bool { missing.isEmpty && modified.isEmpty && unfinished.isEmpty }
}

extension Migrator {
    /// Checks every applied migration: checksum unchanged, and the objects it created still exist.
    /// One connection for the history and the catalog (a backend's start-up costs the server more
    /// than the whole check for a small schema).
    public func verify() throws -> VerifyReport {
        let set = try files()
        return try withSession { db in try verify(set, db) }
    }

    private func verify(_ set: MigrationSet, _ db: PostgresConnection) throws -> VerifyReport {
        let status = try readStatus(set, db)
        var expected: [(Int64, SchemaObject)] = []
        for v in status.versions where v.state == .applied || v.state == .modified {
            guard let m = set.migrations.first(where: { $0.version == v.version && $0.upFile == v.file }),
                  let script = try? Self.script(m, cancellation: cancellation) else { continue }
            let effects = script.effects
            let dropped = Set(effects.dropped.map { SchemaObject(kind: $0.kind, relation: $0.relation.unqualified, column: $0.column) })
            let droppedTables = Set(effects.dropped.filter { $0.kind == .table }.map(\.relation.unqualified))
            if !dropped.isEmpty || !droppedTables.isEmpty { expected.removeAll { _, o in
                dropped.contains(SchemaObject(kind: o.kind, relation: o.relation.unqualified, column: o.column))
                    || ((o.kind == .column) && droppedTables.contains(o.relation.unqualified))
            } }
            expected += effects.created.map { (m.version, $0) }
        }
        if cancellation.isCancelled { throw interrupted("verifying the schema") }
        let missing = Set(try guarded("checking objects") { try ObjectVerifier.missing(expected.map(\.1), db) })
        return VerifyReport(appliedVersions: status.applied.count,
                            missing: expected.filter { missing.contains($0.1) }.map { (version: $0.0, object: $0.1) },
                            modified: status.versions.filter { $0.state == .modified }.map(\.version),
                            missingFiles: status.versions.filter { $0.state == .missing }.map(\.version),
                            unfinished: status.versions.filter { $0.state == .failed || $0.state == .partial }.map(\.version),
                            objectsChecked: expected.count, currentVersion: status.current)
    }
}
