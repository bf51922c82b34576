import Foundation

/// Text hygiene shared by the reporters: step output comes from shells and HTTP bodies, so
/// nothing in a message may be trusted to be one printable line.
enum ReportText {
    /// Removes ANSI escape sequences (CSI `ESC [ ... final`, OSC `ESC ] ... BEL|ST`, two-byte `ESC x`):
    /// a coloured shell error must not recolour the reader's terminal or leak into XML.
    static func stripANSI(_ text: String) -> String {
        guard text.unicodeScalars.contains("\u{1B}") else { return text }
        var out = String.UnicodeScalarView()
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            guard c == "\u{1B}", i + 1 < scalars.count else {
                out.append(c)
                i += 1
                continue
            }
            let next = scalars[i + 1]
            if next == "[" {
                i += 2
                while i < scalars.count, !(0x40...0x7E).contains(scalars[i].value) { i += 1 }
                i += 1
            } else if next == "]" {
                i += 2
                while i < scalars.count, scalars[i] != "\u{07}", !(scalars[i] == "\u{1B}" && i + 1 < scalars.count && scalars[i + 1] == "\\") {
                    i += 1
                }
                i += (i < scalars.count && scalars[i] == "\u{1B}") ? 2 : 1
            } else {
                i += 2
            }
        }
        return String(out)
    }

    /// True for C0 controls, DEL and C1 controls.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// One printable line: line breaks become ` ⏎ `, tabs a space, other controls U+FFFD.
    static func oneLine(_ text: String) -> String {
        let clean = stripANSI(text)
        var out = String.UnicodeScalarView()
        var lastWasBreak = false
        for scalar in clean.unicodeScalars {
            switch scalar {
            case "\n", "\r", "\u{2028}", "\u{2029}", "\u{85}":
                if !lastWasBreak { out.append(contentsOf: " ⏎ ".unicodeScalars) }
                lastWasBreak = true
                continue
            case "\t":
                out.append(" ")
            default:
                out.append(isControl(scalar) ? "\u{FFFD}" : scalar)
            }
            lastWasBreak = false
        }
        return String(out).trimmingCharacters(in: .whitespaces)
    }

    /// A YAML double-quoted scalar on one line (YAML 1.1/1.2 and TAP::Parser's YAMLish reader):
    /// quotes, backslashes, every control and the Unicode line separators escaped.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if isControl(scalar) {
                    out += String(format: "\\x%02X", scalar.value)
                } else if scalar.value == 0x2028 || scalar.value == 0x2029 || scalar.value == 0xFEFF {
                    out += String(format: "\\u%04X", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// Plain decimal text for a number (no exponent), at most 6 fractional digits: perfdata
    /// parsers and humans both choke on `1e-05`.
    static func decimal(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "+Inf" : "-Inf") }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        var text = String(format: "%.6f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    /// Seconds with millisecond precision, as JUnit's `time` attribute wants.
    static func seconds(fromMilliseconds ms: Double) -> String {
        String(format: "%.3f", max(0, ms.isFinite ? ms : 0) / 1000)
    }

    /// `2026-11-24T11:26:10.250Z`: the one timestamp form every machine format uses.
    static func iso8601(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

