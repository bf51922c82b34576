import Testing
@testable import LogAnalysis

@Suite struct FingerprintTests {
    @Test(arguments: [
        ("payment failed for user 123", "payment failed for user <num>"),
        ("id 550e8400-e29b-41d4-a716-446655440000 missing", "id <uuid> missing"),
        ("mail to alice.smith+ops@example.co.uk bounced", "mail to <email> bounced"),
        ("connect 10.0.0.12:5432 refused", "connect <ip>:<num> refused"),
        ("object 0xdeadBEEF freed twice", "object <hex> freed twice"),
        ("commit 3f9a2c1b not found", "commit <hex> not found"),
        ("query 'select * from users' took 1.5s", "query <str> took <num>s"),
        (#"key "cus_42" missing"#, "key <str> missing"),
        ("retry 3/5 in 250ms", "retry <num>/<num> in <num>ms"),
        ("order_12345 shipped", "order_<num> shipped"),
        ("don't retry", "don't retry"),
        ("temperature -4 degrees", "temperature -<num> degrees"),
        ("version 1.2.3 deployed.", "version <num> deployed."),
        ("nothing variable here", "nothing variable here"),
        ("trailing spaces   ", "trailing spaces"),
        ("", ""),
    ])
    func placeholders(message: String, expected: String) {
        #expect(Fingerprinter.fingerprint(message) == expected)
    }

    @Test func equalShapesShareAFingerprint() {
        #expect(Fingerprinter.fingerprint("user 1 from 10.1.1.1") == Fingerprinter.fingerprint("user 99999 from 192.168.0.254"))
        #expect(Fingerprinter.fingerprint("timeout on db-1") != Fingerprinter.fingerprint("timeout on cache-1"))
    }

    @Test func longMessagesAreCutBeforeFingerprinting() {
        let long = String(repeating: "a", count: 10_000) + " 123"
        #expect(Fingerprinter.fingerprint(long).count == Fingerprinter.maxInput)
    }
}
