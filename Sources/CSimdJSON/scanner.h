// Internal to the C module: the per-line parse shared by cs_parse_lines and cs_tally_lines.
#ifndef CSIMDJSON_SCANNER_H
#define CSIMDJSON_SCANNER_H

#include "csimdjson.h"

#include <cstddef>

namespace cs_detail {

/// Parses the line starting at buf[at] (up to the next '\n' or len) into r; returns the offset of
/// the next line. Spans in the parser's arena stay valid until the arena is cleared.
size_t parse_line(cs_parser *p, const char *buf, size_t len, size_t at, size_t max_line, cs_record &r);

/// parse_line's implementation for this parser (its AVX2 or portable copy): callers looping over lines
/// take it once.
using line_parser_fn = size_t (*)(cs_parser *p, const char *buf, size_t len, size_t at, size_t max_line, cs_record &r);
line_parser_fn line_parser(const cs_parser *p);

/// Clears the parser's arena (a new batch starts).
void clear_arena(cs_parser *p);

/// cs_tally_lines, with the lines handed back copied into shadow (at their offsets) when shadow is
/// given; *pos and the count of records handed back are kept current line by line.
int32_t tally_lines(cs_parser *p, cs_tally *t, const char *buf, size_t len, size_t *pos, cs_record *out, int32_t cap,
                    size_t max_line, int64_t window_ms, char *shadow, size_t shadow_cap);

/// Records handed back so far by the current tally_lines call.
int32_t tally_handed_back(const cs_tally *t);

/// The bytes of a span of r (in buf or the parser's arena).
const char *span_bytes(const cs_parser *p, const char *buf, cs_span s);

}  // namespace cs_detail

#endif
