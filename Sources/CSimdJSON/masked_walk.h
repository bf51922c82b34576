// The masked walk of a clean JSON line (see parse_line in scanner.cpp), included twice by scanner.cpp:
// once for the portable build (SSE2 on x86-64, bytes elsewhere) and once, when the compiler can, with
// AVX2/BMI2 code chosen at run time on CPUs that have them. CS_MASKED_AVX2 says which copy this is.
// No include guard and no #include: it is pasted inside a namespace, after scanner.cpp's own helpers.

/// The common line once more, faster: one pass of 64-byte blocks finds the line's end, every quote,
/// and whether it holds anything that needs care (a backslash, a control or non-ASCII byte); a clean
/// line is then walked from quote to quote through the bit masks, with no byte loop over strings.
/// Anything unusual (or a line over 1 KB) returns false and parse_line above decides.
constexpr int kMaxBlocks = 16;

inline void block_masks(const char *p, uint64_t &quote, uint64_t &bad, uint64_t &nl) {
#if CS_MASKED_AVX2
    // Two 32-byte loads per block instead of four 16-byte ones.
    const __m256i q = _mm256_set1_epi8('"'), bs = _mm256_set1_epi8('\\'), space = _mm256_set1_epi8(0x20),
                  lf = _mm256_set1_epi8('\n');
    quote = bad = nl = 0;
    for (int k = 0; k < 2; k++) {
        __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p + 32 * k));
        // signed compare: control bytes (0x1F included) and every byte >= 0x80 are less than space
        quote |= uint64_t(uint32_t(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, q)))) << (32 * k);
        bad |= uint64_t(uint32_t(_mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(v, bs), _mm256_cmpgt_epi8(space, v)))))
               << (32 * k);
        nl |= uint64_t(uint32_t(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, lf)))) << (32 * k);
    }
#elif defined(__SSE2__)
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(0x20), lf = _mm_set1_epi8('\n');
    quote = bad = nl = 0;
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + 16 * k));
        // signed compare: control bytes and every byte >= 0x80 are "less than space"
        quote |= uint64_t(unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v, q)))) << (16 * k);
        bad |= uint64_t(unsigned(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, bs), _mm_cmplt_epi8(v, sp))))) << (16 * k);
        nl |= uint64_t(unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf)))) << (16 * k);
    }
#else
    quote = bad = nl = 0;
    for (int k = 0; k < 64; k++) {
        unsigned char c = (unsigned char)p[k];
        if (c == '"') quote |= 1ull << k;
        if (c == '\\' || c < 0x20 || c >= 0x80) bad |= 1ull << k;
        if (c == '\n') nl |= 1ull << k;
    }
#endif
}

