import Checks
import Foundation

/// A verb (`opsctl verify`, `reconcile`, `health`…) runs the runbook of its name with params it chooses
/// from its flags. A user's runbook of the same name shadows the shipped one; when it leaves out a param
/// the verb passes, say which param, which verb and where the runbook is, instead of "unknown param".
/// README, "Verb params", lists what each verb passes.
extension RunbookLoader {
    public func checkVerbParams(_ nameOrPath: String, passed: [String], verb: String) throws {
        let file = try library.locate(nameOrPath)
        var survey = self
        survey.requiresParams = false
        // A runbook that does not load says why in the real load that follows.
        guard let declared = try? survey.load(file, params: [:]).params.map(\.name) else { return }
        let missing = passed.filter { !declared.contains($0) }
        guard !missing.isEmpty else { return }
        let origin = library.directories.first { file.hasPrefix($0 + "/") }.map { library.origin(of: $0) } ?? file
        let shadow = origin == "shipped" ? "" : " (it shadows the shipped '\(nameOrPath)')"
        throw LoadError(file: file, line: 1, column: 1,
                        message: "runbook '\(nameOrPath)' [\(origin)]\(shadow) does not declare \(missing.count == 1 ? "param" : "params") \(missing.map { "'\($0)'" }.joined(separator: ", ")), which 'opsctl \(verb)' passes",
                        hint: "declare \(missing.count == 1 ? "it" : "them") under params (e.g. \(missing[0]): { type: string }); README, 'Verb params', lists what each verb passes")
    }
}
