import Checks

extension RunbookLoader {
    /// A reference in SQL where it cannot become a bound parameter (inside a string literal, a quoted
    /// identifier, a dollar-quoted body) is refused when the runbook is loaded, at the step's parameter.
    func checkCode(_ node: YAMLValue, _ spec: ParameterSpec, file: String, step: String) throws {
        guard case .sql? = spec.code, let text = node.string, let refusal = CodeBinding.checkSQL(text) else { return }
        // The column is exact for a plain one-line scalar; inside a block scalar the line is.
        let lines = text.prefix(refusal.offset).split(separator: "\n", omittingEmptySubsequences: false)
        let line = node.position.line + lines.count - 1
        let column = lines.count == 1 ? node.position.column + refusal.offset : (lines.last?.count ?? 0) + 1
        throw LoadError(file: file, line: line, column: column,
                        message: "step '\(step)': \(spec.name): \(refusal.message)", hint: refusal.hint)
    }
}