/// Eight ASCII digits (little-endian load) to their value, in a few multiplications.
inline uint64_t eight_digit_value(uint64_t w) {
    w -= 0x3030303030303030ull;
    w = (w * 10) + (w >> 8);
    return (((w & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
            (((w >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >> 32;
}

struct Quotes {
    uint64_t m[kMaxBlocks];
    int blocks;
    /// Index of the first quote at or after i, -1 when none.
    inline int next(int i) const {
        int b = i >> 6;
        if (b >= blocks) return -1;
        uint64_t x = m[b] & (~0ull << (i & 63));
        while (!x) {
            if (++b >= blocks) return -1;
            x = m[b];
        }
        return b * 64 + __builtin_ctzll(x);
    }
};

/// A value as the walkers found it: kind, bytes [start, end) (quotes included), number value.
struct Value {
    VKind kind;
    const char *start, *end;
    double num;
};

/// Bytes of w that are not ASCII digits, as non-zero bytes (w holds ASCII only: no carries).
inline uint64_t non_digits(uint64_t w) {
    return ((w & 0xF0F0F0F0F0F0F0F0ull) ^ 0x3030303030303030ull) |
           (((w + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) ^ 0x3030303030303030ull);
}

/// The value of the first k (1...7) digits of w: shifted up, with '0's in front.
inline uint64_t leading_digits_value(uint64_t w, int k) {
    return eight_digit_value((w << (8 * (8 - k))) | (0x3030303030303030ull >> (8 * k)));
}

constexpr uint64_t kPow10[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

/// Parses the number at p (< e): integers of up to 16 digits without a loop (eight bytes at a
/// time, the digit count from a bit scan); anything else by the strict grammar.
__attribute__((always_inline)) inline bool read_number(const char *p, const char *e, Value &v) {
    const char c = *p;
    const char *d0 = p + (c == '-');
    const char *q = d0;
    uint64_t n = 0;
    uint64_t w;
    std::memcpy(&w, q, 8);  // the line ends with '\n' and the buffer has padding: eight bytes are readable
    uint64_t m = non_digits(w);
    if (m) {
        int k = __builtin_ctzll(m) >> 3;
        if (k) n = leading_digits_value(w, k);
        q += k;
    } else {
        n = eight_digit_value(w);
        q += 8;
        std::memcpy(&w, q, 8);
        m = non_digits(w);
        if (m) {
            int k = __builtin_ctzll(m) >> 3;
            if (k) n = n * kPow10[k] + leading_digits_value(w, k);
            q += k;
        } else {
            while (q < e && *q >= '0' && *q <= '9') q++;  // over 16 digits: from_chars below
        }
    }
    if (q > e) return false;
    size_t nd = size_t(q - d0);
    if (nd == 0 || (nd > 1 && *d0 == '0')) return false;
    v.kind = V_NUMBER;
    v.start = p;
    if (q < e && (*q == '.' || *q == 'e' || *q == 'E')) {
        v.end = number_end(p, e);
        return v.end && number_value(p, v.end, v.num);
    }
    v.end = q;
    if (nd <= 15) { v.num = c == '-' ? double(-int64_t(n)) : double(n); return true; }
    return number_value(p, q, v.num);
}

/// A number nobody asked for (`pid`): its end and grammar checked as read_number does, its value
/// not computed.
__attribute__((always_inline)) inline bool skip_number(const char *p, const char *e, Value &v) {
    const char *d0 = p + (*p == '-');
    const char *q = d0;
    uint64_t w;
    std::memcpy(&w, q, 8);  // the line ends with '\n' (a non-digit) and the buffer has padding
    uint64_t m = non_digits(w);
    while (!m) {
        q += 8;
        std::memcpy(&w, q, 8);
        m = non_digits(w);
    }
    q += __builtin_ctzll(m) >> 3;
    if (q > e) return false;
    size_t nd = size_t(q - d0);
    if (nd == 0 || (nd > 1 && *d0 == '0')) return false;
    v.kind = V_NUMBER;
    v.start = p;
    v.num = 0;
    if (q < e && (*q == '.' || *q == 'e' || *q == 'E')) {
        v.end = number_end(p, e);
        return v.end != nullptr;
    }
    v.end = q;
    return true;
}

/// What a special key or a requested field takes from a value (first occurrence wins, as on the
/// simdjson path).
__attribute__((always_inline)) inline void apply(const char *buf, uint8_t special, uint8_t fields, const Value &v, cs_record &r) {
    auto content = [&](cs_span &sp) {
        if (v.kind == V_STRING) { sp.off = uint32_t(v.start + 1 - buf); sp.len = uint32_t(v.end - v.start - 2); }
        else { sp.off = uint32_t(v.start - buf); sp.len = uint32_t(v.end - v.start); }
    };
    switch (Special(special)) {
    case SP_LEVEL:
        if (!r.has_level) {
            r.has_level = 1;
            if (v.kind == V_NUMBER) r.level = (v.num >= 0 && v.num <= 255) ? uint8_t(v.num) : 0;
            else if (v.kind == V_STRING) r.level = level_from_word(v.start + 1, size_t(v.end - v.start - 2));
        }
        break;
    case SP_TIME:
        if (r.time_ms == CS_NO_TIME) {
            if (v.kind == V_NUMBER) {
                r.time_ms = epoch_ms_from_number(v.num);
            } else if (v.kind == V_STRING) {
                int64_t ms;
                if (cs_parse_iso8601(v.start + 1, size_t(v.end - v.start - 2), &ms) > 0) r.time_ms = ms;
            }
        }
        break;
    case SP_MSG:
        if (r.msg.len == CS_ABSENT_LEN && (v.kind != V_OTHER || *v.start != 'n')) content(r.msg);
        break;
    default: break;
    }
    for (size_t f = 0; fields >> f; f++) {
        if (!((fields >> f) & 1) || r.field_kind[f] != CS_KIND_ABSENT) continue;
        content(r.field[f]);
        if (v.kind == V_STRING) r.field_kind[f] = CS_KIND_STRING;
        else if (v.kind == V_NUMBER) { r.field_num[f] = v.num; r.field_kind[f] = CS_KIND_NUMBER; }
        else r.field_kind[f] = CS_KIND_OTHER;
    }
}

/// True when the n bytes at a equal those at b (n small: two overlapping loads).
inline bool same_bytes(const char *a, const char *b, size_t n) {
    if (n >= 8) {
        if (n > 16) return std::memcmp(a, b, n) == 0;
        uint64_t x0, y0, x1, y1;
        std::memcpy(&x0, a, 8); std::memcpy(&y0, b, 8);
        std::memcpy(&x1, a + n - 8, 8); std::memcpy(&y1, b + n - 8, 8);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    uint64_t x, y;
    std::memcpy(&x, a, 8); std::memcpy(&y, b, 8);  // both have eight readable bytes (padding, shape buffer)
    uint64_t mask = n == 0 ? 0 : (~0ull >> (64 - 8 * n));
    return ((x ^ y) & mask) == 0;
}

/// The last clean line's layout replayed: its bytes between values (`{"level":`, `,"time":`,
/// `,"route":"` …) compared whole, each value read by its kind, the keys' actions known in
/// advance. Lines of one logger share it, so most lines are matched without looking at a key.
bool walk_shape(const cs_parser *P, const char *buf, const char *s, int line_len, const Quotes &qs, cs_record &r) {
    const cs_parser::Shape &sh = P->shape;
    const char *e = s + line_len;
    int i = 0;
    for (int k = 0; k < sh.count; k++) {
        const cs_parser::Segment &g = sh.seg[k];
        if (i + int(g.lit_len) > line_len || !same_bytes(s + i, sh.bytes + g.lit_off, g.lit_len)) return false;
        i += int(g.lit_len);
        Value v;
        if (g.kind == V_STRING) {  // the literal ended with the opening quote
            int q = qs.next(i);
            if (q < 0) return false;
            v = {V_STRING, s + i - 1, s + q + 1, 0};
        } else if (g.kind == V_NUMBER) {
            char c = s[i];
            if (!(c == '-' || (c >= '0' && c <= '9'))) return false;
            if (!((g.special | g.fields) ? read_number(s + i, e, v) : skip_number(s + i, e, v))) return false;
        } else {
            char c = s[i];
            if (c == 't' && literal(s + i, e, "true", 4)) v = {V_OTHER, s + i, s + i + 4, 0};
            else if (c == 'f' && literal(s + i, e, "false", 5)) v = {V_OTHER, s + i, s + i + 5, 0};
            else if (c == 'n' && literal(s + i, e, "null", 4)) v = {V_OTHER, s + i, s + i + 4, 0};
            else return false;
        }
        if (g.special | g.fields) apply(buf, g.special, g.fields, v, r);
        i = int(v.end - s);
    }
    return i + int(sh.tail_len) == line_len && same_bytes(s + i, sh.bytes + sh.tail_off, sh.tail_len);
}

/// Every key of a clean line, from quote to quote; learns the line's shape for walk_shape.
bool walk_keys(cs_parser *P, const char *buf, const char *s, int line_len, const Quotes &qs, cs_record &r) {
    const char *e = s + line_len;
    cs_parser::Shape &sh = P->learning;
    sh.count = 0;
    sh.used = 0;
    sh.ok = false;
    int lit = 0;  // where the bytes before the next value start
    auto skip = [&](int k) { while (s[k] == ' ') k++; return k; };
    int i = skip(1);
    if (s[i] == '}') return skip(i + 1) == line_len;
    while (true) {
        if (s[i] != '"') return false;
        int kq = qs.next(i + 1);
        if (kq < 0) return false;
        const char *key = s + i + 1;
        size_t key_len = size_t(kq - i - 1);
        i = skip(kq + 1);
        if (s[i] != ':') return false;
        i = skip(i + 1);
        if (i >= line_len) return false;
        Value v;
        char c = s[i];
        if (c == '"') {
            int vq = qs.next(i + 1);
            if (vq < 0) return false;
            v = {V_STRING, s + i, s + vq + 1, 0};
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            if (!read_number(s + i, e, v)) return false;
        } else if (c == 't' && literal(s + i, e, "true", 4)) { v = {V_OTHER, s + i, s + i + 4, 0}; }
        else if (c == 'f' && literal(s + i, e, "false", 5)) { v = {V_OTHER, s + i, s + i + 5, 0}; }
        else if (c == 'n' && literal(s + i, e, "null", 4)) { v = {V_OTHER, s + i, s + i + 4, 0}; }
        else return false;
        const cs_parser::Key *ke = P->find_key(key, key_len);
        if (ke) apply(buf, ke->special, ke->fields, v, r);
        // The shape: bytes since the last value up to this one (with a string's opening quote).
        int lit_end = i + (v.kind == V_STRING ? 1 : 0);
        sh.add(s + lit, size_t(lit_end - lit), v.kind, ke ? ke->special : 0, ke ? ke->fields : 0);
        i = skip(int(v.end - s));
        lit = i;
        if (i >= line_len) return false;
        if (s[i] == ',') { i = skip(i + 1); continue; }
        if (s[i] == '}') {
            if (skip(i + 1) != line_len) return false;
            sh.finish(s + lit, size_t(line_len - lit));
            return true;
        }
        return false;
    }
}

bool parse_masked(cs_parser *P, const char *buf, size_t len, size_t at, size_t max_line, cs_record &r, size_t &next) {
    const char *s = buf + at;
    const size_t avail = len - at;
    Quotes qs;
    uint64_t bad = 0;
    size_t line_len = SIZE_MAX;
    for (int b = 0; b < kMaxBlocks && size_t(b) * 64 < avail; b++) {
        uint64_t quote, badb, nl;
        block_masks(s + 64 * b, quote, badb, nl);  // may read into the buffer's padding
        size_t remain = avail - size_t(b) * 64;
        if (remain < 64) {
            uint64_t keep = (1ull << remain) - 1;
            quote &= keep; badb &= keep; nl &= keep;
        }
        if (nl) {
            int i = __builtin_ctzll(nl);
            uint64_t keep = i == 0 ? 0 : (~0ull >> (64 - i));
            qs.m[b] = quote & keep;
            bad |= badb & keep;
            qs.blocks = b + 1;
            line_len = size_t(b) * 64 + size_t(i);
            break;
        }
        qs.m[b] = quote;
        bad |= badb;
    }
    // No newline within reach (the last line, or a long one), '\r', tabs, escapes, non-ASCII: the careful path.
    if (line_len == SIZE_MAX || bad || line_len > max_line || line_len < 2 || s[0] != '{') return false;
    reset_record(r, uint32_t(at), uint32_t(line_len));
    if (P->shape.count > 0 && walk_shape(P, buf, s, int(line_len), qs, r)) {
        next = at + line_len + 1;
        return true;
    }
    reset_record(r, uint32_t(at), uint32_t(line_len));
    if (!walk_keys(P, buf, s, int(line_len), qs, r)) return false;
    if (P->learning.ok) std::swap(P->shape, P->learning);
    next = at + line_len + 1;
    return true;
}

/// One line, whichever path answers it: the masked walk, else the careful path. The scanner calls this
/// copy's through cs_detail::line_parser, so the walk is inlined here and runs with this copy's ISA.
size_t parse_any_line(cs_parser *P, const char *buf, size_t len, size_t at, size_t max_line, cs_record &r) {
    size_t next;
    if (P->flat && parse_masked(P, buf, len, at, max_line, r, next)) return next;
    return parse_line_careful(P, buf, len, at, max_line, r);
}
