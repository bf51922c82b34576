import Checks
import Foundation

/// Which steps of a runbook a run executes (`--only`, `--step`, `--from`).
enum Selection {
    static func select(_ runbook: Runbook, only: Set<String>?, from: String?) throws -> [Step] {
        let ids = Set(runbook.steps.map(\.id))
        for id in (only ?? []).union(from.map { [$0] } ?? []) where !ids.contains(id) {
            throw LoadError(file: runbook.file, message: "no step '\(id)' in runbook '\(runbook.name)'\(closest(to: id, in: Array(ids)).map { ", did you mean '\($0)'?" } ?? "")",
                            hint: "steps: \(runbook.steps.map(\.id).joined(separator: ", "))")
        }
        var steps = runbook.steps
        if let from, let index = steps.firstIndex(where: { $0.id == from }) {
            steps = Array(steps[index...])
        }
        if let only { steps = steps.filter { only.contains($0.id) } }
        return steps
    }
}
