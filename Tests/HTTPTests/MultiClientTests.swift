import Foundation
import HTTP
import Testing

@Suite("HTTP MultiClient (curl multi)")
struct MultiClientTests {
    @Test("500 requests with concurrency 16: each completes exactly once")
    func fiveHundredRequests() throws {
        let s = try server()
        let total = 500
        var nextIndex = 0
        var completions = [Int](repeating: 0, count: total)
        var statuses = [Int](repeating: 0, count: total)
        var failures: [String] = []
        let multi = MultiClient(concurrency: 16)
        multi.run(next: { () -> (Int, HTTPRequest)? in
            guard nextIndex < total else { return nil }
            defer { nextIndex += 1 }
            let i = nextIndex
            let code = [200, 201, 404, 500][i % 4]
            let request = i % 5 == 0
                ? HTTPRequest(method: "POST", url: s.base + "/echo", headers: [("X-Index", "\(i)")], body: "body-\(i)")
                : HTTPRequest(url: s.base + "/status/\(code)")
            return (i, request)
        }, completed: { index, result in
            completions[index] += 1
            switch result {
            case let .success(response):
                statuses[index] = response.status
                if index % 5 == 0 {
                    let echo = response.json as? [String: Any]
                    if echo?["body"] as? String != "body-\(index)" { failures.append("\(index): wrong echo") }
                }
            case let .failure(error):
                failures.append("\(index): \(error)")
            }
        })
        #expect(nextIndex == total)
        #expect(completions.allSatisfy { $0 == 1 }, "not exactly once: \(completions.enumerated().filter { $0.element != 1 }.prefix(5))")
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        for i in 0..<total where i % 5 != 0 {
            #expect(statuses[i] == [200, 201, 404, 500][i % 4])
        }
    }

    @Test func failuresAreReportedPerRequest() throws {
        let s = try server()
        let requests: [(String, HTTPRequest)] = [
            ("ok", HTTPRequest(url: s.base + "/text")),
            ("refused", HTTPRequest(url: "http://127.0.0.1:1/")),
            ("invalid", HTTPRequest(url: "not a url")),
            ("timeout", HTTPRequest(url: s.base + "/slow?ms=3000", timeout: 0.3)),
            ("tls", HTTPRequest(url: s.validTLS + "/text")),
        ]
        var queue = requests[...]
        var outcomes: [String: Result<HTTPResponse, HTTPError>] = [:]
        MultiClient(concurrency: 4).run(next: { queue.popFirst() }, completed: { tag, result in
            #expect(outcomes[tag] == nil, "\(tag) completed twice")
            outcomes[tag] = result
        })
        #expect(outcomes.count == requests.count)
        #expect((try? outcomes["ok"]?.get())?.status == 200)
        #expect(kind(outcomes["refused"]) == .connect)
        #expect(kind(outcomes["invalid"]) == .invalidURL)
        #expect(kind(outcomes["timeout"]) == .timeout)
        #expect(kind(outcomes["tls"]) == .certificate)
    }

    @Test func runWithNothingToDoReturns() {
        var calls = 0
        MultiClient(concurrency: 8).run(next: { () -> (Int, HTTPRequest)? in nil }, completed: { _, _ in calls += 1 })
        #expect(calls == 0)
    }

    @Test func clientIsReusableForASecondRun() throws {
        let s = try server()
        let multi = MultiClient(concurrency: 4)
        for _ in 0..<2 {
            var n = 0
            var ok = 0
            multi.run(next: { () -> (Int, HTTPRequest)? in
                guard n < 20 else { return nil }
                n += 1
                return (n, HTTPRequest(url: s.base + "/text"))
            }, completed: { _, result in if (try? result.get())?.status == 200 { ok += 1 } })
            #expect(ok == 20)
        }
    }

    @Test func stopFromAnotherThreadAbortsInFlightRequests() throws {
        let s = try server()
        let multi = MultiClient(concurrency: 8)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { multi.stop() }
        var handed = 0
        var cancelled = 0
        var completed = 0
        let started = Date()
        multi.run(next: { () -> (Int, HTTPRequest)? in
            guard handed < 100 else { return nil }
            handed += 1
            return (handed, HTTPRequest(url: s.base + "/slow?ms=20000", timeout: 60))
        }, completed: { _, result in
            completed += 1
            if case let .failure(error) = result, error.kind == .cancelled { cancelled += 1 }
        })
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(handed == 8, "no new requests after stop")
        #expect(completed == handed)
        #expect(cancelled == handed)
    }

    private func kind(_ result: Result<HTTPResponse, HTTPError>?) -> HTTPError.Kind? {
        if case let .failure(error) = result { return error.kind }
        return nil
    }
}
