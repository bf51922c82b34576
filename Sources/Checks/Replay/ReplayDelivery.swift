import Foundation
import HTTP
import Postgres
import Support
import Webhooks

/// Sends claimed events through the curl multi interface: bounded concurrency, an optional rate
/// limit, 429 + Retry-After honoured, capped exponential backoff on 5xx and connection errors, other
/// 4xx final. Each finished event is checkpointed (batched every 100 ms, written on a connection of its
/// own by ReplayCheckpointWriter, so sending never waits for it) as it completes. Events are
/// claimed in blocks (ReplayStore.claim) ahead of need by ReplayClaimer, which also lets a block go (on
/// the session that locked it) once all its claimed events are recorded.
final class ReplayDelivery: @unchecked Sendable {
    struct Settings {
        var url: String
        var scheme: WebhookScheme
        var secret: String
        var replayID: String
        var worker: String
        var concurrency: Int
        /// Events per second; 0 = unthrottled.
        var rate: Double
        var maxAttempts: Int
        var backoffBase: Double
        var backoffCap: Double
        var timeout: Double
        var insecure: Bool
        /// Headers the provider sends besides the signature (service.provider.headers, e.g. X-Shopify-Shop-Domain).
        var extraHeaders: [WebhookHeader] = []
    }

    struct Summary {
        var delivered = 0
        var duplicates = 0
        var failed = 0
        var requests = 0
        var retried = 0
        var stoppedBecause: String?
    }

    let settings: Settings
    let store: ReplayStore
    let cancellation: Cancellation
    let progress: (@Sendable (String) -> Void)?
    let expected: Int
    /// A replay still being written (ReplayCreation): nothing is checkpointed and nothing else claimed until it commits.
    let creation: ReplayCreation?
    /// Its first events, sent while the rest are written.
    let first: [ReplayEvent]
    /// Opens the checkpoint writer's own connection (ReplayCheckpointWriter).
    let connect: @Sendable () throws -> PostgresConnection
    private var writer: ReplayCheckpointWriter?
    /// Claims and unlocks on the store's session while the loop sends (nil before and after).
    private var claimer: ReplayClaimer?

    private var queue: [ReplayEvent] = []
    /// Events waiting for a retry, with the time they may go again.
    private var waiting: [(due: Date, event: ReplayEvent)] = []
    /// Attempts so far of the events sent again in this run (a first send is `event.attempts + 1`: most
    /// events never get an entry, and a lookup in an empty dictionary hashes nothing).
    private var retriedAttempts: [String: Int] = [:]
    /// The scheme and secret made ready once for every event's signature.
    private let signer: WebhookSigner
    private var inFlight = 0
    private var pending: [ReplayOutcome] = []
    /// The blocks of `pending`'s events, in the same order.
    private var pendingBlocks: [Int] = []
    /// Blocks this worker holds, with how many of their claimed events are not yet recorded or given back.
    private var held: [Int: Int] = [:]
    private var lastFlush = Date()
    private var nextSend = Date.distantPast
    private var pausedUntil = Date.distantPast
    private var claimedAll = false
    /// The claimer was asked for the blocks after the queue's (reset as they are taken).
    private var askedAhead = false
    /// The last claim found fewer blocks than asked: the replay's end is near.
    private var lastClaimShort = false
    private var consecutiveConnectionErrors = 0
    private var summary = Summary()
    private let started = Date()
    private var lastProgress = Date.distantPast
    private var storeError: Error?
    /// Set once the replay being created is seen committed (its unstarted first blocks were given back).
    private var sawCommit = false
    private var trace = ReplayTrace()

    init(settings: Settings, store: ReplayStore, cancellation: Cancellation, progress: (@Sendable (String) -> Void)?, expected: Int,
         creation: ReplayCreation? = nil, first: [ReplayEvent] = [], connect: @escaping @Sendable () throws -> PostgresConnection) {
        self.settings = settings
        self.store = store
        self.cancellation = cancellation
        self.progress = progress
        self.expected = expected
        self.creation = creation
        self.first = first
        self.connect = connect
        signer = WebhookSigner(scheme: settings.scheme, secret: settings.secret, extra: settings.extraHeaders)
    }

