import Foundation
@testable import Support
import Testing

@Suite("SecretMasker")
struct SecretMaskerTests {
    @Test func masksRegisteredValuesEverywhere() {
        let masker = SecretMasker()
        masker.register("s3cr3t-canary")
        #expect(masker.mask("token s3cr3t-canary and again s3cr3t-canary.") == "token **** and again ****.")
        #expect(masker.mask("nothing here") == "nothing here")
    }

    @Test func ignoresNilAndShortValues() {
        let masker = SecretMasker()
        masker.register(nil)
        masker.register("abc")
        masker.register("")
        #expect(masker.mask("abc abcd") == "abc abcd")
    }

    @Test func masksTheLongerOfOverlappingSecretsWhole() {
        let masker = SecretMasker()
        masker.register("canary")
        masker.register("canary-long-token")
        #expect(masker.mask("x canary-long-token y canary") == "x **** y ****")
    }

    @Test func registeringTwiceIsHarmless() {
        let masker = SecretMasker()
        masker.register("repeat-me")
        masker.register("repeat-me")
        #expect(masker.mask("repeat-me") == "****")
    }

    @Test("URL passwords are masked without registration", arguments: [
        ("postgresql://app:hunter22@db.internal/app", "postgresql://app:****@db.internal/app"),
        ("postgres://app:hunter22@db.internal:5432/app?sslmode=require",
         "postgres://app:****@db.internal:5432/app?sslmode=require"),
        ("https://deploy:tok-123456@git.example.com/repo.git", "https://deploy:****@git.example.com/repo.git"),
        ("redis://:hunter22@cache:6379", "redis://:****@cache:6379"),
        ("amqp://u:hunter22@mq", "amqp://u:****@mq"),
        ("error: {\"url\":\"postgresql://u:hunter22@h/db\"}", "error: {\"url\":\"postgresql://u:****@h/db\"}"),
        ("connect 'postgresql://u:hunter22@h' failed", "connect 'postgresql://u:****@h' failed"),
        ("a postgresql://u:pw1x@h/a and b mysql://v:pw2y@k/b",
         "a postgresql://u:****@h/a and b mysql://v:****@k/b"),
        ("postgresql://u:p@ss@h/db", "postgresql://u:****@h/db"),
        ("postgresql://u:p%40ss%2Fw0rd@h/db", "postgresql://u:****@h/db"),
        ("postgresql://u:pa?ss#wd@h/db", "postgresql://u:****@h/db"),
        ("line1\npostgresql://u:hunter22@h/db\nline3", "line1\npostgresql://u:****@h/db\nline3"),
        ("postgresql://u:hunter22@h", "postgresql://u:****@h"),
    ])
    func masksURLPasswords(input: String, expected: String) {
        #expect(SecretMasker.maskURLPasswords(input) == expected)
        #expect(SecretMasker().mask(input) == expected)
    }

    @Test("text without a URL password is left alone", arguments: [
        "postgresql://app@db.internal:5432/app",
        "https://example.com:8443/path?user=a@b",
        "plain text with user@example.com",
        "http://host/path",
        "",
    ])
    func leavesOtherTextAlone(input: String) {
        #expect(SecretMasker.maskURLPasswords(input) == input)
    }

    @Test("keyword DSN passwords are masked", arguments: [
        ("host=db user=app password=hunter22 dbname=app", "host=db user=app password=**** dbname=app"),
        ("password='hunter 22' host=db", "password=**** host=db"),
        ("host=db password = hunter22", "host=db password = ****"),
    ])
    func masksKeywordPasswords(input: String, expected: String) {
        #expect(SecretMasker().mask(input) == expected)
    }

    @Test func sharedInstanceIsUsable() {
        SecretMasker.shared.register("shared-canary-7f3e")
        #expect(!SecretMasker.shared.mask("x shared-canary-7f3e").contains("shared-canary-7f3e"))
    }

    // MARK: Any character in a password (issue 12, items 13 and 18)

    static let hardPasswords = [
        "\"…\"CANARY-77%zz\"", "it's CANARY-78", "CANARY 79 with spaces", "pä$$wörd-CANARY-80-✓", "p%40ss%2FCANARY-81",
        "CANARY-82\\back\"slash", "CANARY-83?#&=;", "日本語CANARY-84",
    ]

    @Test("URL passwords holding quotes, %, spaces, unicode are masked whole", arguments: hardPasswords)
    func urlPasswordsWithAnyCharacter(password: String) {
        let url = "postgresql://app:\(password)@db.internal:5432/app?sslmode=require"
        let masked = SecretMasker().mask("connect \(url) failed")
        #expect(masked == "connect postgresql://app:****@db.internal:5432/app?sslmode=require failed")
        #expect(SecretMasker.password(inDSN: url) == password)
    }

