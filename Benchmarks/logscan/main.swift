// Release-build driver for Benchmarks/logs.sh: the same flags as `opsctl logs analyze`.
// Usage: logscan [logs analyze] [FILES...|-] [--top N] [--format json|human] [--by FIELD]
//        [--latency-field F] [--window 5m] [--level warn] [--grep RE] [--since 2h] [--from T] [--to T] [--threshold EXPR]...
import Foundation
import LogAnalysis
import Support

struct Usage: Error, CustomStringConvertible { var description: String }

func parse(_ arguments: [String]) throws -> (LogAnalysisOptions, [String], String) {
    var args = arguments
    if args.starts(with: ["logs", "analyze"]) { args.removeFirst(2) }
    var options = LogAnalysisOptions()
    var paths: [String] = [], format = "human"
    var it = args.makeIterator()
    func value<T>(_ flag: String, _ convert: (String) -> T?) throws -> T {
        guard let v = it.next(), let t = convert(v) else { throw Usage(description: "\(flag): missing or invalid value") }
        return t
    }
    while let arg = it.next() {
        switch arg {
        case "--top": options.top = try value(arg) { Int($0) }
        case "--format": format = try value(arg) { $0 }
        case "--by": options.groupBy = try value(arg) { $0 }
        case "--latency-field": options.latencyField = try value(arg) { $0 }
        case "--window": options.window = try value(arg) { DurationText.seconds($0) }
        case "--since": options.since = try value(arg) { DurationText.seconds($0) }
        case "--from": options.from = try value(arg) { LogTime.parse($0) }
        case "--to": options.to = try value(arg) { LogTime.parse($0) }
        case "--level": options.minLevel = try value(arg) { LogLevel(word: $0) }
        case "--grep": options.grep = try value(arg) { $0 }
        case "--threshold": options.thresholds.append(try LogThreshold(try value(arg) { $0 }))
        case "--workers": options.workers = try value(arg) { Int($0) }
        default: paths.append(arg)
        }
    }
    return (options, paths, format)
}

do {
    let (options, paths, format) = try parse(Array(CommandLine.arguments.dropFirst()))
    let report = try LogAnalyzer(options).analyze(paths: paths)
    if format == "json" { print(try report.jsonText()) } else { print(report.renderText(), terminator: "") }
    exit(report.status == .fail ? 1 : 0)
} catch {
    FileHandle.standardError.write(Data("logscan: \(error)\n".utf8))
    exit(error is Usage ? 64 : 65)
}
