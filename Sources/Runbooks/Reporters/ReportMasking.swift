import Checks
import Foundation
import Support

// Reporters mask every string of the model *before* escaping it: once a secret has been
// XML-, JSON- or label-escaped it no longer matches the registered value, so masking the
// finished document alone (ReportWriter does that too) would miss it.

extension RunReport {
    /// A copy with every registered secret replaced by `****` in every string and detail
    /// (what reporters render; also what a journal row should store).
    public func masked(by masker: SecretMasker = .shared) -> RunReport {
        var copy = self
        copy.runID = masker.mask(runID)
        copy.runbook = masker.mask(runbook)
        copy.environment = environment.map(masker.mask)
        copy.aborted = aborted.map(masker.mask)
        copy.results = results.map { $0.masked(by: masker) }
        return copy
    }
}

extension StepResult {
    /// A copy with every registered secret replaced by `****`.
    public func masked(by masker: SecretMasker = .shared) -> StepResult {
        var copy = self
        copy.id = masker.mask(id)
        copy.title = masker.mask(title)
        copy.kind = masker.mask(kind)
        copy.message = masker.mask(message)
        copy.remediation = remediation.map(masker.mask)
        copy.blockedBy = blockedBy.map { $0.map(masker.mask) }
        copy.details = Dictionary(details.map { (masker.mask($0.key), $0.value.masked(by: masker)) },
                                  uniquingKeysWith: { first, _ in first })
        copy.metrics = metrics.map {
            var metric = $0
            metric.name = masker.mask(metric.name)
            metric.unit = metric.unit.map(masker.mask)
            return metric
        }
        return copy
    }
}

extension JSONValue {
    /// A copy with every registered secret replaced by `****` in keys and string values.
    public func masked(by masker: SecretMasker = .shared) -> JSONValue {
        switch self {
        case let .string(s): return .string(masker.mask(s))
        case let .array(a): return .array(a.map { $0.masked(by: masker) })
        case let .object(o):
            return .object(Dictionary(o.map { (masker.mask($0.key), $0.value.masked(by: masker)) },
                                      uniquingKeysWith: { first, _ in first }))
        default: return self
        }
    }
}
