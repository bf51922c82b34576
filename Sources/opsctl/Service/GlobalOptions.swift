import ArgumentParser
import Runbooks

/// Flags shared by every verb that runs a runbook.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Environment from opsctl.yaml (default: its default_environment).")
    var env: String?

    @Option(name: .long, help: "Path to opsctl.yaml (default: searched upward from the current directory).")
    var config: String?

    @Option(name: .long, help: "Output format: human, json, jsonl, junit, tap, nagios, prometheus.")
    var format: String = "human"

    @Option(name: .long, help: "Write the report to FILE (atomically) instead of stdout.")
    var output: String?

    @Flag(name: .long, help: "Treat warnings as failures (exit 1).")
    var strict = false

    @Flag(name: .long, help: "Show what mutating steps would do; change nothing.")
    var dryRun = false

    @Option(name: .long, help: "Typed confirmation for protected environments (the environment's name).")
    var confirm: String?

    // `.unconditional`: `--parallel -1` reaches validate() ("must be between 1 and 256") instead of "Missing value".
    @Option(name: .long, parsing: .unconditional, help: "Steps to run at once.")
    var parallel: Int = 4

    @Option(name: .long, parsing: .unconditional, help: "Stop the whole run after this long (e.g. 10m); always-steps still run.")
    var deadline: String?

    @Option(name: .long, parsing: .unconditional, help: "Wait up to this long for another run's lock (e.g. 60s) instead of exiting 2.")
    var wait: String?

    @Option(name: .long, help: "Compare steps that have a baseline with the same query on this environment's database (canary vs stable).")
    var baselineEnv: String?

    @Option(name: .long, help: "Who is running this, for the journal (default: $USER).")
    var actor: String?

    @Flag(name: .long, help: "Do not record the run in the journal.")
    var noJournal = false

    @Flag(name: .long, help: "Skip TLS certificate verification (unsafe; for self-signed test hosts only).")
    var insecure = false

    @Flag(name: .long, help: "Show metrics and details for every step.")
    var verbose = false

    @Flag(name: .long, help: "No ANSI colours (also: NO_COLOR=1).")
    var noColor = false

    @Option(name: .long, parsing: .unconditional, help: "TAP version line for --format tap: 13 (default; every harness, including Debian 12's prove, accepts it) or 14.")
    var tapVersion: Int = 13

    func reporterOptions() -> ReporterOptions {
        ReporterOptions(color: Terminal.colorAllowed(noColorFlag: noColor, toFile: output != nil), strict: strict,
                        verbose: verbose, tapVersion: tapVersion)
    }

    func validate() throws {
        do { _ = try OutputFormat.parse(format) } catch { throw ValidationError("\(error)") }
        if ![13, 14].contains(tapVersion) { throw ValidationError("--tap-version must be 13 or 14") }
        if parallel < 1 || parallel > 256 { throw ValidationError("--parallel must be between 1 and 256, got \(parallel)") }
        try FlagCheck.duration(deadline, "--deadline")
        try FlagCheck.duration(wait, "--wait")
    }
}

import Support

enum DurationSeconds {
    static func parse(_ text: String) -> Double? { DurationText.seconds(text) }
}
