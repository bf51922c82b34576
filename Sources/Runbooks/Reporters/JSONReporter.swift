import Checks
import Foundation

/// The JSON coding of reports shared by `json`, `jsonl` and anything that reads them back.
public enum ReportJSON {
    /// Sorted keys, ISO-8601 dates with milliseconds, non-finite numbers as strings.
    public static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                                          : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(ReportText.iso8601(date))
        }
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "+Inf",
                                                                      negativeInfinity: "-Inf", nan: "NaN")
        return encoder
    }

    /// Reads what `encoder` wrote (ISO-8601 with or without fractional seconds).
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO-8601 date: \(text)")
        }
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "+Inf",
                                                                        negativeInfinity: "-Inf", nan: "NaN")
        return decoder
    }

    /// Encodes a value as text; a failure (none is expected for the model) becomes a JSON error object.
    static func text<T: Encodable>(_ value: T, pretty: Bool) -> String {
        do {
            return String(decoding: try encoder(pretty: pretty).encode(value), as: UTF8.self)
        } catch {
            let message = JSONValue.string("could not encode report: \(error)").jsonText
            return "{\"error\":\(message)}"
        }
    }
}

/// `--format json`: the whole run as one document (the Codable form of `RunReport`).
public struct JSONReporter: Reporter {
    public var options: ReporterOptions

    public init(options: ReporterOptions = ReporterOptions()) { self.options = options }

    public func render(_ report: RunReport) -> String {
        ReportJSON.text(report.masked(by: options.masker), pretty: true) + "\n"
    }
}
