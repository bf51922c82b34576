// Batch JSON-lines scanner over simdjson, plus a streaming inflater (zlib) and an
// ISO-8601 parser, behind a pure C interface so Swift needs no C++ interop.
#ifndef CSIMDJSON_H
#define CSIMDJSON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Readable bytes every buffer handed to cs_parse_lines must have after its end.
#define CS_PADDING 64
/// Requested extra fields per parser (group-by, latency, ...).
#define CS_MAX_FIELDS 4
/// Set in a span's offset when the bytes live in the parser's arena, not in the buffer.
#define CS_ARENA_BIT 0x80000000u
/// Span length meaning "absent".
#define CS_ABSENT_LEN 0xFFFFFFFFu
/// time_ms meaning "absent or unparseable".
#define CS_NO_TIME INT64_MIN

enum cs_status { CS_OK = 0, CS_MALFORMED = 1, CS_NOT_OBJECT = 2, CS_TOO_LONG = 3, CS_EMPTY = 4 };
enum cs_kind { CS_KIND_ABSENT = 0, CS_KIND_STRING = 1, CS_KIND_NUMBER = 2, CS_KIND_OTHER = 3 };

typedef struct {
    uint32_t off;   /* offset into the buffer, or (| CS_ARENA_BIT) into cs_arena() */
    uint32_t len;   /* CS_ABSENT_LEN when absent */
} cs_span;

/// What one line yielded. Levels are normalised to the pino scale
/// (10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal; 0 unknown).
typedef struct {
    uint32_t line_off;
    uint32_t line_len;          /* without the newline (and without a trailing '\r') */
    uint8_t status;             /* cs_status */
    uint8_t level;
    uint8_t has_level;          /* a level key was present (even if not understood) */
    uint8_t field_kind[CS_MAX_FIELDS];
    int64_t time_ms;            /* epoch milliseconds or CS_NO_TIME */
    cs_span msg;
    cs_span field[CS_MAX_FIELDS];        /* string contents or the raw number token */
    double field_num[CS_MAX_FIELDS];     /* numeric value when field_kind == CS_KIND_NUMBER */
} cs_record;

typedef struct cs_parser cs_parser;
typedef struct cs_masker cs_masker;

/// One parser per thread. `fields` are top-level keys or dotted paths ("req.route").
cs_parser *cs_parser_new(const char *const *fields, int32_t nfields);
void cs_parser_free(cs_parser *p);
/// Makes the parser use the portable (SSE2) line walk (portable != 0), or the AVX2 one when the CPU has
/// it (the default). Returns 1 when the AVX2 walk is in use. Both give the same answers; tests run both.
int32_t cs_parser_set_portable(cs_parser *p, int32_t portable);

/// Parses lines of buf[*pos ..< len] (one JSON document per '\n'-terminated line; the last
/// line may end at len) into out, at most cap records; advances *pos past the parsed lines.
/// Lines longer than max_line are not parsed (status CS_TOO_LONG). A malformed line never
/// affects another. buf must have CS_PADDING readable bytes after len.
/// Arena spans stay valid until the next call on the same parser.
int32_t cs_parse_lines(cs_parser *p, const char *buf, size_t len, size_t *pos,
                       cs_record *out, int32_t cap, size_t max_line);
const char *cs_arena(const cs_parser *p);

/// What cs_tally_lines counts by itself and what it hands back.
typedef struct {
    int64_t from_ms;            /* time filter [from_ms, to_ms); lines without a time fail it */
    int64_t to_ms;
    uint8_t filters_time;
    uint8_t min_level;          /* lines below are filtered out */
    uint8_t record_level;       /* matched lines at or above are handed back (fingerprints) */
    int32_t group_index;        /* requested field to group by, -1 none */
    int32_t latency_index;      /* requested numeric field of latencies, -1 none */
    /// With a masker, lines at or above record_level that need no masking are fingerprinted and
    /// counted here too (cs_tally_fingerprint); without one they are handed back.
    const cs_masker *masker;
} cs_tally_config;

/// Counters of the lines a cs_tally_lines call counted (the lines handed back are not in them).
typedef struct {
    int64_t lines;
    int64_t matched;
    int64_t filtered;
    int64_t min_time;           /* INT64_MAX / INT64_MIN when no counted line had a time */
    int64_t max_time;
} cs_tally_totals;

/// Consecutive counted lines in one time window (of the width given to the call).
typedef struct {
    int64_t time_ms;            /* the first line's time */
    int64_t count;
    int64_t errors;
} cs_window_run;

/// One group-by value seen by the call: the value's head (cut at 256 bytes) and its counts.
typedef struct {
    const char *value;
    uint32_t value_len;
    uint32_t first_line_off;    /* the call's first line holding it, in the call's buffer */
    uint32_t first_line_len;
    int64_t count;
    int64_t errors;
    double latency_sum;
    int64_t latency_count;
    int32_t needs_masking;      /* the first line holds a secret: 1, no: 0, not checked (no masker): -1 */
} cs_group_count;

/// One fingerprint counted by a cs_tally_lines call: its text, the call's counts, and the head
/// (CS_EXAMPLE_BYTES) of its first line, copied (valid until the next call).
#define CS_EXAMPLE_BYTES 400
typedef struct {
    uint64_t hash;              /* cs_fingerprint's hash of text */
    const uint8_t *text;
    uint32_t text_len;
    uint32_t line_off;          /* the call's first line with it, in the call's buffer */
    const uint8_t *example;
    uint32_t example_len;
    uint8_t level;              /* highest level seen */
    int64_t count;
    int64_t first_ms;           /* INT64_MAX / INT64_MIN (CS_NO_TIME) when no line had a time */
    int64_t last_ms;
} cs_fingerprint_count;

