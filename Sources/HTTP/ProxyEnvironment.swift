import CCurl
import Foundation

/// The proxy variables curl reads from the environment: `http_proxy` (lowercase only, as curl reads
/// it), `https_proxy`/`HTTPS_PROXY`, `all_proxy`/`ALL_PROXY` (and `no_proxy` when one is set).
///
/// curl looks them up with getenv on every transfer, even on a kept-alive connection. When none is
/// set, every handle is told so once (CURLOPT_PROXY "" = no proxy, CURLOPT_NOPROXY "") and curl skips
/// the lookups: what it would have found is nothing. When one is set, curl reads them as it always did.
enum ProxyEnvironment {
    /// Every name curl 7.68+ consults for http and https URLs (HTTP_PROXY too, though curl ignores it
    /// for http: with it set, the decision stays curl's).
    static let names = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]

    /// Read once, when the first request is set up: opsctl does not change its environment while running.
    static let noneSet = noneSet(in: { getenv($0) != nil })

    static func noneSet(in isSet: (String) -> Bool) -> Bool { !names.contains(where: isSet) }

    /// Tells the handle there is no proxy when the environment names none (see above).
    static func apply(to t: OpaquePointer) {
        guard noneSet else { return }
        ccurl_setopt_str(t, CURLOPT_PROXY, "")
        ccurl_setopt_str(t, CURLOPT_NOPROXY, "")
    }
}
