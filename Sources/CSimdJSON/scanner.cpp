// Per-line JSON scanning with simdjson's on-demand API: one document per line, so a
// malformed line is isolated (iterate_many would abort the rest of its batch).
#include "csimdjson.h"
#include "scanner.h"

#include <simdjson.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
// An AVX2/BMI2 copy of the masked walk, chosen at run time: the x86-64 baseline (SSE2) stays the default.
#if defined(__x86_64__) && defined(__clang__)
#define CS_HAS_AVX2_COPY 1
#include <immintrin.h>
#else
#define CS_HAS_AVX2_COPY 0
#endif

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

using namespace simdjson;

namespace {

enum Special { SP_NONE, SP_LEVEL, SP_TIME, SP_MSG };

struct Path {
    std::vector<std::string> segments;
};

}  // namespace

struct cs_parser {
    ondemand::parser parser;
    std::vector<Path> fields;
    std::vector<char> arena;
    /// Every requested field is a top-level key: the fast path can answer.
    bool flat = true;
    /// Indexes of every requested field (the simdjson path's candidates).
    std::vector<int> all;
    /// The masked walk runs its AVX2 copy (the CPU has AVX2 and BMI2, and nobody asked for the portable one).
    bool vector = false;

    /// The keys the masked fast path acts on (the special keys and the requested fields), found by
    /// their length and first eight bytes in a small open-addressed table: one probe for most keys.
    struct Key {
        uint64_t head = 0;
        uint32_t len = UINT32_MAX;   // UINT32_MAX: empty slot
        uint8_t special = 0;         // a Special
        uint8_t fields = 0;          // bit f: requested field f
        std::string name;
    };
    /// The layout of the last clean line (walk_shape): the bytes before each value, the value's
    /// kind and what its key asks for, then the bytes after the last value.
    struct Segment {
        uint16_t lit_off, lit_len;
        uint8_t kind, special, fields;
    };
    struct Shape {
        static constexpr int kMaxSegments = 32;
        static constexpr size_t kBytes = 1024;
        Segment seg[kMaxSegments];
        int count = 0;
        size_t used = 0;
        uint16_t tail_off = 0, tail_len = 0;
        bool ok = false;
        char bytes[kBytes + 16];  // room for the eight-byte loads of same_bytes
        void add(const char *p, size_t n, int kind, uint8_t special, uint8_t fields) {
            if (count >= kMaxSegments || used + n > kBytes) { count = kMaxSegments + 1; return; }
            std::memcpy(bytes + used, p, n);
            seg[count++] = {uint16_t(used), uint16_t(n), uint8_t(kind), special, fields};
            used += n;
        }
        void finish(const char *p, size_t n) {
            ok = count > 0 && count <= kMaxSegments && used + n <= kBytes;
            if (!ok) { count = 0; return; }
            std::memcpy(bytes + used, p, n);
            tail_off = uint16_t(used);
            tail_len = uint16_t(n);
            used += n;
        }
    };
    Shape shape, learning;

    static constexpr size_t kKeySlots = 64;
    Key keys[kKeySlots];

    static inline uint64_t head_of(const char *k, size_t n) {
        uint64_t w = 0;
        std::memcpy(&w, k, n < 8 ? n : 8);
        return w;
    }
    static inline size_t slot_of(uint64_t head, size_t n) {
        return size_t(((head + n) * 0x9E3779B97F4A7C15ull) >> 58);
    }
    Key &key_slot(const std::string &name) {
        uint64_t h = head_of(name.data(), name.size());
        size_t i = slot_of(h, name.size());
        while (keys[i].len != UINT32_MAX && keys[i].name != name) i = (i + 1) % kKeySlots;
        if (keys[i].len == UINT32_MAX) { keys[i].head = h; keys[i].len = uint32_t(name.size()); keys[i].name = name; }
        return keys[i];
    }
    /// The entry of the key at k (n bytes, readable eight bytes on), nullptr when nothing acts on it.
    inline const Key *find_key(const char *k, size_t n) const {
        uint64_t w;
        std::memcpy(&w, k, 8);
        if (n < 8) w &= (1ull << (8 * n)) - 1;
        size_t i = slot_of(w, n);
        while (keys[i].len != UINT32_MAX) {
            const Key &e = keys[i];
            if (e.head == w && e.len == n && (n <= 8 || std::memcmp(e.name.data() + 8, k + 8, n - 8) == 0)) return &e;
            i = (i + 1) % kKeySlots;
        }
        return nullptr;
    }
};

