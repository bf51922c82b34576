/// Makes user data (log lines, command output, HTTP bodies, SQL values) safe to print on a terminal.
///
/// A log line can carry escape sequences that a terminal obeys: `ESC ] 52 ; c ; …` writes the
/// clipboard, `ESC [ 2 J` clears the screen, others retitle the window or hide text. Every
/// control character is shown in caret notation instead (`ESC` -> `^[`, BEL -> `^G`), C1
/// controls and bidirectional overrides as `<U+XXXX>`: the operator sees that the data held
/// them, and the terminal sees nothing to obey. Tab and (unless `keepNewlines` is false) line
/// feed are kept.
public enum TerminalText {
    public static func sanitize(_ text: String, keepNewlines: Bool = true) -> String {
        guard text.unicodeScalars.contains(where: needsEscaping) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\t" || (keepNewlines && scalar == "\n") || !needsEscaping(scalar) {
                out.append(scalar)
            } else if scalar.value < 0x20 {
                out.append(contentsOf: "^".unicodeScalars)
                out.append(Unicode.Scalar(UInt8(scalar.value + 0x40)))
            } else if scalar.value == 0x7F {
                out.append(contentsOf: "^?".unicodeScalars)
            } else {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out.append(contentsOf: "<U+\(String(repeating: "0", count: max(0, 4 - hex.count)) + hex)>".unicodeScalars)
            }
        }
        return String(out)
    }

    /// C0 controls, DEL, C1 controls, and the bidirectional embeddings/overrides/isolates.
    static func needsEscaping(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        return v < 0x20 || (v >= 0x7F && v <= 0x9F) || (v >= 0x202A && v <= 0x202E) || (v >= 0x2066 && v <= 0x2069)
    }
}
