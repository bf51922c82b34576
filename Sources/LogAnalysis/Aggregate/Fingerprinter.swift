import CSimdJSON

/// Reduces a message to its shape so that occurrences differing only in ids group together:
/// UUIDs, emails, IPv4 addresses, hex ids, numbers and quoted values become placeholders
/// (`<uuid>`, `<email>`, `<ip>`, `<hex>`, `<num>`, `<str>`); digit runs inside words become `<num>`.
/// The work is `cs_fingerprint`'s, the function the scanner fingerprints error lines with, so every
/// path gives the same fingerprint.
struct Fingerprinter: ~Copyable {
    /// Only the head of a message is fingerprinted (stack traces and dumps follow it).
    static let maxInput = Int(CS_FINGERPRINT_INPUT)
    private let out: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    /// cs_fingerprint's hash of the fingerprint: deterministic (pruning and ties stay reproducible).
    private(set) var hash: UInt64 = 0xcbf2_9ce4_8422_2325

    init() {
        out = .allocate(capacity: Int(CS_FINGERPRINT_CAPACITY))
    }

    deinit { out.deallocate() }

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: out, count: count) }

    var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Writes the fingerprint of `message` into the internal buffer.
    mutating func fingerprint(_ message: UnsafeRawBufferPointer) {
        var n = 0
        hash = cs_fingerprint(message.baseAddress?.assumingMemoryBound(to: CChar.self), message.count, out, &n)
        count = n
    }
}

extension Fingerprinter {
    /// Convenience for tests and callers outside the scanner.
    static func fingerprint(_ message: String) -> String {
        var f = Fingerprinter()
        var m = message
        m.withUTF8 { f.fingerprint(UnsafeRawBufferPointer($0)) }
        return f.string
    }
}
