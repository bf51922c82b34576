import Foundation
import Support
import Testing
@testable import Migrations

/// An interrupt stops parsing and linting of a huge script part way (the engine's apply and rollback
/// are covered against the database in InterruptionTests).
struct CancellationTests {
    static let many = (1...3000).map { "ALTER TABLE t\($0) ADD COLUMN c int;" }.joined(separator: "\n")

    @Test func anInterruptedLintStopsBetweenStatements() throws {
        let script = try SQLParser.parse(Self.many, file: "001_many.sql")
        let cancellation = Cancellation()
        #expect(!Linter(cancellation: cancellation).lint(script).isEmpty, "the statements have findings")
        cancellation.cancel(reason: "interrupted by SIGTERM")
        #expect(Linter(cancellation: cancellation).lint(script).isEmpty, "nothing linted after the interrupt")
    }

    @Test func anInterruptedParseStops() throws {
        let cancellation = Cancellation()
        #expect(try SQLParser.parse(Self.many, file: "001_many.sql", cancellation: cancellation).statements.count == 3000)
        cancellation.cancel(reason: "interrupted by SIGINT")
        #expect(throws: CancellationError.self) { try SQLParser.parse(Self.many, file: "001_many.sql", cancellation: cancellation) }
    }
}
