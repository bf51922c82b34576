import Foundation

/// Replaces every registered secret value with `****` wherever text leaves the process.
///
/// Secrets are registered when they are read (env vars declared as secrets, passwords parsed
/// out of database URLs, bearer tokens); every reporter, error message and journal row passes
/// through `mask`. One process-wide instance keeps that guarantee from depending on plumbing.
public final class SecretMasker: @unchecked Sendable {
    public static let shared = SecretMasker()
    public static let placeholder = "****"

    private let lock = NSLock()
    private var secrets: [String] = []

    public init() {}

    /// Registers a value; values shorter than 4 characters are ignored (masking them would
    /// shred ordinary text and they are not secrets worth the name).
    public func register(_ secret: String?) {
        guard let secret, secret.count >= 4 else { return }
        lock.withLock {
            if !secrets.contains(secret) {
                secrets.append(secret)
                // Longest first so a secret containing another is masked whole.
                secrets.sort { $0.count > $1.count }
            }
        }
    }

    public func mask(_ text: String) -> String {
        let current = lock.withLock { secrets }
        var out = text
        for secret in current where out.contains(secret) {
            out = out.replacingOccurrences(of: secret, with: Self.placeholder)
        }
        // Passwords embedded in URLs and key=value DSNs are masked even when nobody registered them.
        return Self.maskKeywordPasswords(Self.maskURLPasswords(out))
    }

    private static let keywordPassword = try! NSRegularExpression(
        pattern: #"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&'"]+)"#, options: [.caseInsensitive])

    /// `host=db password=secret` -> `host=db password=****` (also `password='a b'`, `?password=x&...`).
    static func maskKeywordPasswords(_ text: String) -> String {
        guard text.range(of: "password", options: .caseInsensitive) != nil else { return text }
        let range = NSRange(text.startIndex..., in: text)
        return keywordPassword.stringByReplacingMatches(in: text, range: range, withTemplate: "$1" + placeholder)
    }

    /// `scheme://user:password@host` -> `scheme://user:****@host`.
    public static func maskURLPasswords(_ text: String) -> String {
        guard text.contains("://"), text.contains("@") else { return text }
        var result = ""
        var rest = Substring(text)
        while let schemeRange = rest.range(of: "://") {
            result += rest[..<schemeRange.upperBound]
            rest = rest[schemeRange.upperBound...]
            // libpq (and RFC 3986 parsers that are lenient) take everything up to the last '@' before the
            // first '/' as userinfo, so a password may contain '?' or '#': do not stop there.
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0.isWhitespace || $0 == "\"" || $0 == "'" })
                ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                result += authority[...colon] + placeholder + authority[at...]
            } else {
                result += authority
            }
            rest = rest[authorityEnd...]
        }
        return result + rest
    }
}