namespace {

inline bool ieq(const char *a, size_t n, const char *lit) {
    size_t m = std::strlen(lit);
    if (n != m) return false;
    for (size_t i = 0; i < n; i++) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z') c = char(c + 32);
        if (c != lit[i]) return false;
    }
    return true;
}

/// Level words of pino/bunyan, winston, syslog and log4j onto the pino scale.
uint8_t level_from_word(const char *s, size_t n) {
    if (ieq(s, n, "info") || ieq(s, n, "information") || ieq(s, n, "notice") || ieq(s, n, "http")) return 30;
    if (ieq(s, n, "error") || ieq(s, n, "err")) return 50;
    if (ieq(s, n, "warn") || ieq(s, n, "warning")) return 40;
    if (ieq(s, n, "debug") || ieq(s, n, "verbose")) return 20;
    if (ieq(s, n, "trace") || ieq(s, n, "silly")) return 10;
    if (ieq(s, n, "fatal") || ieq(s, n, "critical") || ieq(s, n, "crit") || ieq(s, n, "panic") ||
        ieq(s, n, "emerg") || ieq(s, n, "emergency") || ieq(s, n, "alert")) return 60;
    return 0;
}

inline int64_t epoch_ms_from_number(double v) {
    double a = std::fabs(v);
    if (a > 1e17) return int64_t(v / 1e6);       // nanoseconds
    if (a > 1e14) return int64_t(v / 1e3);       // microseconds
    if (a > 1e11) return int64_t(v);             // milliseconds
    return int64_t(std::llround(v * 1000.0));    // seconds
}

inline bool key_is(std::string_view key, const char *lit) {
    size_t n = std::strlen(lit);
    return key.size() == n && std::memcmp(key.data(), lit, n) == 0;
}

Special special_key(std::string_view k) {
    switch (k.size()) {
    case 2: if (key_is(k, "ts")) return SP_TIME; break;
    case 3: if (key_is(k, "msg")) return SP_MSG; if (key_is(k, "lvl")) return SP_LEVEL; break;
    case 4: if (key_is(k, "time")) return SP_TIME; break;
    case 5: if (key_is(k, "level")) return SP_LEVEL; break;
    case 7: if (key_is(k, "message")) return SP_MSG; break;
    case 8: if (key_is(k, "severity")) return SP_LEVEL; break;
    case 9: if (key_is(k, "timestamp")) return SP_TIME; break;
    case 10: if (key_is(k, "@timestamp")) return SP_TIME; break;
    default: break;
    }
    return SP_NONE;
}

/// Raw key bytes (between the quotes); empty when the key holds escapes (never matched).
inline std::string_view raw_key(ondemand::field &f) {
    const char *k = f.key().raw();
    const char *q = k;
    while (*q != '"') {
        if (*q == '\\') return std::string_view();
        q++;
    }
    return std::string_view(k, size_t(q - k));
}

struct LineCtx {
    cs_parser *p;
    const char *buf;
    cs_record *rec;
};

inline std::string_view trimmed_token(ondemand::value &v) {
    std::string_view t = v.raw_json_token();
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\r' || t.back() == '\n')) t.remove_suffix(1);
    return t;
}