    func run() throws -> Summary {
        let client = MultiClient(concurrency: settings.concurrency)
        PhaseClock.mark("replay client ready")
        cancellation.onCancel { client.stop() }
        defer { writer?.close() }
        if creation != nil {
            try takeFirst()
        } else {
            try store.adoptOrphans(id: settings.replayID)
        }
        // From here until it is closed the claimer alone uses the store's connection.
        claimer = ReplayClaimer(store: store, replayID: settings.replayID, blocksPerClaim: claimSize / ReplayStore.blockSize,
                                creation: creation, held: Set(held.keys))
        defer { claimer?.close() }
        PhaseClock.mark("replay sending starts")
        while summary.stoppedBecause == nil, storeError == nil, !cancellation.isCancelled {
            if queue.isEmpty && waiting.isEmpty && claimedAll { break }
            if queue.isEmpty && !claimedAll { refill() }
            if queue.isEmpty, let due = waiting.map(\.due).min() {
                // Only retries left and none due: wait for the first (in small steps, to notice an interrupt).
                while Date() < due, !cancellation.isCancelled { Thread.sleep(forTimeInterval: min(0.05, due.timeIntervalSinceNow)) }
            }
            trace.round()
            client.run(next: { self.next() }, completed: { event, result in self.completed(event, result) })
            try flush(force: true)
        }
        PhaseClock.mark("replay send loop ended")
        claimer?.close()
        claimer = nil
        if let creation {
            do { try creation.waitCommitted() } catch { throw creationFailed(error) }
        }
        trace.report(concurrency: settings.concurrency)
        if let storeError { throw storeError }
        try flush(force: true)
        if let writer { release(try writer.waitWritten()) }
        PhaseClock.mark("replay outcomes committed")
        try unlockReleased()
        // Whatever is still claimed by this worker (not sent: still pending) goes back to the other workers.
        try store.unlock(id: settings.replayID, blocks: Array(held.keys))
        held.removeAll()
        if cancellation.isCancelled && summary.stoppedBecause == nil {
            summary.stoppedBecause = cancellation.reason ?? "interrupted"
        }
        return summary
    }

    /// The first events' blocks are locked by this session before the replay is visible to anyone, so
    /// a worker joining once it is committed never takes them.
    private func takeFirst() throws {
        let blocks = try store.lock(id: settings.replayID, blocks: Array(Set(first.map { ReplayStore.block(of: $0.seq) })).sorted())
        // A block not locked (its key is held for another replay) is claimed like any other later.
        let mine = first.filter { blocks.contains(ReplayStore.block(of: $0.seq)) }
        for b in blocks { held[b] = 0 }
        for event in mine { held[ReplayStore.block(of: event.seq), default: 0] += 1 }
        queue = mine.reversed()  // popLast takes them in sequence order
    }

    /// Creating the replay failed after its first events were sent: they are not checkpointed (there is
    /// no replay to record them in), and the service dedupes them by id when they are sent again.
    private func creationFailed(_ error: Error) -> Error {
        guard summary.requests > 0 else { return error }
        let reason = (error as? PostgresError)?.description ?? "\(error)"
        return StepError("creating replay \(settings.replayID) failed after \(summary.requests) of its first events were sent: \(reason); "
                         + "no replay was recorded, so start it again (the service answers the events already processed 'duplicate')")
    }

    /// Once the replay is committed other workers may join it: the first blocks not started yet beyond
    /// what one refill claims go back to them (a throttled replay must not sit on a thousand events).
    private func giveBackUnstartedFirstBlocks() throws {
        sawCommit = true
        var unsent: [Int: Int] = [:]
        for event in queue { unsent[ReplayStore.block(of: event.seq), default: 0] += 1 }
        var keep = max(ReplayStore.blockSize, settings.concurrency * 8)
        var released: Set<Int> = []
        for b in held.keys.sorted() where unsent[b] == held[b] {
            if keep > 0 { keep -= held[b] ?? 0; continue }
            released.insert(b)
        }
        guard !released.isEmpty else { return }
        queue.removeAll { released.contains(ReplayStore.block(of: $0.seq)) }
        for b in released { held[b] = nil }
        // Unsent: the claimer's next claim looks at them again (it skips held blocks unread).
        if let claimer { claimer.giveBack(released.sorted()) } else { try unlock(released.sorted()) }
    }

