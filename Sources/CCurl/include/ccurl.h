// Typed, non-variadic wrappers over libcurl: Swift cannot call curl_easy_setopt/getinfo
// (variadic) and a capturing Swift closure cannot be a C callback, so the response
// buffers, header list and cancel flag live in a small C struct owned by each transfer.
#ifndef CCURL_H
#define CCURL_H
#include <stddef.h>
#include <curl/curl.h>

typedef struct ccurl_transfer ccurl_transfer;

/// Loads libcurl (dlopen, once, thread safe) and runs curl_global_init. 0 when ready; -1 when the
/// library cannot be loaded, and ccurl_load_error() says which is missing and what installs it.
/// Until it succeeds, ccurl_new/ccurl_multi_new return handles that only ccurl_free accepts.
int ccurl_global_init(void);
/// Why ccurl_global_init failed ("" when it did not).
const char *ccurl_load_error(void);
/// curl_easy_strerror through the loaded library.
const char *ccurl_strerror(CURLcode code);

ccurl_transfer *ccurl_new(void);
void ccurl_free(ccurl_transfer *t);
/// Clears options, headers and buffers so the handle (and its connection cache) can be reused.
void ccurl_reset(ccurl_transfer *t);
/// Clears the header list, buffers and cancel flag but keeps every other option: for a request set up
/// exactly as the handle's last one (curl options stay set across transfers), minus curl_easy_reset's
/// cost of rebuilding and re-setting them.
void ccurl_reuse(ccurl_transfer *t);

CURLcode ccurl_setopt_long(ccurl_transfer *t, CURLoption opt, long value);
CURLcode ccurl_setopt_str(ccurl_transfer *t, CURLoption opt, const char *value);
CURLcode ccurl_setopt_off_t(ccurl_transfer *t, CURLoption opt, curl_off_t value);
/// Sets the request header list to the NUL-terminated "Name: value" lines that fill `lines` (`len`
/// bytes, the last one a NUL), copied; replaces the previous list. 1 on success.
int ccurl_set_headers(ccurl_transfer *t, const char *lines, size_t len);
/// Copies the request body (binary safe) into the transfer's own buffer, read in place by curl.
CURLcode ccurl_set_body(ccurl_transfer *t, const char *data, size_t len);
/// Response bodies larger than this are truncated and flagged (0 = unlimited).
void ccurl_set_max_body(ccurl_transfer *t, size_t max);

CURLcode ccurl_perform(ccurl_transfer *t);
/// A number the owner keeps with the transfer (MultiClient: its index among the pool's handles).
void ccurl_set_slot(ccurl_transfer *t, long slot);
long ccurl_slot(ccurl_transfer *t);
/// Makes a running transfer abort at its next progress callback (thread safe).
void ccurl_cancel(ccurl_transfer *t);
int ccurl_was_cancelled(ccurl_transfer *t);
int ccurl_body_truncated(ccurl_transfer *t);

const char *ccurl_body(ccurl_transfer *t, size_t *len);
const char *ccurl_header_block(ccurl_transfer *t, size_t *len);
const char *ccurl_error_text(ccurl_transfer *t);

long ccurl_info_long(ccurl_transfer *t, CURLINFO info);
double ccurl_info_double(ccurl_transfer *t, CURLINFO info);
/// Seconds from the transfer's start to: name resolved, connected, TLS done, first byte, end.
void ccurl_timings(ccurl_transfer *t, double out[5]);
curl_off_t ccurl_info_off_t(ccurl_transfer *t, CURLINFO info);
/// Returns NULL when unavailable. Valid until the next transfer on this handle.
const char *ccurl_info_str(ccurl_transfer *t, CURLINFO info);

/// Number of certificates in the peer chain (needs CURLOPT_CERTINFO=1 before perform).
int ccurl_cert_count(ccurl_transfer *t);
/// Copies the value of field `name` (e.g. "Subject", "Issuer", "Expire date") of certificate `index`
/// into `out`. Returns 1 when found.
int ccurl_cert_field(ccurl_transfer *t, int index, const char *name, char *out, size_t outlen);

// Multi interface: many transfers on one thread.
typedef struct ccurl_multi ccurl_multi;
ccurl_multi *ccurl_multi_new(long max_host_connections);
void ccurl_multi_free(ccurl_multi *m);
CURLMcode ccurl_multi_add(ccurl_multi *m, ccurl_transfer *t);
CURLMcode ccurl_multi_remove(ccurl_multi *m, ccurl_transfer *t);
/// Drives transfers; waits up to timeout_ms for activity. Sets *running.
CURLMcode ccurl_multi_step(ccurl_multi *m, int timeout_ms, int *running);
/// Next finished transfer, or NULL. *result receives its CURLcode.
ccurl_transfer *ccurl_multi_next_done(ccurl_multi *m, CURLcode *result);
/// Wakes a ccurl_multi_step blocked in poll (thread safe).
void ccurl_multi_wakeup(ccurl_multi *m);

#endif
