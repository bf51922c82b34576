import Foundation

/// A value sent as a bound parameter (text format). Only bound parameters reach the server:
/// opsctl never interpolates values into SQL text.
public protocol PostgresBindable: Sendable {
    var postgresText: String? { get }
}

extension String: PostgresBindable { public var postgresText: String? { self } }
extension Int: PostgresBindable { public var postgresText: String? { String(self) } }
extension Int64: PostgresBindable { public var postgresText: String? { String(self) } }
extension Double: PostgresBindable { public var postgresText: String? { String(self) } }
extension Bool: PostgresBindable { public var postgresText: String? { self ? "true" : "false" } }
extension Date: PostgresBindable {
    public var postgresText: String? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: self)
    }
}
extension Optional: PostgresBindable where Wrapped: PostgresBindable {
    public var postgresText: String? { self?.postgresText }
}
extension Array: PostgresBindable where Element == String {
    /// Encoded as a text[] literal.
    public var postgresText: String? { PostgresTextArray(map { $0 }).postgresText }
}

/// A text[] whose elements may be NULL (one column of a batch: `unnest($1::text[], ...)`).
public struct PostgresTextArray: PostgresBindable {
    public var elements: [String?]
    public init(_ elements: [String?]) { self.elements = elements }

    /// The array literal: `{"a","b\"c",NULL}`. Escaped byte by byte (batches of thousands of
    /// payloads are bound this way; Foundation's replacingOccurrences was most of a batch's cost).
    public var postgresText: String? {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        var out: [UInt8] = []
        out.reserveCapacity(elements.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
        out.append(UInt8(ascii: "{"))
        for (i, element) in elements.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            guard let element else {
                out.append(contentsOf: "NULL".utf8)
                continue
            }
            out.append(quote)
            for byte in element.utf8 {
                if byte == quote || byte == backslash { out.append(backslash) }
                out.append(byte)
            }
            out.append(quote)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }
}

/// Quotes an identifier (schema, table) for the rare statements that cannot bind it.
public func quoteIdentifier(_ name: String) -> String {
    // Names rarely hold a double quote: only then search and replace (Foundation's search, on every
    // statement a migration's bookkeeping builds, was a twentieth of an apply's client CPU).
    guard name.utf8.contains(UInt8(ascii: "\"")) else { return "\"" + name + "\"" }
    return "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// Quotes a possibly schema-qualified name part by part: `audit.events` -> `"audit"."events"`.
public func quoteQualifiedName(_ name: String) -> String {
    name.split(separator: ".").map { quoteIdentifier(String($0)) }.joined(separator: ".")
}
