import Foundation
import Hummingbird

/// JSON bodies built from plain dictionaries (keys sorted so output is stable).
enum JSONResponse {
    static func make(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
            ?? Data("{\"error\":\"could not encode response\"}".utf8)
        return raw(data, status: status)
    }

    static func encode(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{\"error\":\"could not encode response\"}".utf8)
        return raw(data, status: status)
    }

    static func raw(_ data: Data, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ message: String, status: HTTPResponse.Status, extra: [String: Any] = [:]) -> Response {
        var object = extra
        object["error"] = message
        return make(object, status: status)
    }

    static func timestamp(_ date: Date = Date()) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }

    /// Rounds to 0.1 for readable milliseconds and rates.
    static func round1(_ value: Double) -> Double { (value * 10).rounded() / 10 }
}
