import Checks
import Foundation

/// Where runbooks are found: the user's directories first, then the active profile's, then the
/// shipped generic ones. A name found earlier shadows the same name later.
public struct RunbookLibrary: Sendable {
    public var directories: [String]
    /// What each directory is, for `opsctl runbooks` ("runbooks_dir", "profile churn-saver", "shipped").
    public var origins: [String: String]

    public init(directories: [String], origins: [String: String] = [:]) {
        self.directories = directories
        self.origins = origins
    }

    /// Where a directory's runbooks come from, in the words `opsctl runbooks` prints.
    public func origin(of directory: String) -> String {
        origins[directory] ?? directory
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

    /// The search order: the environment's runbooks_dir, opsctl.yaml's runbooks_dir, ./runbooks, the
    /// active profile's runbooks (`profiles/NAME/runbooks`), the shipped generic runbooks.
    public static func standard(config: Config, environment: EnvironmentConfig?) -> RunbookLibrary {
        var dirs: [(String, String)] = []
        if let d = environment?.runbooksDir { dirs.append((d, "environment runbooks_dir")) }
        if let d = config.runbooksDir { dirs.append((d, "runbooks_dir")) }
        let local = FileManager.default.currentDirectoryPath + "/runbooks"
        if FileManager.default.fileExists(atPath: local) { dirs.append((local, "./runbooks")) }
        let profile = environment?.service.profile ?? (environment == nil ? ServiceConfig.defaultProfile : nil)
        if let profile, let d = ServiceConfig.profileRunbooksDirectory(profile) { dirs.append((d, "profile \(profile)")) }
        if let shipped = shippedDirectory { dirs.append((shipped, "shipped")) }
        var unique: [String] = []
        var origins: [String: String] = [:]
        for (dir, origin) in dirs {
            let d = URL(fileURLWithPath: dir).standardized.path
            if !unique.contains(d) {
                unique.append(d)
                origins[d] = origin
            }
        }
        return RunbookLibrary(directories: unique, origins: origins)
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

    /// Every runbook file: (name, path, origin), user directories shadowing the profile's and shipped ones.
    public func list() -> [(name: String, path: String, origin: String)] {
        var seen = Set<String>()
        var out: [(String, String, String)] = []
        for dir in directories {
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
            for f in files where f.hasSuffix(".yaml") || f.hasSuffix(".yml") {
                let name = (f as NSString).deletingPathExtension
                if seen.insert(name).inserted { out.append((name, dir + "/" + f, origin(of: dir))) }
            }
        }
        return out
    }
}
