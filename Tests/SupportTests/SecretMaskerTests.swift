import Support
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
}