/// Numbers are read from the raw token so the same value can feed several outputs
/// (e.g. `level` is both the level and a group-by field) without consuming it twice.
inline bool number_of(std::string_view tok, double &d) {
    const char *b = tok.data(), *e = tok.data() + tok.size();
    if (b < e && *b == '-') {
        auto r = std::from_chars(b + 1, e, d);
        d = -d;
        return r.ec == std::errc();
    }
    return std::from_chars(b, e, d).ec == std::errc();
}

/// A string value's contents as a span: straight into the buffer when it holds no escapes,
/// otherwise unescaped into the arena.
bool string_span(LineCtx &c, ondemand::value &v, cs_span &out) {
    std::string_view t = trimmed_token(v);
    if (t.size() >= 2 && t.front() == '"' && t.back() == '"' &&
        std::memchr(t.data() + 1, '\\', t.size() - 2) == nullptr) {
        out.off = uint32_t(t.data() + 1 - c.buf);
        out.len = uint32_t(t.size() - 2);
        return true;
    }
    std::string_view s;
    if (v.get_string().get(s)) return false;
    size_t at = c.p->arena.size();
    c.p->arena.insert(c.p->arena.end(), s.begin(), s.end());
    out.off = uint32_t(at) | CS_ARENA_BIT;
    out.len = uint32_t(s.size());
    return true;
}

inline std::string_view span_view(LineCtx &c, const cs_span &s) {
    if (s.off & CS_ARENA_BIT) return std::string_view(c.p->arena.data() + (s.off & ~CS_ARENA_BIT), s.len);
    return std::string_view(c.buf + s.off, s.len);
}

bool capture_field(LineCtx &c, int i, ondemand::value &v) {
    ondemand::json_type t;
    if (v.type().get(t)) return false;
    cs_record &r = *c.rec;
    switch (t) {
    case ondemand::json_type::string:
        if (!string_span(c, v, r.field[i])) return false;
        r.field_kind[i] = CS_KIND_STRING;
        return true;
    case ondemand::json_type::number: {
        std::string_view tok = trimmed_token(v);
        double d;
        if (!number_of(tok, d)) return false;
        r.field_num[i] = d;
        r.field[i].off = uint32_t(tok.data() - c.buf);
        r.field[i].len = uint32_t(tok.size());
        r.field_kind[i] = CS_KIND_NUMBER;
        return true;
    }
    case ondemand::json_type::boolean:
    case ondemand::json_type::null: {
        std::string_view tok = trimmed_token(v);
        r.field[i].off = uint32_t(tok.data() - c.buf);
        r.field[i].len = uint32_t(tok.size());
        r.field_kind[i] = CS_KIND_OTHER;
        return true;
    }
    default:
        r.field[i].off = 0;
        r.field[i].len = 0;
        r.field_kind[i] = CS_KIND_OTHER;
        return true;
    }
}

bool scan_object(LineCtx &c, ondemand::object obj, size_t depth, const std::vector<int> &candidates);

/// Requested fields whose path continues below `key` at this depth.
bool visit_requested(LineCtx &c, std::string_view key, ondemand::value &v, size_t depth,
                     const std::vector<int> &candidates) {
    std::vector<int> deeper;
    for (int i : candidates) {
        const auto &segs = c.p->fields[size_t(i)].segments;
        if (depth >= segs.size() || segs[depth] != key) continue;
        if (depth + 1 == segs.size()) {
            if (c.rec->field_kind[i] == CS_KIND_ABSENT && !capture_field(c, i, v)) return false;
        } else {
            deeper.push_back(i);
        }
    }
    if (!deeper.empty()) {
        ondemand::json_type t;
        if (v.type().get(t)) return false;
        if (t == ondemand::json_type::object) {
            ondemand::object sub;
            if (v.get_object().get(sub)) return false;
            return scan_object(c, sub, depth + 1, deeper);
        }
    }
    return true;
}

