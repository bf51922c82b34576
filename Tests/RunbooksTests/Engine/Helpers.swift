import Checks
import Foundation
@testable import Runbooks

func loadRunbook(_ yaml: String, params: [String: JSONValue] = [:], directory: String? = nil) throws -> Runbook {
    try RunbookLoader(library: RunbookLibrary(directories: directory.map { [$0] } ?? [])).parse(yaml, file: "test.yaml", params: params)
}

func loadError(_ yaml: String, params: [String: JSONValue] = [:]) -> LoadError? {
    do {
        _ = try loadRunbook(yaml, params: params)
        return nil
    } catch let error as LoadError {
        return error
    } catch {
        return LoadError(file: "?", message: "unexpected error type: \(error)")
    }
}

func execute(_ yaml: String, params: [String: JSONValue] = [:], environment: EnvironmentConfig = EnvironmentConfig(name: "local"),
             configure: (inout RunOptions) -> Void = { _ in }) throws -> RunReport {
    let runbook = try loadRunbook(yaml, params: params)
    var options = RunOptions(environment: environment, params: try RunbookLoader(library: RunbookLibrary(directories: []))
        .bind(params: runbook.params, given: params, file: "test.yaml"))
    configure(&options)
    return Executor(runbook: runbook, options: options, reporter: nil, journal: nil).run()
}

extension RunReport {
    func result(_ id: String) -> StepResult? { results.first { $0.id == id } }
}
