// Internal to the C module: the per-line parse shared by cs_parse_lines and cs_tally_lines.
#ifndef CSIMDJSON_SCANNER_H
#define CSIMDJSON_SCANNER_H

#include "csimdjson.h"

#include <cstddef>

namespace cs_detail {

/// Parses the line starting at buf[at] (up to the next '\n' or len) into r; returns the offset of
/// the next line. Spans in the parser's arena stay valid until the arena is cleared.
size_t parse_line(cs_parser *p, const char *buf, size_t len, size_t at, size_t max_line, cs_record &r);

/// Clears the parser's arena (a new batch starts).
void clear_arena(cs_parser *p);

/// The bytes of a span of r (in buf or the parser's arena).
const char *span_bytes(const cs_parser *p, const char *buf, cs_span s);

}  // namespace cs_detail

#endif
