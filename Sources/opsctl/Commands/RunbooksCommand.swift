import ArgumentParser
import Foundation
import Runbooks

extension Opsctl {
    struct RunbooksCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "runbooks", abstract: "List the shipped and user runbooks with their descriptions.")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let service = RunService(global: global)
            let (config, env) = try service.environment()
            let library = service.library(config, env)
            var loader = RunbookLoader(library: library)
            // Listing checks that each runbook is valid; params a run must be given are not missing here.
            loader.requiresParams = false
            let entries = library.list()
            let width = (entries.map(\.name.count).max() ?? 8) + 2
            for entry in entries {
                let description: String
                do { description = try loader.load(entry.path).description } catch { description = "(invalid: \(error))" }
                print(entry.name.padding(toLength: width, withPad: " ", startingAt: 0) + description)
            }
            if entries.isEmpty { Terminal.error("no runbooks found in \(library.directories.joined(separator: ", "))") }
        }
    }
}
