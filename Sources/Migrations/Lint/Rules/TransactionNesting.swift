extension LintRules {
    static let transactionNesting = LintRule(
        id: "transaction-nesting", severity: .warning,
        rationale: "The runner already wraps each migration in a transaction; a COMMIT inside ends it early and the rest runs unprotected.",
        alternative: "Remove BEGIN/COMMIT; use -- opsctl:no-transaction when the migration must run outside a transaction."
    ) { c in
        guard c.statement.kind == "TransactionStmt" else { return [] }
        let kind = c.node["kind"]?.string ?? ""
        guard ["TRANS_STMT_BEGIN", "TRANS_STMT_START", "TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK"].contains(kind) else { return [] }
        return ["\(kind.replacingOccurrences(of: "TRANS_STMT_", with: "")) inside a migration"]
    }
}

import Foundation
