// Byte-level hints for the secret check of log lines (LineMasking.needsMasking): which of the bytes
// its patterns start with occur in a line, found in one vectorised pass instead of a memchr each.
#include "csimdjson.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

extern "C" uint32_t cs_mask_hints(const char *p, size_t n) {
    uint32_t at = 0, eq = 0, b = 0;
    size_t i = 0;
#if defined(__SSE2__)
    // `b` counts only before `e` or `a` (any case): `bearer` and `basic` are what it stands for, and
    // a lone b (`job`, `db`, `webhook`) no longer sends a line through both word searches.
    const __m128i va = _mm_set1_epi8('@'), ve = _mm_set1_epi8('='), vb = _mm_set1_epi8('b'), vle = _mm_set1_epi8('e'),
                  vla = _mm_set1_epi8('a'), fold = _mm_set1_epi8(0x20);
    __m128i a = _mm_setzero_si128(), e = _mm_setzero_si128(), bb = _mm_setzero_si128();
    for (; i + 17 <= n; i += 16) {  // never past the line: it may end a buffer without padding
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + i));
        __m128i next = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p + i + 1)), fold);
        a = _mm_or_si128(a, _mm_cmpeq_epi8(v, va));
        e = _mm_or_si128(e, _mm_cmpeq_epi8(v, ve));
        __m128i vowel = _mm_or_si128(_mm_cmpeq_epi8(next, vle), _mm_cmpeq_epi8(next, vla));
        bb = _mm_or_si128(bb, _mm_and_si128(_mm_cmpeq_epi8(_mm_or_si128(v, fold), vb), vowel));
    }
    at = _mm_movemask_epi8(a) != 0;
    eq = _mm_movemask_epi8(e) != 0;
    b = _mm_movemask_epi8(bb) != 0;
#endif
    for (; i < n; i++) {
        char c = p[i];
        at |= c == '@';
        eq |= c == '=';
        if ((c | 0x20) == 'b' && i + 1 < n) {
            char d = char(p[i + 1] | 0x20);
            b |= d == 'e' || d == 'a';
        }
    }
    return (at ? CS_HINT_AT : 0) | (eq ? CS_HINT_EQUALS : 0) | (b ? CS_HINT_B : 0);
}
