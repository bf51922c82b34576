/// Every lint rule, in the order findings are reported. One rule per file in `Rules/`.
public enum LintRules {
    public static let statementRules: [LintRule] = [
        requireConcurrentIndexCreation, requireConcurrentIndexDeletion, addingNotNullableField, addingRequiredField, addingFieldWithDefault,
        changingColumnType, constraintMissingNotValid, addingForeignKeyConstraint, disallowedUniqueConstraint,
        banDropColumn, banDropTable, banDropDatabase, renamingColumn, renamingTable, preferRobustStmts,
        requireTimeoutSettings, banCharField, preferBigintOverInt, preferTextField, preferTimestamptz,
        transactionNesting, banConcurrentIndexCreationInTransaction,
    ]

    public static let repositoryRules: [RepositoryRule] = [
        syntaxError, duplicateVersion, missingDown, downPatternMismatch, downDoesNotRevert, forwardReference,
    ]

    /// (id, severity, rationale, alternative) of every rule, for `opsctl migrate lint --rules`.
    public static var catalog: [(id: String, severity: LintSeverity, rationale: String, alternative: String)] {
        statementRules.map { ($0.id, $0.severity, $0.rationale, $0.alternative) }
            + repositoryRules.map { ($0.id, $0.severity, $0.rationale, $0.alternative) }
    }
}
