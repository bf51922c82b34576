import ArgumentParser
import Runbooks
import Support

/// `--watch DURATION [--every INTERVAL]` and its stop conditions, for the verbs that check (run, verify, health).
struct WatchOptions: ParsableArguments {
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Run again and again for this long (e.g. 10m), then report once: per step the worst state, time not ok, transitions.", valueName: "duration"))
    var watch: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("With --watch: time between the starts of two runs (default 30s).", valueName: "interval"))
    var every: String?

    @Flag(name: .long, help: "With --watch: stop as soon as every step is ok (exit 1 if that never happens).")
    var untilOk = false

    @Flag(name: .long, help: "With --watch: stop at the first failing step.")
    var untilFail = false

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("With --watch: a step fails the watch only if it stayed failing longer than this (default 0).", valueName: "duration"))
    var tolerate: String?

    func validate() throws {
        try FlagCheck.duration(watch, "--watch")
        try FlagCheck.duration(every, "--every")
        try FlagCheck.duration(tolerate, "--tolerate")
        if watch == nil && (every != nil || untilOk || untilFail || tolerate != nil) {
            throw ValidationError("--every, --until-ok, --until-fail and --tolerate go with --watch DURATION")
        }
        if untilOk && untilFail { throw ValidationError("--until-ok and --until-fail exclude each other") }
        if let watch, (DurationText.seconds(watch) ?? 0) <= 0 { throw ValidationError("--watch needs a duration above 0, e.g. --watch 10m") }
        if let every, (DurationText.seconds(every) ?? 0) <= 0 { throw ValidationError("--every needs an interval above 0, e.g. --every 30s") }
    }

    var plan: WatchPlan? {
        guard let watch, let duration = DurationText.seconds(watch) else { return nil }
        var plan = WatchPlan(duration: duration, every: every.flatMap(DurationText.seconds) ?? 30)
        plan.untilOK = untilOk
        plan.untilFail = untilFail
        plan.tolerate = tolerate.flatMap(DurationText.seconds) ?? 0
        return plan
    }
}