bool capture_special(LineCtx &c, Special sp, ondemand::value &v) {
    cs_record &r = *c.rec;
    ondemand::json_type t;
    if (v.type().get(t)) return false;
    switch (sp) {
    case SP_LEVEL:
        if (r.has_level) return true;
        r.has_level = 1;
        if (t == ondemand::json_type::number) {
            double d;
            if (!number_of(trimmed_token(v), d)) return false;
            r.level = (d >= 0 && d <= 255) ? uint8_t(d) : 0;
        } else if (t == ondemand::json_type::string) {
            cs_span s;
            if (!string_span(c, v, s)) return false;
            std::string_view w = span_view(c, s);
            r.level = level_from_word(w.data(), w.size());
        }
        return true;
    case SP_TIME:
        if (r.time_ms != CS_NO_TIME) return true;
        if (t == ondemand::json_type::number) {
            double d;
            if (!number_of(trimmed_token(v), d)) return false;
            r.time_ms = epoch_ms_from_number(d);
        } else if (t == ondemand::json_type::string) {
            cs_span s;
            if (!string_span(c, v, s)) return false;
            std::string_view w = span_view(c, s);
            int64_t ms;
            if (cs_parse_iso8601(w.data(), w.size(), &ms) > 0) r.time_ms = ms;
        }
        return true;
    case SP_MSG:
        if (r.msg.len != CS_ABSENT_LEN) return true;
        if (t == ondemand::json_type::string) return string_span(c, v, r.msg);
        if (t == ondemand::json_type::number || t == ondemand::json_type::boolean) {
            std::string_view tok = trimmed_token(v);
            r.msg.off = uint32_t(tok.data() - c.buf);
            r.msg.len = uint32_t(tok.size());
        }
        return true;
    default:
        return true;
    }
}

bool scan_object(LineCtx &c, ondemand::object obj, size_t depth, const std::vector<int> &candidates) {
    for (auto fr : obj) {
        ondemand::field f;
        if (std::move(fr).get(f)) return false;
        std::string_view key = raw_key(f);
        ondemand::value v = f.value();
        if (depth == 0) {
            Special sp = special_key(key);
            if (sp != SP_NONE && !capture_special(c, sp, v)) return false;
        }
        if (!candidates.empty() && !visit_requested(c, key, v, depth, candidates)) return false;
    }
    return true;
}

/// Fast path for the common line: a flat object of printable ASCII whose keys and needed strings
/// hold no escapes (what pino, bunyan and most JSON loggers write). One pass over the bytes, no
/// simdjson document; anything else — nesting, escapes, non-ASCII, odd whitespace, a grammar
/// doubt — returns false and the line goes through simdjson, which decides. The answers are the
/// same either way (GroundTruthTests run both).
void reset_record(cs_record &r, uint32_t off, uint32_t len) {
    std::memset(&r, 0, sizeof r);
    r.line_off = off;
    r.line_len = len;
    r.time_ms = CS_NO_TIME;
    r.msg.len = CS_ABSENT_LEN;
    for (int i = 0; i < CS_MAX_FIELDS; i++) r.field[i].len = CS_ABSENT_LEN;
}

namespace fast {

inline const char *ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    return p;
}

/// p at the opening quote; returns the closing quote or nullptr (fallback). Sixteen bytes at a time
/// look for a quote, a backslash, a control byte or a non-ASCII byte (reading past `e` is safe: the
/// buffer has CS_PADDING bytes after it).
inline const char *string_end(const char *p, const char *e, bool &escaped) {
    escaped = false;
    const char *q = p + 1;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
    while (q < e) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(q));
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash)), _mm_cmplt_epi8(v, space));
        int mask = _mm_movemask_epi8(hit);
        if (mask == 0) { q += 16; continue; }
        q += __builtin_ctz(unsigned(mask));
        break;
    }
    if (q >= e) return nullptr;
#endif
    for (; q < e; q++) {
        unsigned char c = (unsigned char)*q;
        if (c == '"') return q;
        if (c == '\\') { escaped = true; q++; continue; }
        if (c < 0x20 || c >= 0x80) return nullptr;
    }
    return nullptr;
}

