import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Waits for a child and drains its stdout/stderr on the calling thread, without polling on a clock:
/// one poll(2) over the child's pidfd and its two output pipes sleeps until the child exits, writes,
/// or a deadline passes. No reader threads, no waitpid loop: a no-op child costs one spawn and a
/// handful of syscalls. Where pidfd_open is missing (kernel < 5.3, some sandboxes) a thread blocked
/// in waitpid stands in for the pidfd, signalling through a pipe.
final class ChildSupervisor {
    private let pid: pid_t
    /// stdout, stderr; -1 once at EOF (or abandoned).
    private var pipes: [Int32]
    private let limit: Int
    private(set) var out = [UInt8]()
    private(set) var err = [UInt8]()
    private(set) var timedOut = false

    init(pid: pid_t, stdout: Int32, stderr: Int32, limit: Int) {
        self.pid = pid
        pipes = [stdout, stderr]
        self.limit = limit
    }

    /// Returns the wait status. A timeout kills the group (SIGTERM, SIGKILL after 1 s). Once the child
    /// is gone, a grandchild (`cmd &`) may still hold the output open: the timeout bounds that wait too,
    /// and after a kill or a cancellation a pipe still open 3 s later (a descendant that left the group)
    /// is abandoned with what arrived so far.
    func wait(timeout: Double?, cancellation: ProcessCancellation) -> Int32 {
        let exit = ExitWatch(pid: pid)
        let deadline = timeout.map { Self.now() + $0 }
        var exited = false
        var abandonAt: Double?
        var buffer = [UInt8](repeating: 0, count: 65536)
        func expire() {
            timedOut = true
            // The caller's handle is not marked cancelled: a timeout is this run's business only.
            cancellation.terminate(pid, grace: 1)
        }
        while true {
            let now = Self.now()
            let open = pipes[0] >= 0 || pipes[1] >= 0
            if exited && !open { break }
            if !exited, let deadline, !timedOut, now >= deadline { expire() }
            if exited && abandonAt == nil {
                if let deadline, !timedOut {
                    if now >= deadline { expire(); abandonAt = now + 3 }
                } else if timedOut || cancellation.isCancelled {
                    abandonAt = now + 3
                }
            }
            if let abandonAt, now >= abandonAt {
                for i in pipes.indices where pipes[i] >= 0 { close(pipes[i]); pipes[i] = -1 }
                break
            }
            // Sleep until something happens; a limit only where one applies. A child gone with its output
            // still held by a descendant (rare) re-checks the cancellation every 100 ms.
            var until: Double?
            if !exited {
                if let deadline, !timedOut { until = deadline }
            } else {
                until = abandonAt ?? ((deadline != nil && !timedOut) ? deadline : now + 0.1)
            }
            let waitMs: Int32 = until.map { Int32(max(0, min(60_000, (($0 - now) * 1000).rounded(.up)))) } ?? -1
            var fds = [pollfd]()
            fds.reserveCapacity(3)
            for fd in pipes where fd >= 0 { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            if !exited { fds.append(pollfd(fd: exit.fd, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), waitMs)
            if ready < 0 && errno != EINTR { break }
            guard ready > 0 else { continue }
            for p in fds where p.revents != 0 {
                if p.fd == exit.fd && !exited {
                    exited = true
                    continue
                }
                let index = p.fd == pipes[0] ? 0 : 1
                let n = buffer.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if n <= 0 {
                    close(p.fd)
                    pipes[index] = -1
                    continue
                }
                if index == 0 { keep(buffer, n, into: &out) } else { keep(buffer, n, into: &err) }
            }
        }
        return exit.reap()
    }

    /// Past the limit the pipe is still drained (the child never blocks), but the bytes are dropped.
    private func keep(_ buffer: [UInt8], _ n: Int, into data: inout [UInt8]) {
        if data.count < limit { data.append(contentsOf: buffer[0..<min(n, limit - data.count)]) }
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// A descriptor that becomes readable when the child exits: its pidfd, or a pipe a waitpid thread
/// writes to. `reap()` collects the wait status (blocking until the exit).
private final class ExitWatch: @unchecked Sendable {
    let fd: Int32
    private let pid: pid_t
    private let pidfd: Bool
    private let lock = NSLock()
    private var status: Int32 = 0
    private var writeEnd: Int32 = -1

    init(pid: pid_t) {
        self.pid = pid
        let opened = systemPidfdOpen(pid, 0)
        if opened >= 0 {
            fd = opened
            pidfd = true
            return
        }
        pidfd = false
        var ends: [Int32] = [-1, -1]
        if systemPipe2(&ends, O_CLOEXEC) != 0 {
            // No descriptor to spare: reap now (blocking), and hand poll a descriptor that is at EOF.
            status = Self.blockingWait(pid)
            fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
            return
        }
        fd = ends[0]
        writeEnd = ends[1]
        let watcher = Thread { [self] in
            let s = Self.blockingWait(pid)
            lock.withLock { status = s }
            var byte: UInt8 = 1
            _ = write(writeEnd, &byte, 1)
        }
        watcher.start()
    }

    func reap() -> Int32 {
        if pidfd {
            close(fd)
            return Self.blockingWait(pid)
        }
        // The watcher has written (or will write) its byte once the child is reaped.
        var byte: UInt8 = 0
        while writeEnd >= 0 && read(fd, &byte, 1) < 0 && errno == EINTR {}
        if writeEnd >= 0 { close(writeEnd) }
        close(fd)
        return lock.withLock { status }
    }

    static func blockingWait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { break }
        }
        return status
    }
}

/// Linux ≥ 5.3 (glibc ≥ 2.36 exports it; the Swift Glibc module does not).
@_silgen_name("pidfd_open")
private func systemPidfdOpen(_ pid: pid_t, _ flags: UInt32) -> Int32
