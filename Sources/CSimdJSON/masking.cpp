// Does a log line need the (slow, String-based) secret masker? Registered secret values, URL
// userinfo (`://`), credential assignments (`token=`, `password =`) and auth headers (`Bearer `,
// `Basic `). In C so the scanner decides for error lines without a trip through Swift; Swift's
// LineMasking.needsMasking calls the same function.
#include "csimdjson.h"

#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <new>
#include <string>
#include <vector>

struct cs_masker {
    std::vector<std::string> secrets;
};

namespace {

inline uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? uint8_t(c + 32) : c; }

/// After a credential word: more name characters, then `=` (`token=`, `api_key_v2=`, `password =`).
inline bool is_assignment(const uint8_t *h, size_t n, size_t i) {
    for (; i < n; i++) {
        uint8_t c = h[i];
        if (c == '=') return true;
        bool name = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '-' ||
                    c == '.' || c == ' ';
        if (!name) return false;
    }
    return false;
}

inline bool followed_by_space(const uint8_t *h, size_t n, size_t i) { return i < n && h[i] == ' '; }

/// An ASCII case-insensitive occurrence of `needle` (lower case) after which `check` holds.
/// Candidates (the first byte, either case) are found sixteen bytes at a time.
template <typename Check>
bool contains(const uint8_t *h, size_t n, const char *needle, Check check) {
    const size_t m = std::strlen(needle);
    if (m > n) return false;
    const uint8_t first = uint8_t(needle[0]);
    const bool letter = first >= 'a' && first <= 'z';
    const size_t last = n - m;  // candidate starts: 0 ... last
    auto matches_at = [&](size_t i) {
        size_t k = 1;
        while (k < m && lower(h[i + k]) == uint8_t(needle[k])) k++;
        return k == m && check(h, n, i + m);
    };
    size_t base = 0;
#if defined(__SSE2__)
    const __m128i want = _mm_set1_epi8(char(first)), fold = _mm_set1_epi8(letter ? 0x20 : 0);
    for (; base + 16 <= n && base <= last; base += 16) {  // never past the line
        __m128i v = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i *>(h + base)), fold);
        unsigned mask = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v, want)));
        while (mask) {
            size_t i = base + size_t(__builtin_ctz(mask));
            mask &= mask - 1;
            if (i > last) return false;
            if (matches_at(i)) return true;
        }
    }
#endif
    for (size_t i = base; i <= last; i++) {
        if (lower(h[i]) == first && matches_at(i)) return true;
    }
    return false;
}

const char *const kPatternWords[] = {"pass", "token", "key", "secret", "sig", "auth", "credential"};
const char *const kHeaderWords[] = {"bearer", "basic"};

}  // namespace

extern "C" {

cs_masker *cs_masker_new(const char *const *secrets, const size_t *lengths, int32_t count) {
    auto *m = new (std::nothrow) cs_masker();
    if (!m) return nullptr;
    for (int32_t i = 0; i < count; i++) {
        if (lengths[i] > 0) m->secrets.emplace_back(secrets[i], lengths[i]);
    }
    return m;
}

void cs_masker_free(cs_masker *m) { delete m; }

int32_t cs_needs_masking(const cs_masker *m, const char *p, size_t n) {
    if (!p || n == 0) return 0;
    for (const std::string &s : m->secrets) {
        if (s.size() <= n && memmem(p, n, s.data(), s.size()) != nullptr) return 1;
    }
    const auto *h = reinterpret_cast<const uint8_t *>(p);
    // One vectorised pass says which patterns can match at all (most lines: none).
    const uint32_t hints = cs_mask_hints(p, n);
    auto any = [](const uint8_t *, size_t, size_t) { return true; };
    if ((hints & CS_HINT_AT) && contains(h, n, "://", any)) return 1;
    if (hints & CS_HINT_EQUALS) {
        for (const char *w : kPatternWords) {
            if (contains(h, n, w, is_assignment)) return 1;
        }
    }
    if (!(hints & CS_HINT_B)) return 0;
    for (const char *w : kHeaderWords) {
        if (contains(h, n, w, followed_by_space)) return 1;
    }
    return 0;
}

}  // extern "C"