/// A JSON number token at p (strict grammar); returns its end or nullptr.
inline const char *number_end(const char *p, const char *e) {
    const char *q = p;
    if (q < e && *q == '-') q++;
    if (q >= e) return nullptr;
    if (*q == '0') q++;
    else if (*q >= '1' && *q <= '9') { while (q < e && *q >= '0' && *q <= '9') q++; }
    else return nullptr;
    if (q < e && *q == '.') {
        q++;
        if (q >= e || *q < '0' || *q > '9') return nullptr;
        while (q < e && *q >= '0' && *q <= '9') q++;
    }
    if (q < e && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < e && (*q == '+' || *q == '-')) q++;
        if (q >= e || *q < '0' || *q > '9') return nullptr;
        while (q < e && *q >= '0' && *q <= '9') q++;
    }
    return q;
}

/// The value of a number token: integers of up to 15 digits (times, levels, milliseconds) without
/// from_chars, which is slow for them; anything else through it.
inline bool number_value(const char *p, const char *e, double &d) {
    const char *q = p;
    bool neg = q < e && *q == '-';
    if (neg) q++;
    if (e - q > 0 && e - q <= 15) {
        int64_t v = 0;
        const char *k = q;
        while (k < e && *k >= '0' && *k <= '9') { v = v * 10 + (*k - '0'); k++; }
        if (k == e) { d = double(neg ? -v : v); return true; }
    }
    return number_of(std::string_view(p, size_t(e - p)), d);
}

inline bool same(const std::string &a, std::string_view b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), b.size()) == 0;
}

inline bool literal(const char *p, const char *e, const char *lit, size_t n) {
    return size_t(e - p) >= n && std::memcmp(p, lit, n) == 0;
}

enum VKind { V_STRING, V_NUMBER, V_OTHER };

bool parse_line(cs_parser *P, const char *buf, const char *p, const char *e, cs_record &r) {
    // p at '{'
    p = ws(p + 1, e);
    if (p < e && *p == '}') { p = ws(p + 1, e); return p == e; }
    while (true) {
        if (p >= e || *p != '"') return false;
        bool esc;
        const char *kend = string_end(p, e, esc);
        if (!kend || esc) return false;
        std::string_view key(p + 1, size_t(kend - p - 1));
        p = ws(kend + 1, e);
        if (p >= e || *p != ':') return false;
        p = ws(p + 1, e);
        if (p >= e) return false;
        const char *vstart = p, *vend;
        VKind kind;
        bool vesc = false;
        char c = *p;
        if (c == '"') {
            const char *q = string_end(p, e, vesc);
            if (!q) return false;
            vend = q + 1;
            kind = V_STRING;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            vend = number_end(p, e);
            if (!vend) return false;
            kind = V_NUMBER;
        } else if (c == 't' && literal(p, e, "true", 4)) { vend = p + 4; kind = V_OTHER; }
        else if (c == 'f' && literal(p, e, "false", 5)) { vend = p + 5; kind = V_OTHER; }
        else if (c == 'n' && literal(p, e, "null", 4)) { vend = p + 4; kind = V_OTHER; }
        else return false; // nested objects, arrays, garbage: simdjson decides
        // A string's contents (no escapes) or a token, as a span into buf.
        auto content = [&](cs_span &s) {
            if (kind == V_STRING) { s.off = uint32_t(vstart + 1 - buf); s.len = uint32_t(vend - vstart - 2); }
            else { s.off = uint32_t(vstart - buf); s.len = uint32_t(vend - vstart); }
        };
        Special sp = special_key(key);
        if (sp != SP_NONE) {
            if (kind == V_STRING && vesc) return false;
            switch (sp) {
            case SP_LEVEL:
                if (!r.has_level) {
                    r.has_level = 1;
                    if (kind == V_NUMBER) {
                        double d;
                        if (!number_value(vstart, vend, d)) return false;
                        r.level = (d >= 0 && d <= 255) ? uint8_t(d) : 0;
                    } else if (kind == V_STRING) {
                        r.level = level_from_word(vstart + 1, size_t(vend - vstart - 2));
                    }
                }
                break;
            case SP_TIME:
                if (r.time_ms == CS_NO_TIME) {
                    if (kind == V_NUMBER) {
                        double d;
                        if (!number_value(vstart, vend, d)) return false;
                        r.time_ms = epoch_ms_from_number(d);
                    } else if (kind == V_STRING) {
                        int64_t ms;
                        if (cs_parse_iso8601(vstart + 1, size_t(vend - vstart - 2), &ms) > 0) r.time_ms = ms;
                    }
                }
                break;
            case SP_MSG:
                if (r.msg.len == CS_ABSENT_LEN) {
                    if (kind == V_STRING || kind == V_NUMBER || (kind == V_OTHER && c != 'n')) content(r.msg);
                }
                break;
            default: break;
            }
        }
        for (size_t i = 0; i < P->fields.size(); i++) {
            if (!same(P->fields[i].segments[0], key) || r.field_kind[i] != CS_KIND_ABSENT) continue;
            if (kind == V_STRING) {
                if (vesc) return false;
                content(r.field[i]);
                r.field_kind[i] = CS_KIND_STRING;
            } else if (kind == V_NUMBER) {
                double d;
                if (!number_value(vstart, vend, d)) return false;
                r.field_num[i] = d;
                content(r.field[i]);
                r.field_kind[i] = CS_KIND_NUMBER;
            } else {
                content(r.field[i]);
                r.field_kind[i] = CS_KIND_OTHER;
            }
        }
        p = ws(vend, e);
        if (p >= e) return false;
        if (*p == ',') { p = ws(p + 1, e); continue; }
        if (*p == '}') { p = ws(p + 1, e); return p == e; }
        return false;
    }
}


