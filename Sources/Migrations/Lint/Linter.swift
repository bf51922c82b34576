import Foundation
import Support

/// The findings of one lint run.
public struct LintReport: Sendable {
    public var findings: [LintFinding]
    public var filesChecked: Int

    public var errors: [LintFinding] { findings.filter { $0.severity == .error } }
    public var warnings: [LintFinding] { findings.filter { $0.severity == .warning } }
    public var passed: Bool { errors.isEmpty }
}

/// Lints migrations from their parse trees: statement rules on up scripts, repository rules on the set.
/// `-- opsctl:ignore RULE` before a statement suppresses RULE for it; `-- opsctl:ignore-file RULE` for the file.
public struct Linter: Sendable {
    public var statementRules: [LintRule]
    public var repositoryRules: [RepositoryRule]
    /// Checked between statements and files: an interrupted lint stops at once with what it found so far.
    public var cancellation: Cancellation

    public init(statementRules: [LintRule] = LintRules.statementRules, repositoryRules: [RepositoryRule] = LintRules.repositoryRules,
                cancellation: Cancellation = Cancellation()) {
        self.statementRules = statementRules
        self.repositoryRules = repositoryRules
        self.cancellation = cancellation
    }

    /// Lints a directory's migrations. `versions` limits statement rules to those versions (e.g. pending ones);
    /// repository rules always look at the whole set.
    public func lint(_ set: MigrationSet, versions: Set<Int64>? = nil) -> LintReport {
        // Parsing dominates: spread it over the cores (libpg_query keeps its state per thread).
        let migrations = set.migrations
        let parsed = Self.parseAll(set, cancellation: cancellation)
        var ups: [String: SQLScript] = [:], downs: [String: SQLScript] = [:]
        for (i, m) in migrations.enumerated() {
            ups[m.upFile] = parsed[i].up
            downs[m.upFile] = parsed[i].down
        }
        var findings: [LintFinding] = []
        let ctx = RepositoryContext(set: set, ups: ups, downs: downs)
        for rule in repositoryRules {
            for (location, message) in rule.check(ctx) {
                if let v = set.migrations.first(where: { $0.upFile == location.file || $0.downFile == location.file })?.version,
                   let versions, !versions.contains(v), rule.id != "duplicate-version" { continue }
                findings.append(LintFinding(rule: rule.id, severity: rule.severity, location: location, message: message,
                                            rationale: rule.rationale, alternative: rule.alternative))
            }
        }
        let perFile = onEveryCore(migrations.count) { i -> [LintFinding] in
            let m = migrations[i]
            guard versions?.contains(m.version) ?? true, let script = parsed[i].up else { return [] }
            return lint(script, noTransactionDirective: m.noTransactionDirective)
        }
        for i in migrations.indices { findings += perFile[i] ?? [] }
        return LintReport(findings: sorted(findings), filesChecked: set.migrations.count)
    }

    /// Every migration's up and down script of `set` parsed, in `set.migrations`' order (nil: it does
    /// not parse, or there is no down), in one batch over the cores.
    public static func parseAll(_ set: MigrationSet, cancellation: Cancellation? = nil) -> [(up: SQLScript?, down: SQLScript?)] {
        var sources: [(sql: String, file: String)] = []
        var downAt: [Int?] = []
        for m in set.migrations {
            sources.append((m.up, m.upFile))
            if let sql = m.down, let file = m.downFile {
                downAt.append(sources.count)
                sources.append((sql, file))
            } else {
                downAt.append(nil)
            }
        }
        let results = SQLParser.parseAll(sources, cancellation: cancellation)
        var k = 0
        return set.migrations.indices.map { i in
            defer { k += downAt[i] == nil ? 1 : 2 }
            return (try? results[k].get(), downAt[i].flatMap { try? results[$0].get() })
        }
    }

