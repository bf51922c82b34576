import Foundation

/// Replaces every registered secret value with `****` wherever text leaves the process.
///
/// Secrets are registered when they are read (env vars declared as secrets, passwords parsed
/// out of database URLs, secret-named params, bearer tokens); every reporter, error message,
/// journal row and log analysis passes through `mask` — always *before* the text is cut,
/// fingerprinted or escaped, since a cut or escaped secret no longer matches. One process-wide
/// instance keeps that guarantee from depending on plumbing.
public final class SecretMasker: @unchecked Sendable {
    public static let shared = SecretMasker()
    public static let placeholder = "****"

    private let lock = NSLock()
    private var secrets: [String] = []

    public init() {}

    /// Registers a value; values shorter than 4 characters are ignored (masking them would
    /// shred ordinary text and they are not secrets worth the name). The forms a value takes
    /// once escaped into JSON, quoted into SQL or a shell, or percent-encoded into a URL are
    /// registered with it.
    public func register(_ secret: String?) {
        guard let secret, secret.count >= 4 else { return }
        // SQL literals double a quote (EXPLAIN shows bound values that way); shells write '\''.
        let quoted = [secret.replacingOccurrences(of: "'", with: "''"), secret.replacingOccurrences(of: "'", with: "'\\''")]
        let forms = Set([secret, Self.jsonEscaped(secret)] + quoted + Self.percentEncodings(of: secret))
        lock.withLock {
            var added = false
            for form in forms where !secrets.contains(form) {
                secrets.append(form)
                added = true
            }
            // Longest first so a secret containing another is masked whole.
            if added { secrets.sort { $0.count > $1.count } }
        }
    }

    /// Registers the password of a database URL or keyword DSN, whatever characters it holds:
    /// raw (as typed, possibly percent-encoded or invalid) and percent-decoded.
    public func registerPassword(inDSN dsn: String?) {
        guard let dsn, let password = Self.password(inDSN: dsn) else { return }
        register(password)
        register(password.removingPercentEncoding)
    }

    /// The registered values (and their escaped forms), longest first: for byte-level scanners.
    public var registered: [String] { lock.withLock { secrets } }

