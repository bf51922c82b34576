import Foundation
import HTTP
import Testing

/// Between two requests on a kept-alive connection the multi client leaves its socket in the epoll set
/// ("parked", Sources/CCurl) instead of removing and adding it again: a parked connection the server
/// closes, and a socket number curl opens anew in its place, must still work.
@Suite("HTTP MultiClient connection reuse")
struct ConnectionReuseTests {
    @Test func connectionsTheServerClosesAfterEachAnswerAreReplaced() throws {
        let s = try server()
        let multi = MultiClient(concurrency: 3)
        // Two runs: the second starts on connections parked (and closed by the server) in the first.
        for round in 0..<2 {
            var n = 0
            var answers: [Int: Int] = [:]
            var failures: [String] = []
            multi.run(next: { () -> (Int, HTTPRequest)? in
                guard n < 60 else { return nil }
                n += 1
                // The fixture closes the connection after answering a request that says `Connection: close`
                // (without saying so in its answer); every third request asks it to.
                let headers = n % 3 == 0 ? [(name: "Connection", value: "close")] : []
                return (n, HTTPRequest(method: "POST", url: s.base + "/echo", headers: headers, body: "r\(round)-\(n)"))
            }, completed: { i, result in
                switch result {
                case let .success(response):
                    answers[i, default: 0] += 1
                    if (response.json as? [String: Any])?["body"] as? String != "r\(round)-\(i)" { failures.append("\(i): wrong echo") }
                case let .failure(error): failures.append("\(i): \(error)")
                }
            })
            #expect(failures.isEmpty, "round \(round): \(failures.prefix(5))")
            #expect(answers.count == 60 && answers.values.allSatisfy { $0 == 1 }, "round \(round)")
        }
    }

    @Test func aServerThatGoesAwayBetweenRunsIsReconnected() throws {
        let s = try server()
        let multi = MultiClient(concurrency: 2)
        for round in 0..<3 {
            var n = 0
            var ok = 0
            multi.run(next: { () -> (Int, HTTPRequest)? in
                guard n < 6 else { return nil }
                n += 1
                return (n, HTTPRequest(url: s.base + "/text", headers: [(name: "Connection", value: "close")]))
            }, completed: { _, result in if (try? result.get())?.status == 200 { ok += 1 } })
            #expect(ok == 6, "round \(round)")
            // The parked connections' closes arrive while nothing runs.
            Thread.sleep(forTimeInterval: 0.05)
        }
    }
}