    /// Lints standalone files (single-file sections are understood): statement rules and syntax only.
    /// `MigrationFileReader.validate` (the CLI) refuses unreadable or non-UTF-8 files first; here they are findings.
    public func lint(files: [String]) -> LintReport {
        var findings: [LintFinding] = []
        for path in files where !cancellation.isCancelled {
            let text: String
            do { text = try MigrationFileReader.read(path, display: path) } catch let e as MigrationError {
                findings.append(LintFinding(rule: "unreadable-file", severity: .error, location: e.location ?? SourceLocation(file: path, line: 1, column: 1),
                                            message: e.message, rationale: "opsctl and Postgres read migrations as UTF-8 text",
                                            alternative: e.nextStep ?? ""))
                continue
            } catch {
                continue
            }
            let sql = SingleFileFormat.split(text)?.up ?? text
            findings += lint(sql: sql, file: path)
        }
        return LintReport(findings: sorted(findings), filesChecked: files.count)
    }

    /// Lints one script's text.
    public func lint(sql: String, file: String) -> [LintFinding] {
        do {
            return lint(try SQLParser.parse(sql, file: file, cancellation: cancellation),
                        noTransactionDirective: Directives.has("no-transaction", in: sql))
        } catch let e as SQLSyntaxError {
            return [LintFinding(rule: LintRules.syntaxError.id, severity: .error, location: e.location, message: "syntax error: \(e.message)",
                                rationale: LintRules.syntaxError.rationale, alternative: LintRules.syntaxError.alternative)]
        } catch {
            return []
        }
    }

    /// Statement rules over a parsed script.
    public func lint(_ script: SQLScript, noTransactionDirective: Bool = false) -> [LintFinding] {
        // A file with its own BEGIN/COMMIT is still atomic: only statements Postgres refuses in a transaction make it not.
        let transactional = !noTransactionDirective && !script.statements.contains { TransactionSafety.reason($0) != nil }
        let fileIgnores = Set(Directives.arguments("ignore-file", in: script.source) ?? [])
        var ctx = StatementContext(statement: script.statements.first ?? SQLStatement(index: 0, text: "", location: SourceLocation(file: script.file, line: 1, column: 1), byteOffset: 0, tree: .null, leadingComments: ""),
                                   script: script, createdInScript: [], transactional: transactional,
                                   insideExplicitTransaction: false, lockTimeoutSet: false, statementTimeoutSet: false, timeoutReported: false)
        var out: [LintFinding] = []
        let effects = script.statementEffects
        for s in script.statements {
            if cancellation.isCancelled { break }
            ctx.statement = s
            let ignored = Directives.ignoredRules(s.leadingComments).union(fileIgnores)
            for rule in statementRules where !ignored.contains(rule.id) && !ignored.contains("all") {
                let messages = rule.check(ctx)
                if rule.id == LintRules.requireTimeoutSettings.id, !messages.isEmpty { ctx.timeoutReported = true }
                out += messages.map { LintFinding(rule: rule.id, severity: rule.severity, location: s.location, message: $0,
                                                  rationale: rule.rationale, alternative: rule.alternative) }
            }
            // What this statement changes for the ones after it.
            switch s.kind {
            case "TransactionStmt":
                let k = s.node["kind"]?.string ?? ""
                if k == "TRANS_STMT_BEGIN" || k == "TRANS_STMT_START" { ctx.insideExplicitTransaction = true }
                if k == "TRANS_STMT_COMMIT" || k == "TRANS_STMT_ROLLBACK" { ctx.insideExplicitTransaction = false }
            case "VariableSetStmt":
                if s.node["name"]?.string == "lock_timeout" { ctx.lockTimeoutSet = true }
                if s.node["name"]?.string == "statement_timeout" { ctx.statementTimeoutSet = true }
            default:
                for o in effects[s.index].created where o.kind == .table || o.kind == .view {
                    ctx.createdInScript.insert(o.relation.unqualified)
                }
            }
        }
        return out
    }

    private func sorted(_ f: [LintFinding]) -> [LintFinding] {
        f.sorted { ($0.location.file, $0.location.line, $0.location.column, $0.rule) < ($1.location.file, $1.location.line, $1.location.column, $1.rule) }
    }
}