/// Every line the masked walk declines (escapes, non-ASCII, nesting, a long or the last line, anything
/// odd): the byte walk above, then simdjson, which decides.
size_t parse_line_careful(cs_parser *p, const char *buf, size_t len, size_t at, size_t max_line, cs_record &r) {
    const char *nl = static_cast<const char *>(std::memchr(buf + at, '\n', len - at));
    size_t end = nl ? size_t(nl - buf) : len;
    size_t next = nl ? end + 1 : len;
    size_t line_len = end - at;
    if (line_len > 0 && buf[end - 1] == '\r') line_len--;
    reset_record(r, uint32_t(at), uint32_t(line_len));
    size_t s = at;
    while (s < at + line_len && (buf[s] == ' ' || buf[s] == '\t')) s++;
    if (line_len > max_line) {
        r.status = CS_TOO_LONG;
    } else if (s == at + line_len) {
        r.status = CS_EMPTY;
    } else if (buf[s] != '{') {
        r.status = CS_NOT_OBJECT;
    } else if (p->flat && fast::parse_line(p, buf, buf + s, buf + at + line_len, r)) {
        // answered without simdjson (status stays CS_OK)
    } else {
        reset_record(r, uint32_t(at), uint32_t(line_len)); // the fast path may have filled part of it
        LineCtx c{p, buf, &r};
        ondemand::document doc;
        ondemand::object obj;
        size_t n_json = at + line_len - s;
        if (p->parser.iterate(buf + s, n_json, n_json + CS_PADDING).get(doc) || doc.get_object().get(obj) ||
            !scan_object(c, obj, 0, p->all)) {
            reset_record(r, uint32_t(at), uint32_t(line_len));
            r.status = CS_MALFORMED;
        }
    }
    return next;
}

/// The masked walk, twice: portable, and AVX2/BMI2 for CPUs that have them (picked per parser at
/// creation, cs_parser.vector). Both copies are the same source, so they give the same answers.
namespace portable {
#define CS_MASKED_AVX2 0
#include "masked_walk.h"
#undef CS_MASKED_AVX2
}  // namespace portable

