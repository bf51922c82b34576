import Checks
import Foundation
import Testing
@testable import Runbooks

@Suite("Runbook loader")
struct LoaderTests {
    @Test func loadsAValidRunbook() throws {
        let runbook = try loadRunbook("""
            name: example
            description: An example
            params:
              url: { type: string, default: "http://127.0.0.1:1/" }
              retries: 3
            steps:
              - id: first
                kind: pause
              - id: second
                kind: http.request
                needs: first
                with: { url: "${params.url}", latency_warn: 500ms }
                retry: { attempts: 3, delay: 1s, backoff: 2 }
                timeout: 5s
                remediation: restart it
              - id: cleanup
                kind: shell
                always: true
                with: { command: "true", readonly: true }
            """)
        #expect(runbook.name == "example")
        #expect(runbook.steps.map(\.id) == ["first", "second", "cleanup"])
        #expect(runbook.step("second")?.retry == RetryPolicy(attempts: 3, delay: 1, backoff: 2, until: nil))
        #expect(runbook.step("second")?.timeout == 5)
        #expect(runbook.step("cleanup")?.always == true)
        #expect(runbook.step("cleanup")?.mutates == false)
        #expect(runbook.params.first { $0.name == "retries" }?.type == .int)
    }

    /// Every load error names file:line:col and says what is wrong.
    @Test(arguments: [
        ("steps:\n  - id: a\n    kind: postgres.conect\n", 3, "unknown kind 'postgres.conect', did you mean 'postgres.connect'?"),
        ("steps:\n  - id: a\n    kind: pause\n    retyr: 3\n", 4, "unknown step key 'retyr', did you mean 'retry'?"),
        ("stepz: []\n", 1, "unknown key 'stepz', did you mean 'steps'?"),
        ("steps:\n  - id: a\n    kind: http.request\n", 2, "needs parameter 'url'"),
        ("steps:\n  - id: a\n    kind: pause\n    with: { duration: soon }\n", 4, "parameter 'duration' must be duration"),
        ("steps:\n  - id: a\n    kind: pause\n  - id: a\n    kind: pause\n", 4, "duplicate step id 'a'"),
        ("steps:\n  - id: bad id\n    kind: pause\n", 2, "step id 'bad id' may only contain"),
        ("steps:\n  - id: -dash\n    kind: pause\n", 2, "step id '-dash' may only contain"),
        ("steps:\n  - id: caf\u{e9}\n    kind: pause\n", 2, "may only contain"),
        ("steps:\n  - id: a\n    kind: pause\n    needs: b\n  - id: b\n    kind: pause\n    needs: a\n", 2, "cycle in needs: a -> b -> a"),
        ("steps:\n  - id: a\n    kind: pause\n    needs: nope\n", 2, "needs unknown step 'nope'"),
        ("steps:\n  - id: a\n    kind: pause\n    with: { reason: \"${params.missing}\" }\n", 2, "undefined param 'missing'"),
        ("steps:\n  - id: a\n    kind: pause\n  - id: b\n    kind: pause\n    with: { reason: \"${steps.a.message}\" }\n", 4, "does not need it"),
        ("steps:\n  - id: a\n    kind: pause\n    when: params.x ==\n", 4, "condition"),
        ("steps:\n  - id: a\n    kind: pause\n    timeout: forever\n", 4, "must be a duration"),
        ("steps:\n  - id: a\n   kind: pause\n", 3, "YAML"),
        ("steps:\n  - id: a\n    kind: pause\n    retry: { attempts: 0 }\n", 4, "retry.attempts"),
        ("name: x\n", 1, "missing 'steps'"),
        ("lock: deploy-${params.svc}\nsteps:\n  - id: a\n    kind: pause\n", 1, "only declared params: ${params.svc}"),
        ("lock: []\nsteps:\n  - id: a\n    kind: pause\n", 1, "'lock' must be true, false or a lock key"),
        ("- just\n- a list\n", 1, "a runbook is a mapping"),
    ])
    func errorsNameTheLocation(yaml: String, line: Int, fragment: String) throws {
        let error = try #require(loadError(yaml))
        #expect(error.file == "test.yaml")
        #expect(error.line == line, "\(error)")
        #expect(error.column > 0, "\(error)")
        #expect(error.description.contains(fragment), "\(error)")
        #expect(error.description.hasPrefix("test.yaml:\(line):"))
    }

