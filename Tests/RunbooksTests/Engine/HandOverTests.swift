import Checks
import Foundation
import Testing
@testable import Runbooks

/// A finishing step's thread takes the next ready step itself (the one with most steps ahead of it);
/// these pin what that must not change: needs before dependents, --parallel, runbook order at
/// --parallel 1, every step run, and the reporter hearing of needs finishing before a step starts.
@Suite("Executor hand-over")
struct HandOverTests {
    /// Records the live hooks in the order the executor calls them.
    final class Recorder: Reporter, @unchecked Sendable {
        private let lock = NSLock()
        private var log: [String] = []
        var events: [String] { lock.withLock { log } }
        var isStreaming: Bool { true }
        func render(_ report: RunReport) -> String { "" }
        func runStarted(runbook: String, environment: String?, runID: String, sink: ReportSink) {}
        func stepStarted(id: String, title: String, kind: String, sink: ReportSink) { lock.withLock { log.append("start \(id)") } }
        func stepFinished(_ result: StepResult, sink: ReportSink) { lock.withLock { log.append("end \(result.id)") } }
        func runFinished(_ report: RunReport, sink: ReportSink) {}
    }

    /// Two chains of different lengths off one root, a fan-in, a leaf listed before the long chain, and a
    /// cleanup step: at every hand-over the finishing thread has a choice to make.
    static let graph = """
        steps:
          - { id: root, kind: pause, with: { duration: 20ms } }
          - { id: leaf, kind: pause, needs: root, with: { duration: 30ms } }
          - { id: short, kind: pause, needs: root, with: { duration: 10ms } }
          - { id: long1, kind: pause, needs: root, with: { duration: 10ms } }
          - { id: long2, kind: pause, needs: long1, with: { duration: 10ms } }
          - { id: long3, kind: pause, needs: [long2, short], with: { duration: 10ms } }
          - { id: side1, kind: pause, with: { duration: 15ms } }
          - { id: side2, kind: pause, needs: side1, with: { duration: 5ms } }
          - { id: join, kind: pause, needs: [leaf, long3, side2] }
          - { id: cleanup, kind: pause, always: true, needs: root }
        """

    @Test(arguments: [1, 2, 3, 8])
    func dependentsStartAfterEveryNeedAndParallelIsABound(parallel: Int) throws {
        let recorder = Recorder()
        let runbook = try loadRunbook(Self.graph)
        var options = RunOptions(environment: EnvironmentConfig(name: "local"), params: [:])
        options.parallel = parallel
        let report = Executor(runbook: runbook, options: options, reporter: recorder, journal: nil).run()
        #expect(report.status == .ok)
        #expect(report.results.count == 10 && report.results.allSatisfy { $0.status == .ok })
        let byID = Dictionary(uniqueKeysWithValues: report.results.map { ($0.id, $0) })
        func end(_ r: StepResult) -> Date { r.startedAt.addingTimeInterval(r.durationMs / 1000) }
        for step in runbook.steps {
            let r = try #require(byID[step.id])
            // `always` steps follow every regular step.
            let needs = step.always ? runbook.steps.filter { !$0.always }.map(\.id) : step.needs
            for need in needs {
                let n = try #require(byID[need])
                #expect(r.startedAt >= end(n).addingTimeInterval(-0.0005), "\(step.id) started before \(need) finished")
            }
        }
        // Never more than --parallel steps at once.
        var edges: [(at: Date, delta: Int)] = []
        for r in report.results where r.durationMs > 0 {
            edges.append((r.startedAt, 1))
            edges.append((end(r), -1))
        }
        // At the same instant an end comes before a start.
        edges.sort { a, b in a.at == b.at ? a.delta < b.delta : a.at < b.at }
        var running = 0, most = 0
        for (_, delta) in edges {
            running += delta
            most = max(most, running)
        }
        #expect(most <= parallel, "\(most) steps ran at once with --parallel \(parallel)")
        // The stream: every step starts once, after each of its needs finished.
        let events = recorder.events
        for step in runbook.steps {
            let started = try #require(events.firstIndex(of: "start \(step.id)"))
            #expect(events.filter { $0 == "start \(step.id)" }.count == 1)
            #expect(events.filter { $0 == "end \(step.id)" }.count == 1)
            let needs = step.always ? runbook.steps.filter { !$0.always }.map(\.id) : step.needs
            for need in needs {
                let finished = try #require(events.firstIndex(of: "end \(need)"))
                #expect(finished < started, "\(step.id) reported started before \(need) finished: \(events)")
            }
        }
    }

    @Test func aSerialRunKeepsRunbookOrderWhateverIsAheadOfEachStep() throws {
        // long1 has more steps ahead of it than leaf and short, yet at --parallel 1 ready steps still start
        // in the order they are written.
        let report = try execute(Self.graph) { $0.parallel = 1 }
        #expect(report.status == .ok)
        let order = report.results.sorted { $0.startedAt < $1.startedAt }.map(\.id)
        #expect(order == ["root", "leaf", "short", "long1", "long2", "long3", "side1", "side2", "join", "cleanup"])
    }

    @Test func stepsAheadCountTheLongestChainAndTheCleanupAfterIt() throws {
        let runbook = try loadRunbook(Self.graph + """

              - { id: cleanup2, kind: pause, always: true, needs: cleanup }
            """)
        let ahead = Executor.stepsAhead(runbook.steps)
        let byID = Dictionary(uniqueKeysWithValues: zip(runbook.steps.map(\.id), ahead))
        // Cleanup steps: what follows them among cleanup steps.
        #expect(byID["cleanup2"] == 0 && byID["cleanup"] == 1)
        // Regular steps: their chain to `join`, then both cleanup steps.
        #expect(byID["join"] == 2)
        #expect(byID["long3"] == 3 && byID["long2"] == 4 && byID["long1"] == 5)
        #expect(byID["leaf"] == 3 && byID["short"] == 4 && byID["side2"] == 3 && byID["side1"] == 4)
        #expect(byID["root"] == 6)
    }

    @Test func aThousandStepChainIsCountedWithoutRecursion() throws {
        // Deep chains are counted without recursion.
        var yaml = "steps:\n  - { id: s0, kind: pause }\n"
        for i in 1..<1_000 { yaml += "  - { id: s\(i), kind: pause, needs: s\(i - 1) }\n" }
        let runbook = try loadRunbook(yaml)
        let ahead = Executor.stepsAhead(runbook.steps)
        #expect(ahead.first == 999 && ahead.last == 0)
    }
}
