// A strict, allocation-free ISO-8601 reader: the hot path of every timestamped line.
#include "csimdjson.h"

namespace {

inline bool digits(const char *s, size_t n, int &out) {
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = unsigned(s[i]) - '0';
        if (d > 9) return false;
        v = v * 10 + int(d);
    }
    out = v;
    return true;
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
inline int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = unsigned(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + int64_t(doe) - 719468;
}

}  // namespace

extern "C" size_t cs_parse_iso8601(const char *s, size_t len, int64_t *ms) {
    int y, mo, d, h, mi, sec = 0;
    if (len < 16) return 0;
    if (!digits(s, 4, y) || s[4] != '-' || !digits(s + 5, 2, mo) || s[7] != '-' || !digits(s + 8, 2, d)) return 0;
    if (s[10] != 'T' && s[10] != ' ' && s[10] != 't') return 0;
    if (!digits(s + 11, 2, h) || s[13] != ':' || !digits(s + 14, 2, mi)) return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59) return 0;
    size_t i = 16;
    int64_t frac_ms = 0;
    if (i + 3 <= len && s[i] == ':' && digits(s + i + 1, 2, sec)) {
        if (sec > 60) return 0;
        i += 3;
        if (i < len && (s[i] == '.' || s[i] == ',')) {
            size_t j = i + 1;
            int64_t scale = 100;
            while (j < len && unsigned(s[j]) - '0' <= 9) {
                frac_ms += (s[j] - '0') * scale;
                scale /= 10;
                j++;
            }
            if (j == i + 1) return 0;
            i = j;
        }
    }
    int64_t offset_min = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int oh, om = 0;
        int sign = s[i] == '-' ? -1 : 1;
        if (i + 3 <= len && digits(s + i + 1, 2, oh)) {
            size_t j = i + 3;
            if (j < len && s[j] == ':' && j + 3 <= len && digits(s + j + 1, 2, om)) j += 3;
            else if (j + 2 <= len && digits(s + j, 2, om)) j += 2;
            offset_min = sign * (oh * 60 + om);
            i = j;
        }
    }
    int64_t days = days_from_civil(y, unsigned(mo), unsigned(d));
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    *ms = secs * 1000 + frac_ms;
    return i;
}
