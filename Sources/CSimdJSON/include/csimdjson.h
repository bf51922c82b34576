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

/// One parser per thread. `fields` are top-level keys or dotted paths ("req.route").
cs_parser *cs_parser_new(const char *const *fields, int32_t nfields);
void cs_parser_free(cs_parser *p);

/// Parses lines of buf[*pos ..< len] (one JSON document per '\n'-terminated line; the last
/// line may end at len) into out, at most cap records; advances *pos past the parsed lines.
/// Lines longer than max_line are not parsed (status CS_TOO_LONG). A malformed line never
/// affects another. buf must have CS_PADDING readable bytes after len.
/// Arena spans stay valid until the next call on the same parser.
int32_t cs_parse_lines(cs_parser *p, const char *buf, size_t len, size_t *pos,
                       cs_record *out, int32_t cap, size_t max_line);
const char *cs_arena(const cs_parser *p);

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
