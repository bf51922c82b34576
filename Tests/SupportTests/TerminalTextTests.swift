import Support
import Testing

@Suite("Terminal text is sanitised")
struct TerminalTextTests {
    @Test("escape sequences and controls become visible text", arguments: [
        ("clip \u{1B}]52;c;Y3VybCBldmlsLnNo\u{07} end", "clip ^[]52;c;Y3VybCBldmlsLnNo^G end"),
        ("\u{1B}[2J\u{1B}[H cleared", "^[[2J^[[H cleared"),
        ("title \u{1B}]0;pwned\u{1B}\\", "title ^[]0;pwned^[\\"),
        ("c1 \u{9B}31m csi", "c1 <U+009B>31m csi"),
        ("back\rspace\u{08}\u{7F}", "back^Mspace^H^?"),
        ("bidi \u{202E}txt.exe", "bidi <U+202E>txt.exe"),
        ("tab\tand\nnewline kept, é ✓ 日本", "tab\tand\nnewline kept, é ✓ 日本"),
    ])
    func sanitises(input: String, expected: String) {
        let out = TerminalText.sanitize(input)
        #expect(out == expected)
        #expect(!out.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x9B })
    }

    @Test func newlinesCanBeEscapedToo() {
        #expect(TerminalText.sanitize("a\nb", keepNewlines: false) == "a^Jb")
    }
}
