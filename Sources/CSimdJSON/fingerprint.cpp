// The error-message fingerprint (ids, numbers, quoted values -> placeholders), in C so the scanner
// can fingerprint error lines without handing them to Swift one by one. Swift's Fingerprinter calls
// this too: one implementation, the same fingerprint on every path.
#include "csimdjson.h"

#include <cstring>

namespace {

// Byte classes, one table lookup each (the fingerprint runs on every error line).
enum : uint8_t { C_DIGIT = 1, C_WORD = 2, C_TOKEN = 4, C_PUNCT = 8, C_HEX = 16 };

struct Classes {
    uint8_t of[256] = {};
    constexpr Classes() {
        for (int c = '0'; c <= '9'; c++) of[c] = C_DIGIT | C_WORD | C_TOKEN;
        for (int c = 'A'; c <= 'Z'; c++) of[c] = C_WORD | C_TOKEN | (c <= 'F' ? C_HEX : 0);
        for (int c = 'a'; c <= 'z'; c++) of[c] = C_WORD | C_TOKEN | (c <= 'f' ? C_HEX : 0);
        of[int('_')] = C_WORD | C_TOKEN;
        of[int('.')] = of[int('-')] = of[int('@')] = of[int('+')] = C_TOKEN | C_PUNCT;
    }
};
constexpr Classes kClasses;

inline bool is_digit(uint8_t c) { return kClasses.of[c] & C_DIGIT; }
inline bool is_word(uint8_t c) { return kClasses.of[c] & C_WORD; }
inline bool is_token(uint8_t c) { return kClasses.of[c] & C_TOKEN; }
inline bool is_trailing_punct(uint8_t c) { return kClasses.of[c] & C_PUNCT; }

struct Out {
    uint8_t *p;
    size_t n;
    inline void put(uint8_t b) { p[n++] = b; }
    inline void put(const char *s, size_t k) { std::memcpy(p + n, s, k); n += k; }
};

/// The closing quote q in p[from ..< to] (a backslash skips the next byte), -1 when none.
inline long find_close(uint8_t q, const uint8_t *p, size_t from, size_t to) {
    size_t k = from;
    while (k < to) {
        if (p[k] == '\\') { k += 2; continue; }
        if (p[k] == q) return long(k);
        k++;
    }
    return -1;
}

bool is_email(const uint8_t *t, size_t n) {
    long at = -1;
    for (size_t k = 0; k < n; k++) if (t[k] == '@') at = long(k);
    if (!(at > 0 && at < long(n) - 3)) return false;
    bool dot = false;
    for (size_t k = size_t(at) + 2; k < n; k++) if (t[k] == '.') dot = true;
    return dot && t[n - 1] != '.';
}

/// t holds digits and dots only.
bool is_ipv4(const uint8_t *t, size_t n) {
    int part = 0, len = 0, parts = 0;
    for (size_t k = 0; k <= n; k++) {
        if (k == n || t[k] == '.') {
            if (!(len > 0 && len <= 3 && part <= 255)) return false;
            parts++;
            part = 0;
            len = 0;
        } else {
            part = part * 10 + int(t[k] - '0');
            len++;
        }
    }
    return parts == 4;
}

void emit_token(Out &o, const uint8_t *t, size_t n) {
    size_t digits = 0, hex_letters = 0, other_letters = 0, dots = 0, dashes = 0, ats = 0;
    for (size_t k = 0; k < n; k++) {
        uint8_t c = t[k], cls = kClasses.of[c];
        if (cls & C_DIGIT) digits++;
        else if (cls & C_HEX) hex_letters++;
        else if (c == '.') dots++;
        else if (c == '-') dashes++;
        else if (c == '@') ats++;
        else other_letters++;
    }
    // A plain word (letters only) is itself: the common case, decided without the checks below.
    if (digits == 0 && ats == 0 && dots == 0 && dashes == 0) {
        o.put(reinterpret_cast<const char *>(t), n);
        return;
    }
    if (ats == 1 && is_email(t, n)) { o.put("<email>", 7); return; }
    if (n == 36 && dashes == 4 && other_letters == 0 && dots == 0 && t[8] == '-' && t[13] == '-' && t[18] == '-' &&
        t[23] == '-') { o.put("<uuid>", 6); return; }
    if (digits > 0 && hex_letters == 0 && other_letters == 0 && dashes == 0 && ats == 0) {
        if (dots == 3 && is_ipv4(t, n)) { o.put("<ip>", 4); return; }
        if (is_digit(t[0])) { o.put("<num>", 5); return; }
    }
    if (n > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') && other_letters == 1 && dots == 0 && dashes == 0 && ats == 0) {
        o.put("<hex>", 5);
        return;
    }
    if (n >= 6 && digits > 0 && hex_letters > 0 && other_letters == 0 && dots == 0 && dashes == 0 && ats == 0) {
        o.put("<hex>", 5);
        return;
    }
    size_t k = 0;
    while (k < n) {
        if (is_digit(t[k])) {
            while (k < n && is_digit(t[k])) k++;
            // A decimal fraction belongs to the number (`1.5s` is `<num>s`).
            if (k + 1 < n && t[k] == '.' && is_digit(t[k + 1])) {
                k++;
                while (k < n && is_digit(t[k])) k++;
            }
            o.put("<num>", 5);
        } else {
            o.put(t[k]);
            k++;
        }
    }
}

}  // namespace

extern "C" uint64_t cs_fingerprint(const char *message, size_t len, uint8_t *out, size_t *out_len) {
    const uint8_t *base = reinterpret_cast<const uint8_t *>(message);
    const size_t n = len < CS_FINGERPRINT_INPUT ? len : CS_FINGERPRINT_INPUT;
    Out o{out, 0};
    size_t i = 0;
    while (i < n) {
        uint8_t b = base[i];
        if (b == '"' || b == '\'' || b == '`') {
            bool prev_is_word = i > 0 && is_word(base[i - 1]);
            if (!(b == '\'' && prev_is_word)) {
                long close = find_close(b, base, i + 1, n);
                if (close >= 0) {
                    o.put("<str>", 5);
                    i = size_t(close) + 1;
                    continue;
                }
            }
            o.put(b);
            i++;
        } else if (is_word(b)) {
            size_t j = i + 1;
            uint8_t seen = kClasses.of[b];
            while (j < n && is_token(base[j])) seen |= kClasses.of[base[j++]];
            while (j > i + 1 && is_trailing_punct(base[j - 1])) j--;
            // A plain word (no digit, no . - @ +) is itself: most tokens, copied without emit_token's count.
            if (!(seen & (C_DIGIT | C_PUNCT))) o.put(reinterpret_cast<const char *>(base + i), j - i);
            else emit_token(o, base + i, j - i);
            i = j;
        } else {
            o.put(b);
            i++;
        }
    }
    // Trailing whitespace never distinguishes two messages.
    while (o.n > 0 && (out[o.n - 1] == ' ' || out[o.n - 1] == '\t')) o.n--;
    *out_len = o.n;
    // Eight bytes a step (byte-wise FNV-1a was a multiply chain as long as the text). Deterministic, so
    // pruning and ties stay reproducible; the hash never leaves the process.
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t(o.n) * 0x9E3779B97F4A7C15ull);
    size_t k = 0;
    for (; k + 8 <= o.n; k += 8) {
        uint64_t w;
        std::memcpy(&w, out + k, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
    }
    uint64_t w = 0;
    for (size_t j = 0; k + j < o.n; j++) w |= uint64_t(out[k + j]) << (8 * j);
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
    return h ^ (h >> 29);
}
