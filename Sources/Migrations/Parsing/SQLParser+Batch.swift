import Foundation
import Support

extension SQLParser {
    /// Parses many scripts (the files of a directory, ups and downs) over every core: the files are
    /// independent, and each worker takes the next unparsed file until none is left, all on one
    /// deep-stack thread it was handed to once — a hand-off per file cost as much as parsing a small
    /// one. Results come in the order given, each what `parse` returns for that script (a syntax error
    /// is `SQLSyntaxError`, an interrupt `CancellationError`), and are cached like `parse`'s.
    public static func parseAll(_ sources: [(sql: String, file: String)], cancellation: Cancellation? = nil) -> [Result<SQLScript, Error>] {
        var results = [Result<SQLScript, Error>?](repeating: nil, count: sources.count)
        var todo: [Int] = []
        for (i, s) in sources.enumerated() {
            if let hit = ParseCache.shared.lookup(s.sql, file: s.file) { results[i] = .success(hit) } else { todo.append(i) }
        }
        let pending = todo
        let parsed = onEveryCore(todo.count, worker: { loop in DeepStack.run(loop) }) { k -> Result<SQLScript, Error> in
            let (sql, file) = sources[pending[k]]
            if cancellation?.isCancelled == true { return .failure(CancellationError()) }
            return Result { try parseUncached(sql, file: file, cancellation: cancellation, onDeepStack: true) }
        }
        for (k, i) in todo.enumerated() {
            let result = parsed[k] ?? .failure(CancellationError())
            if case let .success(script) = result { ParseCache.shared.store(script) }
            results[i] = result
        }
        return results.map { $0 ?? .failure(CancellationError()) }
    }
}