    /// Events per claim: enough to keep every slot busy for a while, at least one block.
    private var claimSize: Int { max(ReplayStore.blockSize, settings.concurrency * 8) }

    /// Takes the claimer's next blocks into the (empty) queue; if they are not claimed yet, waits for
    /// them (or, without `wait`, leaves the queue empty).
    private func refill(wait: Bool = true) {
        guard let claimer else { return }
        let start = ReplayTrace.now()
        let claimed: (blocks: [Int], events: [ReplayEvent], done: Bool)
        do {
            guard let taken = try claimer.take(wait: wait) else { return }
            claimed = taken
        } catch {
            // An interrupt cancels the claim running on the store's connection: nothing more is claimed.
            if cancellation.isCancelled { claimedAll = true } else { storeError = error }
            return
        }
        trace.waited("claims", since: start)
        PhaseClock.mark("replay blocks taken: \(claimed.events.count) events, \(inFlight) in flight")
        askedAhead = false
        lastClaimShort = claimed.blocks.count < claimSize / ReplayStore.blockSize
        if claimed.done { claimedAll = true }
        for b in claimed.blocks { held[b] = 0 }
        for event in claimed.events { held[ReplayStore.block(of: event.seq), default: 0] += 1 }
        queue.append(contentsOf: claimed.events.reversed())  // popLast takes them in sequence order
    }

    /// The next request, or nil to end this round (nothing ready now; the outer loop starts another).
    private func next() -> (ReplayEvent, HTTPRequest)? {
        if cancellation.isCancelled || summary.stoppedBecause != nil || storeError != nil { return nil }
        if !sawCommit, let creation, creation.isCommitted {
            do { try giveBackUnstartedFirstBlocks() } catch { storeError = error; return nil }
        }
        // One clock read per event (read again only after a sleep): it also stamps the signature.
        var now = Date()
        if pausedUntil > now {
            guard inFlight == 0 else { return nil }
            Thread.sleep(until: pausedUntil)
            now = Date()
        }
        var event: ReplayEvent?
        var retry = false
        if let i = waiting.firstIndex(where: { $0.due <= now }) {
            event = waiting.remove(at: i).event
            retry = true
        } else {
            // Near the end the claim that finds nothing left reads the whole replay's range (tens of ms
            // under load): rather than hold up the answers in flight, this round ends and they are read
            // meanwhile (the outer loop then waits for it). Before that a claim is never waited for.
            if queue.isEmpty && !claimedAll { refill(wait: !lastClaimShort || inFlight == 0) }
            event = queue.popLast()
            // Half the queue still to send: the next blocks are claimed meanwhile.
            if !askedAhead && queue.count <= claimSize / 2 && !claimedAll {
                PhaseClock.mark("replay asks for the next blocks")
                claimer?.ask()
                askedAhead = true
            }
        }
        guard let event else { trace.dry(); return nil }
        if settings.rate > 0 {
            let wait = nextSend.timeIntervalSinceNow
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            now = Date()
            nextSend = max(now, nextSend) + 1 / settings.rate
        }
        inFlight += 1
        trace.inFlight(inFlight)
        summary.requests += 1
        if retry { retriedAttempts[event.id] = attempt(of: event) + 1 }
        return (event, request(for: event, at: now))
    }

    /// The number of the event's latest send (counting earlier runs').
    private func attempt(of event: ReplayEvent) -> Int { retriedAttempts[event.id] ?? event.attempts + 1 }

    func request(for event: ReplayEvent, at now: Date = Date()) -> HTTPRequest {
        let body = Array(event.payload.utf8)
        // The event type is the topic: Shopify carries it in a header, not in the body.
        var headers = signer.headers(body: body, timestamp: now, id: event.id, topic: event.type)
        headers.append((name: "Content-Type", value: "application/json"))
        headers.append((name: "X-Opsctl-Replay", value: settings.replayID))
        return HTTPRequest(method: "POST", url: settings.url, headers: headers, body: body, timeout: settings.timeout,
                           connectTimeout: min(5, settings.timeout), insecure: settings.insecure)
    }

