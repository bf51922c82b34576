import Checks
import Foundation

/// `- include: NAME`: a fragment runbook's steps spliced into the including runbook at load time.
///
///     - include: service-metrics          # found like any runbook: user dirs, the profile's, shipped
///       with: { window: 15 minutes }      # the fragment's params
///       needs: database                   # added to every included step
///       when: params.entity == ''         # params/config only: decided at load; else and-ed with each step's when:
///       database: ${steps.verify.details.scratch_database}   # every included step runs against this database
///
/// The generic verbs (verify, daily, reconcile, health…) include the fragments a profile provides
/// (`service-metrics`, `service-invariants`, `service-checks`). Unlike `kind: runbook`, whose result is one
/// step, included steps are steps of the runbook: each is reported, selected (`--only`), journaled and
/// remediated on its own, under its own id. They see the fragment's params, and the including runbook's
/// params the fragment does not declare itself (the include's `when:` reads those).
extension RunbookLoader {
    static let includeKeys = ["include", "with", "needs", "when", "database"]

    func parseInclude(_ node: YAMLValue, file: String, values: [String: JSONValue], including: [String]) throws -> [Step] {
        func fail(_ n: YAMLValue, _ message: String, _ hint: String? = nil) -> LoadError {
            LoadError(file: file, line: n.position.line, column: n.position.column, message: message, hint: hint)
        }
        for key in keys(of: node) where !Self.includeKeys.contains(key.key) {
            throw LoadError(file: file, line: key.position.line, column: key.position.column,
                            message: "unknown key '\(key.key)' in an include\(suggest(key.key, Self.includeKeys))",
                            hint: "an include takes include, with, needs, when and database; the included steps carry the rest")
        }
        guard let nameNode = node.value("include") else { throw fail(node, "an include needs 'include: NAME'") }
        let name = try scalar(nameNode, "include", file)
        var given: [String: JSONValue] = [:]
        if let withNode = node.value("with") {
            guard case let .mapping(pairs, _) = withNode else { throw fail(withNode, "'with' of include '\(name)' must be a mapping of its params") }
            for pair in pairs {
                given[pair.key] = try Interpolation.resolve(pair.value.json, in: Scope(params: values))
            }
        }
        let needs = try node.value("needs").map { try stringList($0, "needs", file) } ?? []
        let database = try node.value("database").map { try scalar($0, "database", file) }
        var when = try node.value("when").map { try condition($0, file) }
        // A when: that reads only params and config is known now: false includes nothing (the steps are
        // not part of this run at all, rather than each reported skipped); true needs no run-time test.
        if let known = when, known.paths.allSatisfy({ $0.hasPrefix("params.") || $0.hasPrefix("config.") }) {
            let scope = Scope(params: values, config: config ?? Config.builtin.environments.values.first?.json ?? .object([:]))
            guard known.evaluate({ scope.lookup($0) }) else { return [] }
            when = nil
        }

        // The params the fragment declares, before binding: a param the includer passes and the fragment
        // does not declare is the contract broken (a profile's fragment written for another verb), said so.
        // Only its `params:` is read here (the document is parsed once, see ParsedDocuments); loading the
        // whole fragment twice doubled the work at every level of nested includes.
        let declared: [RunbookParam]
        do {
            let fragmentFile = try library.locate(name)
            declared = try parseParams(try YAMLDocument.parse(try read(fragmentFile), file: fragmentFile).value("params"), file: fragmentFile)
        } catch let error as LoadError where error.file == name {
            throw fail(nameNode, "include '\(name)': \(error.message)", error.hint)
        }
        let includer = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        for param in given.keys.sorted() where !declared.contains(where: { $0.name == param }) {
            // A fragment that is wrong in another way (a cycle, a bad step) says that first, as before.
            var survey = self
            survey.requiresParams = false
            do {
                _ = try survey.load(name, params: [:], including: including)
            } catch let error as LoadError where error.file == name {
                throw fail(nameNode, "include '\(name)': \(error.message)", error.hint)
            }
            throw fail(nameNode, "runbook '\(name)' (\(library.locateQuietly(name) ?? name)) does not declare param '\(param)', which '\(includer)' passes to it",
                       "declare it under the fragment's params (e.g. \(param): { type: string }); README, 'Writing a profile', lists what each verb passes")
        }
        let fragment = try load(name, params: given, including: including)
        let scope = values.merging(fragment.values) { _, own in own }
        var steps = fragment.steps
        if database != nil {
            // Pointed at another database (a restored copy), the fragment's steps that are off already
            // (its fixes with fix: false) are left out: the run changes nothing, so it asks no confirmation.
            let known = Scope(params: scope, config: config ?? Config.builtin.environments.values.first?.json ?? .object([:]))
            let off = Set(steps.filter { step in
                guard let w = step.when, w.paths.allSatisfy({ $0.hasPrefix("params.") || $0.hasPrefix("config.") }) else { return false }
                return !w.evaluate { known.lookup($0) }
            }.map(\.id))
            let needed = Set(steps.filter { !off.contains($0.id) }.flatMap(\.needs))
            steps.removeAll { off.contains($0.id) && !needed.contains($0.id) }
        }
        return try steps.map { original in
            var step = original
            step.needs = needs.filter { !step.needs.contains($0) } + step.needs
            if let when {
                step.when = try step.when.map { try Condition("(\(when.source)) && (\($0.source))") } ?? when
            }
            // A step of a nested include keeps its own fragment's params over this one's.
            step.scopeParams = scope.merging(original.scopeParams ?? [:]) { _, own in own }
            step.includedFrom = original.includedFrom ?? fragment.file
            // The include's database wins over a step's own: pointed at a restored copy, no step of the
            // fragment may still read (or fix) the environment's live database.
            if let database { step.database = database }
            // Errors the includer finds about these steps (a duplicate id, an unknown need) point at the include.
            step.line = node.position.line
            step.column = node.position.column
            return step
        }
    }
}

extension RunbookLibrary {
    /// The file a name resolves to, or nil (for messages).
    func locateQuietly(_ name: String) -> String? { try? locate(name) }
}