    /// Whether a parameter, variable or field name says its value is secret
    /// (`*password*`, `*passwd*`, `*secret*`, `*token*`, `*key*`, case-insensitive).
    public static func isSecretName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return ["password", "passwd", "secret", "token", "key"].contains { lower.contains($0) }
    }

    public func mask(_ text: String) -> String {
        let current = lock.withLock { secrets }
        // Most text leaving the process holds nothing to mask; one pass over its bytes proves it
        // before any String search or regular expression runs (a 130 KB report took ~3 ms without it).
        if Self.isProvablyClean(text, secrets: current) { return text }
        return maskWithoutPrecheck(text, secrets: current)
    }

    /// Every secret and pattern, searched for whatever the text holds (tests compare the pre-check with it).
    func maskWithoutPrecheck(_ text: String, secrets current: [String]? = nil) -> String {
        let current = current ?? lock.withLock { secrets }
        var out = text
        for secret in current where out.contains(secret) {
            out = out.replacingOccurrences(of: secret, with: Self.placeholder)
        }
        // Credentials in URLs, DSNs and headers are masked even when nobody registered them.
        let bytes = out.utf8
        if bytes.contains(UInt8(ascii: "@")) { out = Self.maskURLPasswords(out) }
        if bytes.contains(UInt8(ascii: "=")) { out = Self.maskQueryCredentials(Self.maskKeywordPasswords(out)) }
        if Self.containsAuthorizationScheme(out) { out = Self.replace(Self.bearer, in: out) }
        return out
    }

    /// True only when nothing in `mask` can change `text`: it is ASCII, none of the (ASCII) secrets occurs
    /// in it byte for byte, and it holds no `://`, no `=` and no `bearer`/`basic` in any case — what the
    /// URL, keyword/query/field and header patterns each need at least. On ASCII text with ASCII secrets a
    /// byte match is the only match String and NSString searches can find (no canonical equivalents, no
    /// case folding onto other bytes); any other text or secret takes the full path. Conservative: a
    /// false "no" only costs time.
    static func isProvablyClean(_ text: String, secrets: [String]) -> Bool {
        var text = text
        return text.withUTF8 { bytes -> Bool in
            guard let base = bytes.baseAddress else { return true }
            var high: UInt8 = 0
            var equals = false
            for b in bytes {
                high |= b
                equals = equals || b == UInt8(ascii: "=")
            }
            guard high < 0x80, !equals else { return false }
            // memchr for the first byte, memcmp for the rest.
            func occurs(_ needle: UnsafeBufferPointer<UInt8>) -> Bool {
                guard let n = needle.baseAddress, needle.count > 0, needle.count <= bytes.count else { return needle.isEmpty }
                var start = 0
                let last = bytes.count - needle.count
                while start <= last, let p = memchr(base + start, Int32(n[0]), last - start + 1) {
                    let i = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(p))
                    if memcmp(base + i, n, needle.count) == 0 { return true }
                    start = i + 1
                }
                return false
            }
            if Self.schemeSeparator.withUnsafeBufferPointer(occurs) { return false }
            for secret in secrets {
                var secret = secret
                let clean = secret.withUTF8 { s in s.allSatisfy { $0 < 0x80 } && !occurs(s) }
                if !clean { return false }
            }
            return !ASCIIText.contains(bytes, ignoringCase: "bearer") && !ASCIIText.contains(bytes, ignoringCase: "basic")
        }
    }

    private static let schemeSeparator = Array("://".utf8)

    /// The `Authorization` schemes the header pattern masks: `Bearer` and `Basic`. Both are checked —
    /// a `Basic` credential in text without the word "bearer" was once left unmasked.
    public static func containsAuthorizationScheme(_ text: String) -> Bool {
        ASCIIText.contains(text, ignoringCase: "bearer") || ASCIIText.contains(text, ignoringCase: "basic")
    }

    // MARK: - Patterns

    private static func replace(_ regex: NSRegularExpression, in text: String) -> String {
        regex.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "$1" + placeholder)
    }

    /// An unquoted libpq value ends at whitespace (a `"` is part of it, unless it closes a JSON string:
    /// followed by `,` `}` `]` `:` or the end); `&` ends a URL query value. A value already masked is
    /// left alone, so masking twice never eats a closing quote.
    private static let keywordPassword = try! NSRegularExpression(
        pattern: #"(\bpass(?:word|wd)\s*=\s*)(?!\*{4})('(?:[^'\\]|\\.)*'?|(?:[^\s&"\\]|\\.|"(?![,}\]:]|\s|$))+)"#,
        options: [.caseInsensitive])

    /// `host=db password=secret` -> `host=db password=****` (also `password='a b'`, `?password=x&...`).
    static func maskKeywordPasswords(_ text: String) -> String {
        guard ASCIIText.contains(text, ignoringCase: "pass") else { return text }
        return replace(keywordPassword, in: text)
    }

    /// `?token=…`, `&api_key=…`, `access_token`, `key`, `secret`, `password`, `sig`, `signature`,
    /// `X-Amz-Signature`, `client_secret`, …: any query parameter whose name says credential.
    private static let queryCredential = try! NSRegularExpression(
        pattern: #"([?&;][A-Za-z0-9_.\-]*(?:token|key|secret|passw(?:or)?d|sig|signature|auth|credential)[A-Za-z0-9_.\-]*=)(?!\*{4})[^&#\s"'<>]+"#,
        options: [.caseInsensitive])

    /// The same outside URLs, for names that cannot mean anything else (`token=`, `api_key=`,
    /// `client_secret=`, `password=`, `signature=` in logfmt lines, env dumps, error messages);
    /// a bare `key=` or `sig=` is left alone there. Quoted values are masked whole.
    private static let fieldCredential = try! NSRegularExpression(
        pattern: #"((?:^|[\s,;{(])[A-Za-z0-9_.\-]*(?:token|secret|passw(?:or)?d|api_?key|access_?key|private_?key|signature|credential)s?[A-Za-z0-9_.\-]*\s*=\s*)(?!\*{4})("(?:[^"\\]|\\.)*"?|(?:[^\s&#"'<>,;\\]|\\.|"(?![,}\]:]|\s|$))+)"#,
        options: [.caseInsensitive, .anchorsMatchLines])

    public static func maskQueryCredentials(_ text: String) -> String {
        guard mayHoldCredentialField(text) else { return text }
        var out = text
        if out.contains("?") || out.contains("&") { out = replace(queryCredential, in: out) }
        return replace(fieldCredential, in: out)
    }

    /// Whether the two patterns above can match: some `=` has, right before it (past whitespace), a
    /// name holding a credential word, or a non-ASCII character (case folding could make one). Most
    /// text (plans, step messages, `key = value` lines) has none, and compiling and running the ICU
    /// expressions cost more than the rest of `opsctl explain`. Conservative: a false "yes" only costs time.
    public static func mayHoldCredentialField(_ text: String) -> Bool {
        let words: [[UInt8]] = ["token", "key", "secret", "passw", "sig", "auth", "credential"].map { Array($0.utf8) }
        var text = text
        return text.withUTF8 { scan($0, words) }
    }

    private static func scan(_ bytes: UnsafeBufferPointer<UInt8>, _ words: [[UInt8]]) -> Bool {
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }
        func isNameByte(_ b: UInt8) -> Bool {
            b >= 0x80 || (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A) || b == 0x5F || b == 0x2E || b == 0x2D
        }
        var name: [UInt8] = []
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "=") {
            var j = i
            while j > 0 && isSpace(bytes[j - 1]) { j -= 1 }
            name.removeAll(keepingCapacity: true)
            while j > 0 && isNameByte(bytes[j - 1]) {
                j -= 1
                let c = bytes[j]
                if c >= 0x80 { return true }
                name.append(c >= 0x41 && c <= 0x5A ? c | 0x20 : c)
            }
            guard name.count >= 3 else { continue }
            name.reverse()
            for word in words where name.count >= word.count {
                for start in 0...(name.count - word.count) where name[start] == word[0] && Array(name[start..<(start + word.count)]) == word {
                    return true
                }
            }
        }
        return false
    }

    private static let bearer = try! NSRegularExpression(
        pattern: #"(\b(?:Bearer|Basic)\s+)(?!\*{4})[A-Za-z0-9._~+/=\-]{4,}"#, options: [.caseInsensitive])

    /// `scheme://user:password@host` -> `scheme://user:****@host`, whatever the password holds.
    ///
    /// libpq takes everything up to the last `@` before the first `/` as userinfo, so a password
    /// may contain `"`, `'`, `%`, `?`, `#`, spaces or any letter: the user part (up to the first
    /// `:`) is a plain name, and the password runs from there to that last `@`.
    public static func maskURLPasswords(_ text: String) -> String {
        guard text.contains("://"), text.contains("@") else { return text }
        var result = ""
        var rest = Substring(text)
        while let schemeRange = rest.range(of: "://") {
            result += rest[..<schemeRange.upperBound]
            rest = rest[schemeRange.upperBound...]
            guard let userEnd = rest.firstIndex(where: { ":@/\"'<>".contains($0) || $0.isWhitespace }),
                  rest[userEnd] == ":" else { continue }
            let afterColon = rest.index(after: userEnd)
            // The authority ends at the first '/', line break or the next URL.
            var end = rest[afterColon...].firstIndex(where: { $0 == "/" || $0.isNewline }) ?? rest.endIndex
            if let next = rest[afterColon..<end].range(of: "://") { end = next.lowerBound }
            guard let at = rest[afterColon..<end].lastIndex(of: "@"), at > afterColon else { continue }
            result += rest[...userEnd] + placeholder
            rest = rest[at...]
        }
        return result + rest
    }

    /// The password of a URL (`scheme://user:PASSWORD@host`) or keyword DSN (`password=…`), unmodified.
    public static func password(inDSN dsn: String) -> String? {
        if let scheme = dsn.range(of: "://") {
            let rest = dsn[scheme.upperBound...]
            guard let userEnd = rest.firstIndex(where: { $0 == ":" || $0 == "@" || $0 == "/" }), rest[userEnd] == ":" else {
                return nil
            }
            let afterColon = rest.index(after: userEnd)
            let end = rest[afterColon...].firstIndex(of: "/") ?? rest.endIndex
            guard let at = rest[afterColon..<end].lastIndex(of: "@") else {
                // `?password=…` in the query part.
                return queryPassword(String(rest))
            }
            let password = String(rest[afterColon..<at])
            return password.isEmpty ? nil : password
        }
        return keywordValue("password", in: dsn)
    }

    private static func queryPassword(_ text: String) -> String? {
        guard let q = text.firstIndex(of: "?") else { return nil }
        for pair in text[text.index(after: q)...].split(separator: "&") where pair.lowercased().hasPrefix("password=") {
            return String(pair.dropFirst("password=".count))
        }
        return nil
    }

    /// A libpq keyword value: `key=value` or `key='quoted \' value'`.
    private static func keywordValue(_ key: String, in dsn: String) -> String? {
        // Every string param of a run passes here: most hold no `password` at all, and the regular
        // expression (an ICU compile, ~1.5 ms the first time) ran before the run's first step.
        guard dsn.utf8.count >= key.utf8.count, dsn.lowercased().contains(key) else { return nil }
        guard let range = dsn.range(of: #"\b\#(key)\s*=\s*"#, options: [.regularExpression, .caseInsensitive]) else { return nil }
        var rest = dsn[range.upperBound...]
        if rest.first == "'" {
            rest = rest.dropFirst()
            var value = ""
            var escaped = false
            for c in rest {
                if escaped { value.append(c); escaped = false } else if c == "\\" { escaped = true } else if c == "'" { break } else { value.append(c) }
            }
            return value
        }
        let value = rest.prefix { !$0.isWhitespace }
        return value.isEmpty ? nil : String(value)
    }

    // MARK: - Escaped forms

    /// The value as JSONEncoder writes it inside a string (quotes, backslashes and controls escaped).
    public static func jsonEscaped(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The value percent-encoded as URL builders commonly write it (only when that changes it).
    static func percentEncodings(of s: String) -> [String] {
        var unreserved = CharacterSet.alphanumerics
        unreserved.insert(charactersIn: "-._~")
        return [CharacterSet.urlUserAllowed, .urlPasswordAllowed, .urlQueryAllowed, unreserved]
            .compactMap { s.addingPercentEncoding(withAllowedCharacters: $0) }
            .filter { $0 != s }
    }
}