    private func completed(_ event: ReplayEvent, _ result: Result<HTTPResponse, HTTPError>) {
        inFlight -= 1
        trace.inFlight(inFlight)
        let attempt = attempt(of: event)
        let now = Date()
        switch result {
        case let .success(response) where (200..<300).contains(response.status):
            consecutiveConnectionErrors = 0
            let said = Self.serviceStatus(response.body)
            if said == "duplicate" { summary.duplicates += 1 }
            summary.delivered += 1
            finish(ReplayOutcome(eventID: event.id, status: "delivered", attempts: attempt, httpStatus: response.status, serviceStatus: said),
                   seq: event.seq, now: now)
        case let .success(response) where response.status == 429:
            consecutiveConnectionErrors = 0
            let delay = Self.retryAfter(response) ?? backoff(attempt)
            pausedUntil = max(pausedUntil, now.addingTimeInterval(delay))
            retryOrFail(event, attempt: attempt, limit: settings.maxAttempts * 4, delay: delay, status: 429,
                        error: "429 Too Many Requests (Retry-After \(response.header("retry-after") ?? "absent"))")
        case let .success(response) where response.status >= 500:
            consecutiveConnectionErrors = 0
            retryOrFail(event, attempt: attempt, limit: settings.maxAttempts, delay: backoff(attempt), status: response.status,
                        error: "HTTP \(response.status): \(Self.reason(response))")
        case let .success(response):
            consecutiveConnectionErrors = 0
            // 4xx other than 429 (bad signature, invalid event, 410 gone): resending the same thing will not help.
            summary.failed += 1
            finish(ReplayOutcome(eventID: event.id, status: "failed", attempts: attempt, httpStatus: response.status,
                                 error: "HTTP \(response.status): \(Self.reason(response))"), seq: event.seq, now: now)
        case let .failure(error):
            if error.kind == .cancelled || cancellation.isCancelled {
                queue.append(event)  // released at the end, never counted as failed
                return
            }
            if [.connect, .dns, .invalidURL].contains(error.kind) { consecutiveConnectionErrors += 1 }
            if error.kind == .invalidURL {
                summary.stoppedBecause = error.description
                queue.append(event)
                return
            }
            // The service is down: stop rather than burn every event's retries; what was not sent stays pending.
            if consecutiveConnectionErrors >= max(24, settings.concurrency * 3) && summary.delivered == 0 || consecutiveConnectionErrors >= 200 {
                summary.stoppedBecause = "service unreachable: \(error.description)"
                waiting.append((Date(), event))
                return
            }
            retryOrFail(event, attempt: attempt, limit: settings.maxAttempts, delay: backoff(attempt), status: nil,
                        error: error.description)
        }
        reportProgress(now)
    }

    private func retryOrFail(_ event: ReplayEvent, attempt: Int, limit: Int, delay: Double, status: Int?, error: String) {
        let thisRun = attempt - event.attempts
        if thisRun < limit {
            summary.retried += 1
            waiting.append((Date().addingTimeInterval(delay), event))
        } else {
            summary.failed += 1
            finish(ReplayOutcome(eventID: event.id, status: "failed", attempts: attempt, httpStatus: status,
                                 error: error + " (after \(thisRun) attempts)"), seq: event.seq)
        }
    }

    /// Capped exponential backoff with jitter so retries of many events do not arrive in lockstep.
    private func backoff(_ attempt: Int) -> Double {
        let base = min(settings.backoffCap, settings.backoffBase * pow(2, Double(max(0, attempt - 1))))
        return base * Double.random(in: 0.8...1.2)
    }

    private func finish(_ outcome: ReplayOutcome, seq: Int, now: Date = Date()) {
        var outcome = outcome
        outcome.seq = seq
        pending.append(outcome)
        pendingBlocks.append(ReplayStore.block(of: seq))
        do { try flush(force: false, now: now) } catch { storeError = error }
    }