/// The latencies counted per integer value: values 0 ..< CS_DENSE_LATENCY.
#define CS_DENSE_LATENCY 65536

typedef struct cs_tally cs_tally;

cs_tally *cs_tally_new(const cs_tally_config *config);
void cs_tally_free(cs_tally *t);

/// Like cs_parse_lines, but the lines that need nothing more than counting (levels, times, windows,
/// group-by counts, integer latencies, fingerprints of lines needing no masking) are counted into t,
/// and only the others — unparsed lines, lines at or above record_level that need masking (or all of
/// them without a masker), latencies written as strings — are handed back in out. Returns
/// how many were; stops early when out is full or the call's tables are. Every call starts new
/// totals, runs, groups and other latencies (read them before the next call); the integer latency
/// counts add up across calls.
int32_t cs_tally_lines(cs_parser *p, cs_tally *t, const char *buf, size_t len, size_t *pos,
                       cs_record *out, int32_t cap, size_t max_line, int64_t window_ms);
/// cs_tally_lines over a mapped file region: a SIGBUS on buf (the file truncated under the mapping)
/// stops the call with *faulted = 1 and *pos at the line it interrupted; what came before is counted.
/// Lines handed back are copied into shadow (shadow_cap bytes) at their offsets in buf: read them
/// there. Group first lines are checked for secrets here (cs_group_count.needs_masking).
int32_t cs_tally_mapped(cs_parser *p, cs_tally *t, const char *buf, size_t len, size_t *pos, cs_record *out,
                        int32_t cap, size_t max_line, int64_t window_ms, char *shadow, size_t shadow_cap,
                        int32_t *faulted);
/// The first '\n' in base[from ..< to] of a mapped file: 1 (and *found), 0 when none, -1 on SIGBUS.
int32_t cs_mapped_find_newline(const char *base, size_t from, size_t to, size_t *found);
void cs_tally_totals_of(const cs_tally *t, cs_tally_totals *out);
/// Counted lines per level byte (256 entries).
const int64_t *cs_tally_levels(const cs_tally *t);
const cs_window_run *cs_tally_runs(const cs_tally *t, int32_t *count);
int32_t cs_tally_group_count(const cs_tally *t);
void cs_tally_group(const cs_tally *t, int32_t i, cs_group_count *out);
int32_t cs_tally_fingerprint_count(const cs_tally *t);
void cs_tally_fingerprint(const cs_tally *t, int32_t i, cs_fingerprint_count *out);
/// Latencies of counted lines that are not small non-negative integers.
const double *cs_tally_other_latencies(const cs_tally *t, int32_t *count);
/// Integer latency counts (CS_DENSE_LATENCY entries), NULL when none was counted.
const uint64_t *cs_tally_dense_latencies(const cs_tally *t);

/// Which bytes the secret patterns start with occur in p[0..<n] (read within bounds only); CS_HINT_B
/// means a `b` before an `e` or `a`, in any case (`bearer`, `basic`).
#define CS_HINT_AT 1u
#define CS_HINT_EQUALS 2u
#define CS_HINT_B 4u
uint32_t cs_mask_hints(const char *p, size_t n);

/// Only the head of a message is fingerprinted (stack traces and dumps follow it).
#define CS_FINGERPRINT_INPUT 300
/// Room a fingerprint needs: a placeholder is at most seven bytes for a token of at least one.
#define CS_FINGERPRINT_CAPACITY 2116  /* CS_FINGERPRINT_INPUT * 7 + 16 */
/// The fingerprint of message[0..<min(len, CS_FINGERPRINT_INPUT)] written into out (room for
/// CS_FINGERPRINT_CAPACITY bytes): UUIDs, emails, IPv4 addresses, hex ids, numbers and quoted
/// values become `<uuid>`, `<email>`, `<ip>`, `<hex>`, `<num>`, `<str>`. Returns its 64-bit hash (deterministic).
uint64_t cs_fingerprint(const char *message, size_t len, uint8_t *out, size_t *out_len);

/// The secret check of log lines: registered secret values plus the masker's patterns.
cs_masker *cs_masker_new(const char *const *secrets, const size_t *lengths, int32_t count);
void cs_masker_free(cs_masker *m);
/// 1 when p[0..<n] holds a registered secret or a pattern the masker looks for (URL userinfo,
/// `token=`-style assignments, `Bearer `/`Basic ` headers), else 0.
int32_t cs_needs_masking(const cs_masker *m, const char *p, size_t n);

/// Parses `YYYY-MM-DD[T ]HH:MM[:SS[.frac]][Z|±HH[:]MM]` at s (no zone = UTC) into epoch ms.
/// Returns the number of bytes consumed, 0 when s does not start with such a timestamp.
size_t cs_parse_iso8601(const char *s, size_t len, int64_t *ms);

/// Streaming gzip/zlib inflater (concatenated members are handled).
typedef struct cs_inflater cs_inflater;
cs_inflater *cs_inflater_new(void);
void cs_inflater_free(cs_inflater *z);
/// Inflates from in[0..inlen) into out[0..outcap); reports bytes consumed and produced.
/// Returns 0 on progress, 1 at the end of the stream data, -1 on corrupt data.
int32_t cs_inflate(cs_inflater *z, const uint8_t *in, size_t inlen, size_t *consumed,
                   uint8_t *out, size_t outcap, size_t *produced);

#ifdef __cplusplus
}
#endif
#endif
