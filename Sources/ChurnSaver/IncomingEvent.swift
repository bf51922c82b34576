import Foundation

/// A webhook event as the service understands it, read leniently from Whop-style payloads:
/// `{"id":"evt_1","type":"payment_failed","created_at":..., "data":{"membership_id":..., "company_id":...,
/// "user_id":..., "failure_reason":..., "amount_cents":...}}` (also `action` for the type, nested
/// `membership`/`company`/`user` objects, dotted type names such as `membership.activated`).
struct IncomingEvent: Sendable {
    enum Kind: String, Sendable {
        case paymentFailed = "payment_failed"
        case paymentSucceeded = "payment_succeeded"
        case membershipWentValid = "membership_went_valid"
        case membershipWentInvalid = "membership_went_invalid"
    }

    var id: String
    /// The type as sent (stored in `events.type`).
    var type: String
    var kind: Kind?
    var membershipID: String?
    var companyID: String?
    var userID: String?
    var failureReason: String?
    var amountCents: Int?
    var occurredAt: Date
    /// The raw body, stored in `events.payload`.
    var payload: String

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    static func kind(of type: String) -> Kind? {
        let name = type.lowercased().replacingOccurrences(of: ".", with: "_")
        switch name {
        case "payment_failed": return .paymentFailed
        case "payment_succeeded": return .paymentSucceeded
        case "membership_went_valid", "membership_activated": return .membershipWentValid
        case "membership_went_invalid", "membership_deactivated": return .membershipWentInvalid
        default: return nil
        }
    }

    /// `fallbackID` is the transport's message id (Standard Webhooks `webhook-id`) for bodies without one.
    static func parse(body: [UInt8], fallbackID: String?, now: Date = Date()) throws -> IncomingEvent {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw Invalid(description: "body is not a JSON object")
        }
        let data = object["data"] as? [String: Any] ?? [:]
        guard let id = text(object["id"]) ?? text(object["event_id"]) ?? fallbackID else {
            throw Invalid(description: "event has no id")
        }
        guard let type = text(object["type"]) ?? text(object["action"]) ?? text(object["event"]) else {
            throw Invalid(description: "event \(id) has no type")
        }
        let kind = kind(of: type)
        let membershipEvent = kind == .membershipWentValid || kind == .membershipWentInvalid
        let membership = text(data["membership_id"]) ?? nestedID(data["membership"])
            ?? (membershipEvent ? text(data["id"]) : nil) ?? text(object["membership_id"])
        let company = text(data["company_id"]) ?? nestedID(data["company"]) ?? text(object["company_id"])
            ?? text(data["page_id"])
        let user = text(data["user_id"]) ?? nestedID(data["user"]) ?? text(object["user_id"])
        let reason = text(data["failure_reason"]) ?? text(data["failure_message"]) ?? text(data["reason"])
        var cents = integer(data["amount_cents"])
        if cents == nil, let dollars = (data["final_amount"] ?? data["amount"]) as? NSNumber {
            cents = Int((dollars.doubleValue * 100).rounded())
        }
        let occurred = date(object["created_at"]) ?? date(object["occurred_at"]) ?? date(object["timestamp"])
            ?? date(data["created_at"]) ?? now
        return IncomingEvent(id: id, type: type, kind: kind, membershipID: membership, companyID: company,
                             userID: user, failureReason: reason, amountCents: cents, occurredAt: occurred,
                             payload: String(decoding: body, as: UTF8.self))
    }

    private static func text(_ value: Any?) -> String? {
        if let s = value as? String, !s.isEmpty { return s }
        if let n = value as? NSNumber, !(value is Bool) { return n.stringValue }
        return nil
    }

    private static func nestedID(_ value: Any?) -> String? {
        if let object = value as? [String: Any] { return text(object["id"]) }
        return text(value)
    }

    private static func integer(_ value: Any?) -> Int? {
        if let n = value as? NSNumber { return n.intValue }
        if let s = value as? String { return Int(s) }
        return nil
    }

    /// Unix seconds (or milliseconds) or ISO 8601.
    private static func date(_ value: Any?) -> Date? {
        if let n = value as? NSNumber, !(value is Bool) {
            let v = n.doubleValue
            return Date(timeIntervalSince1970: v > 1e12 ? v / 1000 : v)
        }
        guard let s = value as? String, !s.isEmpty else { return nil }
        if let v = Double(s) { return Date(timeIntervalSince1970: v > 1e12 ? v / 1000 : v) }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s)
    }
}