    @Test("a registered DSN password is masked in every escaped form", arguments: hardPasswords)
    func registeredDSNPasswordInEscapedForms(password: String) throws {
        let masker = SecretMasker()
        masker.registerPassword(inDSN: "postgresql://app:\(password)@h/db")
        let json = String(decoding: try JSONEncoder().encode(["message": "failed with \(password) here"]), as: UTF8.self)
        for text in [password, "x \(password) y", json,
                     password.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) ?? password] {
            let out = masker.mask(text)
            #expect(!out.contains("CANARY"), "\(out)")
        }
    }

    @Test("keyword DSN passwords with quotes and unicode", arguments: [
        ("host=db password=ab\"CANARY-85%zz user=app", "host=db password=**** user=app"),
        ("host=db password='it\\'s CANARY 86 ✓' user=app", "host=db password=**** user=app"),
    ])
    func keywordPasswordsWithAnyCharacter(input: String, expected: String) {
        #expect(SecretMasker().mask(input) == expected)
        let masker = SecretMasker()
        masker.registerPassword(inDSN: input)
        #expect(!masker.mask("the password was \(SecretMasker.password(inDSN: input) ?? "?")").contains("CANARY"))
    }

    @Test("credentials in URL queries and headers are masked", arguments: [
        ("GET https://api.example.com/v1?token=CANARY-90&page=2", "GET https://api.example.com/v1?token=****&page=2"),
        ("https://h/x?a=1&api_key=CANARY-91", "https://h/x?a=1&api_key=****"),
        ("https://h/cb?access_token=CANARY-92#frag", "https://h/cb?access_token=****#frag"),
        ("https://maps.example.com/?key=CANARY-93&q=x", "https://maps.example.com/?key=****&q=x"),
        ("https://h/?client_secret=CANARY-94 next", "https://h/?client_secret=**** next"),
        ("https://h/?password=CANARY-95", "https://h/?password=****"),
        ("https://s3/obj?X-Amz-Signature=CANARY96abc&X-Amz-Date=1", "https://s3/obj?X-Amz-Signature=****&X-Amz-Date=1"),
        ("https://h/?sig=CANARY-97", "https://h/?sig=****"),
        ("Authorization: Bearer CANARY-98.abc", "Authorization: Bearer ****"),
        ("https://h/?page=2&sort=name", "https://h/?page=2&sort=name"),
        ("level=error msg=\"auth failed\" token=CANARY-99 user=bob", "level=error msg=\"auth failed\" token=**** user=bob"),
        ("api_key=\"CANARY 100 x\" next=1", "api_key=**** next=1"),
        ("WHOP_CLIENT_SECRET=CANARY-101", "WHOP_CLIENT_SECRET=****"),
        ("cache key=user:42 hit", "cache key=user:42 hit"),
    ])
    func queryCredentials(input: String, expected: String) {
        #expect(SecretMasker().mask(input) == expected)
    }

    /// The pre-check that skips the ICU expressions must never skip a text they would change.
    @Test("the credential pre-check passes every credential form", arguments: [
        "https://h/?client_secret=CANARY-110", "SIGNATURE = CANARY-111", "private_key=CANARY-112", "x;Auth=CANARY-113",
        "API_KEYS =\tCANARY-114", "a\nPassword=CANARY-115", "to\u{212A}en=CANARY-116", "n\u{00A0}token\u{00A0}=CANARY-117",
        "my-credentials=CANARY-118", "{access_key=CANARY-119}",
    ])
    func preCheckPassesCredentials(input: String) {
        #expect(SecretMasker.mayHoldCredentialField(input))
    }

    @Test("text without a credential field skips the expressions unchanged", arguments: [
        "level 1 (in parallel):\n  send-test-event [webhooks.send] ← health, database  {when params.roundtrip}",
        "params:\n  down_pattern: string = {version}_{name}.down.sql", "a = b", "signed webhook x=1", "=", "token", "",
    ])
    func preCheckSkipsPlainText(input: String) {
        #expect(!SecretMasker.mayHoldCredentialField(input))
        #expect(SecretMasker.maskQueryCredentials(input) == input)
    }

    /// The byte scan that replaced Foundation's case-insensitive search finds `bearer` wherever that did,
    /// in any case and among non-ASCII text (a step message's `→`), and the header is still masked.
    @Test("bearer tokens are found in any case, next to non-ASCII text", arguments: [
        ("GET /x → 401: BEARER CANARY-120abc", "GET /x → 401: BEARER ****"),
        ("{\"h\":\"Authorization: bEaReR CANARY-121xyz\"}", "{\"h\":\"Authorization: bEaReR ****\"}"),
        ("é bearer\tCANARY-122zz", "é bearer\t****"),
    ])
    func bearerAnyCase(input: String, expected: String) {
        #expect(SecretMasker.containsAuthorizationScheme(input))
        #expect(SecretMasker().mask(input) == expected)
    }

    /// `Basic` credentials are masked by the same header pattern; the pre-check once looked only for
    /// "bearer", so a Basic credential in text without that word went out as written.
    @Test("basic credentials are masked in any case, without the word bearer anywhere", arguments: [
        ("curl -H 'Authorization: Basic CANARY-130dXNlcjpwYXNz' https://h", "curl -H 'Authorization: Basic ****' https://h"),
        ("{\"authorization\":\"BASIC CANARY-131abcd\"}", "{\"authorization\":\"BASIC ****\"}"),
    ])
    func basicAnyCase(input: String, expected: String) {
        #expect(!ASCIIText.contains(input, ignoringCase: "bearer"))
        #expect(SecretMasker.containsAuthorizationScheme(input))
        #expect(SecretMasker().mask(input) == expected)
    }

    @Test("keyword passwords are found in any case by the byte scan", arguments: [
        ("host=db PASSWORD=CANARY-140x user=u", "host=db PASSWORD=**** user=u"),
        ("é passwd=CANARY-141y", "é passwd=****"),
    ])
    func keywordPasswordAnyCase(input: String, expected: String) {
        #expect(SecretMasker().mask(input) == expected)
    }

    @Test func bearerScanSkipsTextWithoutIt() {
        for text in ["", "beare", "GET 127.0.0.1/api/health → 200 in 14ms", "bear er", "B\u{00E9}arer"] {
            #expect(!ASCIIText.contains(text, ignoringCase: "bearer"), "\(text)")
        }
    }

    /// Text the byte pre-check lets through unmasked is text the full path leaves unchanged; every form a
    /// secret or credential takes is sent down the full path.
    @Test("the clean-text pre-check never skips text the full path would change", arguments: [
        ("s3cr3t-canary in a line", false), ("a line with S3CR3T-CANARY upper-cased", true),
        ("postgresql://app:hunter22@db/app", false), ("see https://example.com/docs", false),
        ("host=db password=x", false), ("?api_key=abc", false), ("a = b", false),
        ("Authorization: Bearer abcdefgh", false), ("BASIC dXNlcjpwYXNz", false), ("basically", false),
        ("\u{212A}elvin-canary", false), ("caf\u{00E9} at noon", false), ("plain words, numbers 12 and {\"json\" : [1, 2]}", true),
        ("", true),
    ])
    func preCheckAgreesWithTheFullPath(text: String, clean: Bool) {
        let masker = SecretMasker()
        masker.register("s3cr3t-canary")
        masker.register("Kelvin-canary")
        #expect(SecretMasker.isProvablyClean(text, secrets: masker.registered) == clean)
        #expect(masker.mask(text) == masker.maskWithoutPrecheck(text))
        if clean { #expect(masker.maskWithoutPrecheck(text) == text) }
    }

    /// A secret that is not ASCII could match ASCII text through canonical equivalence (U+212A KELVIN SIGN
    /// is K): with one registered, no text is proved clean by bytes.
    @Test func aNonASCIISecretAlwaysTakesTheFullPath() {
        let masker = SecretMasker()
        masker.register("\u{212A}ey-canary-1")
        #expect(!SecretMasker.isProvablyClean("nothing to see", secrets: masker.registered))
        #expect(masker.mask("Key-canary-1 here") == masker.maskWithoutPrecheck("Key-canary-1 here"))
    }

    /// A large clean report (what `logs analyze --format json` writes) is proved clean and returned as is.
    @Test func aLargeCleanReportIsReturnedUnchanged() {
        let masker = SecretMasker()
        masker.register("s3cr3t-canary")
        let windows = (0..<2_000).map { "    {\n      \"count\" : \($0),\n      \"start\" : \"2026-01-01T00:00:00Z\"\n    }" }
        let report = "{\n  \"example\" : \"user2@example.com\",\n  \"windows\" : [\n" + windows.joined(separator: ",\n") + "\n  ]\n}"
        #expect(SecretMasker.isProvablyClean(report, secrets: masker.registered))
        #expect(masker.mask(report) == report)
    }

    @Test func maskingTwiceChangesNothingMore() {
        let masker = SecretMasker()
        for text in ["{\"m\":\"password=abc\"}", "https://h/?token=abc&x=1", "postgresql://u:p\"w@h/db", "Bearer abcdefgh"] {
            let once = masker.mask(text)
            #expect(masker.mask(once) == once, "\(text)")
        }
        #expect(masker.mask("{\"m\":\"password=abc\"}") == "{\"m\":\"password=****\"}")
    }

    @Test("secret names", arguments: [
        ("password", true), ("DB_PASSWORD", true), ("api_token", true), ("ApiKey", true), ("client_secret", true),
        ("passwd", true), ("dir", false), ("mode", false), ("backup", false),
    ])
    func secretNames(name: String, secret: Bool) {
        #expect(SecretMasker.isSecretName(name) == secret)
    }

    /// Keyword DSNs: the key is found whatever its case; values without it (most params) hold no password.
    @Test func keywordPasswordsAreFoundOnlyWhereTheKeyIs() {
        #expect(SecretMasker.password(inDSN: "host=db PassWord = hunter22 dbname=app") == "hunter22")
        #expect(SecretMasker.password(inDSN: "host=db user=app dbname=app") == nil)
        #expect(SecretMasker.password(inDSN: "15m") == nil)
        #expect(SecretMasker.password(inDSN: "") == nil)
        #expect(SecretMasker.password(inDSN: "passwords are elsewhere") == nil)
    }
}
