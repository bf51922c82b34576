import Foundation
import Support

/// What the process is attached to: decides colours, prompts and live progress.
enum Terminal {
    static var stdoutIsTTY: Bool { isatty(STDOUT_FILENO) == 1 }
    static var stderrIsTTY: Bool { isatty(STDERR_FILENO) == 1 }
    static var stdinIsTTY: Bool { isatty(STDIN_FILENO) == 1 }

    static func colorAllowed(noColorFlag: Bool, toFile: Bool) -> Bool {
        !noColorFlag && !toFile && stdoutIsTTY && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    static func error(_ message: String) {
        FileHandle.standardError.write(Data(("opsctl: " + TerminalText.sanitize(message) + "\n").utf8))
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data((TerminalText.sanitize(message) + "\n").utf8))
    }

    /// Reads a line typed at the terminal; nil when stdin is not a terminal.
    static var prompt: (@Sendable (String) -> String?)? {
        guard stdinIsTTY else { return nil }
        return { question in
            FileHandle.standardError.write(Data(question.utf8))
            return readLine(strippingNewline: true)
        }
    }
}
