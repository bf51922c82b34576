import Checks
import Foundation

/// Where runbooks are found: the user's directories first, then the shipped ones.
public struct RunbookLibrary: Sendable {
    public var directories: [String]

    public init(directories: [String]) {
        self.directories = directories
    }

    /// The shipped runbooks: `<prefix>/share/opsctl/runbooks` beside an installed binary, or the
    /// repository's `runbooks/` for a binary built in a checkout.
    public static var shippedDirectory: String? {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var candidates = [executable.deletingLastPathComponent().appendingPathComponent("../share/opsctl/runbooks").standardized.path]
        // .build/<triple>/<config>/opsctl -> repository root
        var dir = executable.deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent("runbooks").path)
            dir = dir.deletingLastPathComponent()
        }
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../runbooks").standardized.path
        candidates.append(source)
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/health.yaml") }
    }

    public static func standard(config: Config, environment: EnvironmentConfig?) -> RunbookLibrary {
        var dirs: [String] = []
        if let d = environment?.runbooksDir { dirs.append(d) }
        if let d = config.runbooksDir { dirs.append(d) }
        let local = FileManager.default.currentDirectoryPath + "/runbooks"
        if FileManager.default.fileExists(atPath: local) { dirs.append(local) }
        if let shipped = shippedDirectory { dirs.append(shipped) }
        var unique: [String] = []
        for d in dirs.map({ URL(fileURLWithPath: $0).standardized.path }) where !unique.contains(d) { unique.append(d) }
        return RunbookLibrary(directories: unique)
    }

    /// A path to a file, or a name looked up as NAME.yaml in the directories.
    public func locate(_ nameOrPath: String) throws -> String {
        let fm = FileManager.default
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml") {
            guard fm.fileExists(atPath: nameOrPath) else {
                throw LoadError(file: nameOrPath, message: "no such runbook file", hint: "check the path, or run 'opsctl runbooks' for the known names")
            }
            return nameOrPath
        }
        for dir in directories {
            for ext in ["yaml", "yml"] {
                let candidate = "\(dir)/\(nameOrPath).\(ext)"
                if fm.fileExists(atPath: candidate) { return candidate }
            }
        }
        let known = list().map(\.name)
        throw LoadError(file: nameOrPath, message: "no runbook named '\(nameOrPath)'\(closest(to: nameOrPath, in: known).map { ", did you mean '\($0)'?" } ?? "")",
                        hint: "known runbooks: \(known.joined(separator: ", "))")
    }

    /// Every runbook file: (name, path), user directories shadowing shipped ones.
    public func list() -> [(name: String, path: String)] {
        var seen = Set<String>()
        var out: [(String, String)] = []
        for dir in directories {
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
            for f in files where f.hasSuffix(".yaml") || f.hasSuffix(".yml") {
                let name = (f as NSString).deletingPathExtension
                if seen.insert(name).inserted { out.append((name, dir + "/" + f)) }
            }
        }
        return out
    }
}
