extension LintRules {
    static let preferTimestamptz = LintRule(
        id: "prefer-timestamptz", severity: .warning,
        rationale: "timestamp without time zone silently drops the offset: values depend on the writer's TimeZone.",
        alternative: "timestamptz."
    ) { c in
        c.columnDefinitions.filter { TypeNames.name($0) == "timestamp" }.map { "column \($0["colname"]?.string ?? "?") is timestamp without time zone" }
    }
}
