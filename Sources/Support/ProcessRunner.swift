import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The outcome of a child process run by `ProcessRunner`.
public struct ProcessOutput: Sendable {
    public var exitCode: Int32
    /// Set when the child died from a signal (e.g. 9 after a timeout kill).
    public var signal: Int32?
    public var stdout: String
    public var stderr: String
    public var timedOut: Bool
    public var cancelled: Bool
}

/// A handle that lets another thread stop a running child (timeouts, SIGINT of the whole run).
public final class ProcessCancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var pgid: pid_t = 0
    private var requested = false

    public init() {}

    public var isCancelled: Bool { lock.withLock { requested } }

    /// Sends SIGTERM to the child's process group, then SIGKILL after `grace` seconds.
    public func cancel(grace: Double = 2) {
        let target: pid_t = lock.withLock {
            requested = true
            return pgid
        }
        terminate(target, grace: grace)
    }

    /// SIGTERM now, SIGKILL after `grace` — only if that same group is still attached then, so a late
    /// escalation never hits a later child run with this handle.
    func terminate(_ target: pid_t, grace: Double) {
        guard target > 0 else { return }
        kill(-target, SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + grace) { [weak self] in
            guard let self else { return }
            let still = self.lock.withLock { self.pgid }
            if still == target { kill(-target, SIGKILL) }
        }
    }

    fileprivate func attach(_ pid: pid_t) -> Bool {
        lock.withLock {
            pgid = pid
            return requested
        }
    }

    fileprivate func detach() { lock.withLock { pgid = 0 } }
}

public enum ProcessRunnerError: Error, CustomStringConvertible {
    case spawnFailed(command: String, errno: Int32)

    public var description: String {
        switch self {
        case let .spawnFailed(command, code):
            return "could not start '\(command)': \(String(cString: strerror(code))) — check that it is installed and on PATH"
        }
    }
}

/// Process groups of the children running now.
private final class LiveGroups: @unchecked Sendable {
    private let lock = NSLock()
    private var groups = Set<pid_t>()
    func insert(_ pgid: pid_t) { lock.withLock { _ = groups.insert(pgid) } }
    func remove(_ pgid: pid_t) { lock.withLock { _ = groups.remove(pgid) } }
    var all: [pid_t] { lock.withLock { Array(groups) } }
}

private let liveGroups = LiveGroups()

/// Runs a child in its own process group so a timeout kills the whole tree, with output captured.
public enum ProcessRunner {
    /// SIGKILLs every running child's process group: for an immediate exit (a second Ctrl-C), which
    /// must not leave commands running on behind opsctl.
    public static func killAllChildren() {
        for pgid in liveGroups.all { kill(-pgid, SIGKILL) }
    }

    /// Runs `arguments[0]` (looked up on PATH) with the given arguments.
    public static func run(_ arguments: [String],
                           environment: [String: String]? = nil,
                           directory: String? = nil,
                           stdin: String? = nil,
                           timeout: Double? = nil,
                           cancellation: ProcessCancellation = ProcessCancellation(),
                           outputLimit: Int = 4 << 20) throws -> ProcessOutput {
        precondition(!arguments.isEmpty)
        // glibc's posix_spawn chdir action is not visible to Swift; coreutils' env -C does the chdir.
        // env would turn a missing command into exit 127, so look it up first and fail like posix_spawnp.
        if directory != nil, !arguments[0].contains("/") {
            let path = environment?["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            let found = path.split(separator: ":").contains {
                FileManager.default.isExecutableFile(atPath: "\($0)/\(arguments[0])")
            }
            guard found else { throw ProcessRunnerError.spawnFailed(command: arguments[0], errno: ENOENT) }
        }
        let arguments = directory.map { ["env", "-C", $0] + arguments } ?? arguments
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        // Close-on-exec from the start (pipe2): a child spawned concurrently by another thread must not
        // inherit these ends, or this run would wait for that unrelated child to close them.
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1], inPipe: [Int32] = [-1, -1]
        guard systemPipe2(&outPipe, O_CLOEXEC) == 0, systemPipe2(&errPipe, O_CLOEXEC) == 0,
              systemPipe2(&inPipe, O_CLOEXEC) == 0 else {
            let code = errno
            for fd in inPipe + outPipe + errPipe where fd >= 0 { close(fd) }
            throw ProcessRunnerError.spawnFailed(command: arguments[0], errno: code)
        }
        posix_spawn_file_actions_adddup2(&fileActions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&fileActions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&fileActions, errPipe[1], 2)
        // The original pipe ends are close-on-exec: no close actions needed (and none that could close
        // a just-duplicated 0/1/2 when the parent itself runs without stdin).

        let env = environment ?? ProcessInfo.processInfo.environment
        let envStrings = env.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let spawnResult: Int32 = withCStrings(arguments) { argv in
            withCStrings(envStrings) { envp in
                posix_spawnp(&pid, arguments[0], &fileActions, &attributes, argv, envp)
            }
        }
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
        guard spawnResult == 0 else {
            close(inPipe[1]); close(outPipe[0]); close(errPipe[0])
            throw ProcessRunnerError.spawnFailed(command: arguments[0], errno: spawnResult)
        }
        if cancellation.attach(pid) { kill(-pid, SIGKILL) }
        liveGroups.insert(pid)
        defer {
            cancellation.detach()
            liveGroups.remove(pid)
        }

        // No input: close our end now, the child reads EOF. Input is written by a thread of its own
        // (rare: large inputs must not stall the loop below, and SIGPIPE is blocked only there).
        let stdinFD = inPipe[1]
        if let stdinData = stdin {
            let writer = Thread {
                // A child that exits without reading its stdin makes write() raise SIGPIPE, which would kill
                // the whole opsctl process: block it on this thread (write then fails with EPIPE, and the
                // thread-directed signal is discarded with the thread).
                var pipeSignal = sigset_t()
                sigemptyset(&pipeSignal)
                sigaddset(&pipeSignal, SIGPIPE)
                pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
                var bytes = Array(stdinData.utf8)
                var offset = 0
                while offset < bytes.count {
                    let n = bytes.withUnsafeMutableBytes { write(stdinFD, $0.baseAddress! + offset, $0.count - offset) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    offset += n
                }
                close(stdinFD)
            }
            writer.start()
        } else {
            close(stdinFD)
        }
        let supervisor = ChildSupervisor(pid: pid, stdout: outPipe[0], stderr: errPipe[0], limit: outputLimit)
        let status = supervisor.wait(timeout: timeout, cancellation: cancellation)
        let exited = (status & 0x7f) == 0
        return ProcessOutput(exitCode: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f),
                             signal: exited ? nil : status & 0x7f,
                             stdout: String(decoding: supervisor.out, as: UTF8.self),
                             stderr: String(decoding: supervisor.err, as: UTF8.self),
                             timedOut: supervisor.timedOut, cancelled: cancellation.isCancelled && !supervisor.timedOut)
    }

    /// Finds an executable on PATH, then in `extraDirectories`.
    public static func which(_ name: String, extraDirectories: [String] = []) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":").map(String.init) + extraDirectories {
            let candidate = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// glibc's pipe2 (not exported by the Swift Glibc module): atomic close-on-exec pipes.
@_silgen_name("pipe2")
func systemPipe2(_ fds: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32

private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for p in pointers { free(p) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