#if CS_HAS_AVX2_COPY
#pragma clang attribute push(__attribute__((target("avx2,bmi,bmi2,popcnt"))), apply_to = function)
namespace avx2 {
#define CS_MASKED_AVX2 1
#include "masked_walk.h"
#undef CS_MASKED_AVX2
}  // namespace avx2
#pragma clang attribute pop

/// Every feature the AVX2 copy is compiled for, not just AVX2: a virtual machine may hide one of
/// them, and an instruction the CPU lacks is SIGILL, not a slower answer.
static bool cpu_has_vector_walk() {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
           __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
}
#endif


}  // namespace fast


}  // namespace

namespace cs_detail {

line_parser_fn line_parser(const cs_parser *p) {
#if CS_HAS_AVX2_COPY
    if (p->vector) return fast::avx2::parse_any_line;
#endif
    return fast::portable::parse_any_line;
}

size_t parse_line(cs_parser *p, const char *buf, size_t len, size_t at, size_t max_line, cs_record &r) {
    return line_parser(p)(p, buf, len, at, max_line, r);
}

void clear_arena(cs_parser *p) { p->arena.clear(); }

const char *span_bytes(const cs_parser *p, const char *buf, cs_span s) {
    if (s.off & CS_ARENA_BIT) return p->arena.data() + (s.off & ~CS_ARENA_BIT);
    return buf + s.off;
}

}  // namespace cs_detail

extern "C" {

cs_parser *cs_parser_new(const char *const *fields, int32_t nfields) {
    auto *p = new (std::nothrow) cs_parser();
    if (!p) return nullptr;
    for (int32_t i = 0; i < nfields && i < CS_MAX_FIELDS; i++) {
        Path path;
        std::string s(fields[i]);
        size_t start = 0;
        while (true) {
            size_t dot = s.find('.', start);
            path.segments.push_back(s.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
            if (dot == std::string::npos) break;
            start = dot + 1;
        }
        if (path.segments.size() != 1) p->flat = false;
        p->fields.push_back(std::move(path));
        p->all.push_back(int(i));
    }
    static const std::pair<const char *, Special> specials[] = {
        {"ts", SP_TIME}, {"msg", SP_MSG}, {"lvl", SP_LEVEL}, {"time", SP_TIME}, {"level", SP_LEVEL},
        {"message", SP_MSG}, {"severity", SP_LEVEL}, {"timestamp", SP_TIME}, {"@timestamp", SP_TIME}};
    for (const auto &sp : specials) p->key_slot(sp.first).special = uint8_t(sp.second);
    for (size_t i = 0; i < p->fields.size(); i++) {
        if (p->fields[i].segments.size() == 1) p->key_slot(p->fields[i].segments[0]).fields |= uint8_t(1u << i);
    }
    p->arena.reserve(1 << 16);
#if CS_HAS_AVX2_COPY
    p->vector = fast::cpu_has_vector_walk();
#endif
    return p;
}

int32_t cs_parser_set_portable(cs_parser *p, int32_t portable) {
    p->vector = false;
#if CS_HAS_AVX2_COPY
    if (!portable) p->vector = fast::cpu_has_vector_walk();
#else
    (void)portable;
#endif
    return p->vector ? 1 : 0;
}

void cs_parser_free(cs_parser *p) { delete p; }

const char *cs_arena(const cs_parser *p) { return p->arena.data(); }

int32_t cs_parse_lines(cs_parser *p, const char *buf, size_t len, size_t *pos, cs_record *out, int32_t cap,
                       size_t max_line) {
    p->arena.clear();
    int32_t n = 0;
    size_t at = *pos;
    while (at < len && n < cap) at = cs_detail::parse_line(p, buf, len, at, max_line, out[n++]);
    *pos = at;
    return n;
}

}  // extern "C"