    /// Hands the outcomes waiting to the checkpoint writer (every 200 events or 100 ms), and lets go of
    /// the blocks whose outcomes it has committed since.
    private func flush(force: Bool, now: Date = Date()) throws {
        // Before the replay's items are committed there is no row to record an outcome in: they wait.
        if let creation, !creation.isCommitted { return }
        if let writer { release(try writer.takeRecorded()) }
        if !pending.isEmpty, force || pending.count >= 200 || now.timeIntervalSince(lastFlush) > 0.1 {
            if writer == nil {
                writer = ReplayCheckpointWriter(connection: try connect(), replayID: settings.replayID, worker: settings.worker)
            }
            let start = ReplayTrace.now()
            try writer?.submit(pending, blocks: pendingBlocks)
            trace.waited("checkpoint hand-over", since: start)
            pending.removeAll(keepingCapacity: true)
            pendingBlocks.removeAll(keepingCapacity: true)
            lastFlush = now
        }
        try unlockReleased()
    }

    /// Blocks all of whose claimed events are recorded, not yet unlocked.
    private var released: [Int] = []

    /// Counts committed outcomes (one entry per outcome: its block) against the blocks held.
    private func release(_ recordedBlocks: [Int]) {
        for b in recordedBlocks {
            held[b, default: 1] -= 1
            if held[b] == 0 { held[b] = nil; released.append(b) }
        }
    }

    /// After the outcomes are committed: a worker that locks a block next reads them as recorded.
    private func unlockReleased() throws {
        guard !released.isEmpty else { return }
        try unlock(released)
        released.removeAll(keepingCapacity: true)
    }

    /// While sending, through the claimer (queued, on the session holding the locks); before and after, here.
    private func unlock(_ blocks: [Int]) throws {
        if let claimer {
            claimer.unlock(blocks)
        } else {
            let start = ReplayTrace.now()
            try store.unlock(id: settings.replayID, blocks: blocks)
            trace.waited("unlocks", since: start)
        }
    }

    private func reportProgress(_ now: Date) {
        guard let progress, now.timeIntervalSince(lastProgress) >= 1 else { return }
        lastProgress = now
        let done = summary.delivered + summary.failed
        let elapsed = now.timeIntervalSince(started)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let left = max(0, expected - done)
        let eta = rate > 0 ? DurationText.format(milliseconds: Double(left) / rate * 1000) : "?"
        progress("replay \(settings.replayID): \(done)/\(expected) (\(summary.failed) failed, \(summary.retried) retries) \(Int(rate))/s, ETA \(eta)")
    }

    /// The `status` member of a JSON object answer (a `status` that is not a string reads as absent).
    /// Found by a byte scan of the object's top level — nested values and strings are skipped whole,
    /// so `{"data":{"status":"x"}}` has none: JSONDecoder cost 5 % of the client's CPU per event. An
    /// answer the scan does not follow (escapes in a key or in the status) goes to JSONDecoder.
    static func serviceStatus(_ body: [UInt8]) -> String? {
        switch TopLevelScan.status(body) {
        case let .found(status): return status
        case .absent: return nil
        case .undecided:
            guard body.first(where: { !TopLevelScan.isSpace($0) }) == UInt8(ascii: "{") else { return nil }
            return (try? JSONDecoder().decode(ServiceAnswer.self, from: Data(body)))?.status
        }
    }

    private struct ServiceAnswer: Decodable {
        var status: String?

        init(from decoder: any Decoder) throws {
            // A `status` that is not a string reads as absent, as it did from the dictionary.
            let c = try decoder.container(keyedBy: Key.self)
            status = try? c.decodeIfPresent(String.self, forKey: .status)
        }

        enum Key: String, CodingKey { case status }
    }

    /// The service's own words for a refusal (`error` and `detail` of a JSON body), else a body excerpt.
    static func reason(_ response: HTTPResponse) -> String {
        if let object = response.json as? [String: Any] {
            let parts = [object["error"], object["detail"], object["reason"]].compactMap { $0 as? String }
            if !parts.isEmpty { return parts.joined(separator: ": ") }
        }
        let text = response.bodyText.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "empty body" : String(SecretMasker.shared.mask(text).prefix(200))
    }

    /// `Retry-After`: seconds or an HTTP date; capped at 5 minutes.
    static func retryAfter(_ response: HTTPResponse) -> Double? {
        guard let value = response.header("retry-after")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(value) { return min(300, max(0, seconds)) }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return f.date(from: value).map { min(300, max(0, $0.timeIntervalSinceNow)) }
    }
}
