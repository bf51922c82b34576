import ArgumentParser
import Foundation
import Runbooks

extension Opsctl {
    struct RunbooksCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "runbooks", abstract: "List the runbooks with where each comes from and its description.",
            discussion: "Search order: the environment's runbooks_dir, opsctl.yaml's runbooks_dir, ./runbooks, the active profile's runbooks, the shipped generic runbooks. A runbook found earlier shadows one with the same name found later.")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let service = RunService(global: global)
            let (config, env) = try service.environment()
            let library = service.library(config, env)
            var loader = RunbookLoader(library: library)
            loader.config = env.json
            // Listing checks that each runbook is valid; params a run must be given are not missing here.
            loader.requiresParams = false
            let entries = library.list()
            let width = (entries.map(\.name.count).max() ?? 8) + 2
            let originWidth = (entries.map { $0.origin.count + 2 }.max() ?? 8) + 2
            for entry in entries {
                let description: String
                do { description = try loader.load(entry.path).description } catch { description = "(invalid: \(error))" }
                print(entry.name.padding(toLength: width, withPad: " ", startingAt: 0)
                      + "[\(entry.origin)]".padding(toLength: originWidth, withPad: " ", startingAt: 0) + description)
            }
            if entries.isEmpty { Terminal.error("no runbooks found in \(library.directories.joined(separator: ", "))") }
        }
    }
}