    @Test func plainScalarsAreTypedAndQuotedOrTaggedOnesStayText() throws {
        let runbook = try loadRunbook("""
            params:
              count: 3
              ratio: 0.5
              flag: true
              nothing: ~
              quoted: "3"
              tagged: !!str 42
              word: hello
            steps:
              - id: a
                kind: pause
            """)
        #expect(runbook.values["count"] == .int(3))
        #expect(runbook.values["ratio"] == .double(0.5))
        #expect(runbook.values["flag"] == .bool(true))
        #expect(runbook.values["quoted"] == .string("3"))
        #expect(runbook.values["tagged"] == .string("42"))
        #expect(runbook.values["word"] == .string("hello"))
    }

    @Test func lockIsTheRunbookAKeyFromParamsOrNone() throws {
        let steps = "steps:\n  - id: a\n    kind: pause\n"
        #expect(try loadRunbook("name: deploy\n" + steps).lock == .runbook)
        #expect(try loadRunbook("lock: true\n" + steps).lock == .runbook)
        #expect(try loadRunbook("lock: false\n" + steps).lock == .none)
        let keyed = "params:\n  service: { type: string, default: api }\nlock: deploy-${params.service}\n" + steps
        #expect(try loadRunbook(keyed).lock == .named("deploy-api"))
        #expect(try loadRunbook(keyed, params: ["service": "worker"]).lock == .named("deploy-worker"))
    }

    @Test func paramsAreCheckedAndConverted() throws {
        let yaml = """
            params:
              count: { type: int, required: true }
              urls: { type: list, default: [] }
            steps:
              - id: a
                kind: pause
            """
        #expect(loadError(yaml)?.description.contains("param 'count' is required") == true)
        #expect(loadError(yaml, params: ["count": "many"])?.description.contains("must be int") == true)
        #expect(loadError(yaml, params: ["count": "1", "cuont": "2"])?.description.contains("did you mean 'count'") == true)
        let loader = RunbookLoader(library: RunbookLibrary(directories: []))
        let runbook = try loadRunbook(yaml, params: ["count": "2"])
        let bound = try loader.bind(params: runbook.params, given: ["count": "2", "urls": "a, b"], file: "t")
        #expect(bound["count"] == .int(2))
        #expect(bound["urls"] == .array(["a", "b"]))
    }

    @Test func forEachExpandsOneStepPerItem() throws {
        let runbook = try loadRunbook("""
            params:
              urls: { type: list, default: [] }
            steps:
              - id: endpoint
                kind: http.request
                for_each: ${params.urls}
                with: { url: "${item}" }
              - id: after
                kind: pause
            """, params: ["urls": .array(["http://a/", "http://b/"])])
        #expect(runbook.steps.map(\.id) == ["endpoint-1", "endpoint-2", "after"])
        #expect(runbook.steps[1].with["url"] == .string("http://b/"))
    }

    @Test func includedRunbooksAreLoadedAndCyclesRejected() throws {
        let dir = NSTemporaryDirectory() + "opsctl-include-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "name: child\nparams: { reason: x }\nsteps:\n  - id: c\n    kind: pause\n    with: { reason: \"${params.reason}\" }\n"
            .write(toFile: dir + "/child.yaml", atomically: true, encoding: .utf8)
        try "steps:\n  - id: loop\n    kind: runbook\n    with: { runbook: selfish }\n".write(toFile: dir + "/selfish.yaml", atomically: true, encoding: .utf8)
        let parent = try loadRunbook("steps:\n  - id: inner\n    kind: runbook\n    with: { runbook: child, params: { reason: hello } }\n", directory: dir)
        #expect(parent.steps[0].included?.runbook.name == "child")
        #expect(parent.steps[0].included?.params["reason"] == "hello")
        let loader = RunbookLoader(library: RunbookLibrary(directories: [dir]))
        #expect(throws: LoadError.self) { try loader.load("selfish") }
    }
}
