extension LintRules {
    static let preferBigintOverInt = LintRule(
        id: "prefer-bigint-over-int", severity: .warning,
        rationale: "32-bit integers overflow (at 2.1 billion); changing the type later rewrites the table.",
        alternative: "bigint / bigserial (or -- opsctl:ignore prefer-bigint-over-int for small bounded values)."
    ) { c in
        c.columnDefinitions.filter { ["int4", "int2", "serial", "serial4", "smallserial", "serial2", "int", "integer", "smallint"].contains(TypeNames.name($0) ?? "") }
            .map { "column \($0["colname"]?.string ?? "?") is \(TypeNames.name($0) ?? "int")" }
    }
}
