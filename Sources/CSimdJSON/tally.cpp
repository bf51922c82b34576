// Counting in the scanner: most lines of a log answer only "how many, when, which level, which
// group, how slow", which needs no trip through Swift per line. cs_tally_lines counts those here
// and hands back only the lines that need more (fingerprints, unparsed lines, odd latencies).
#include "csimdjson.h"
#include "scanner.h"

#include <atomic>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

namespace {

/// Per call: beyond these the call returns early so the caller drains what it counted.
constexpr size_t kGroupLimit = 4096;
constexpr size_t kSlots = 8192;  // a power of two, at least twice kGroupLimit
constexpr size_t kRunLimit = 8192;
constexpr size_t kOtherLimit = 8192;
constexpr size_t kFingerprintLimit = 2048;
constexpr size_t kFingerprintSlots = 4096;  // a power of two, at least twice kFingerprintLimit
/// Group values are cut to their head (as ScanState.groupValueBytes).
constexpr size_t kGroupValueBytes = 256;

struct Group {
    uint64_t hash;
    uint32_t slot;
    uint32_t key_off, key_len;
    uint32_t first_off, first_len;
    int64_t count, errors;
    double latency_sum;
    int64_t latency_count;
    int32_t needs_masking;
};

struct Fingerprint {
    uint64_t hash;
    uint32_t slot;
    uint32_t text_off, text_len;
    uint32_t example_off, example_len;
    uint32_t line_off;
    uint8_t level;
    int64_t count, first, last;
};

inline uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        std::memcpy(&w, s + i, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
    }
    uint64_t w = 0;
    if (i < n && n >= 8) {
        std::memcpy(&w, s + n - 8, 8);  // the last eight bytes, overlapping the ones hashed already
    } else {
        for (size_t k = 0; i + k < n; k++) w |= uint64_t(uint8_t(s[i + k])) << (8 * k);
    }
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
    return h ^ (h >> 29);
}

/// Equal n-byte keys; 8 to 16 bytes (routes, event types) in two overlapping loads, not a call.
inline bool same_key(const char *a, const char *b, size_t n) {
    if (n < 8 || n > 16) return n == 0 || std::memcmp(a, b, n) == 0;
    uint64_t x0, y0, x1, y1;
    std::memcpy(&x0, a, 8); std::memcpy(&y0, b, 8);
    std::memcpy(&x1, a + n - 8, 8); std::memcpy(&y1, b + n - 8, 8);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
}

inline int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

}  // namespace

struct cs_tally {
    cs_tally_config cfg;
    cs_tally_totals totals;
    int64_t levels[256];
    std::vector<cs_window_run> runs;
    int64_t run_from = 0;  // start of the last run's window
    std::vector<Group> groups;
    std::vector<int32_t> slots;
    std::string keys;
    std::vector<double> other;
    std::vector<uint64_t> dense;
    int32_t handed = 0;  // records handed back so far by the current call
    std::vector<Fingerprint> fingerprints;
    std::vector<int32_t> fingerprint_slots;
    std::string fingerprint_bytes;  // texts and example heads of the call's fingerprints
    uint8_t scratch[CS_FINGERPRINT_CAPACITY];

    void start_call() {
        totals = {0, 0, 0, INT64_MAX, INT64_MIN};
        std::memset(levels, 0, sizeof levels);
        runs.clear();
        for (const Group &g : groups) slots[g.slot] = -1;  // only the used slots: a call stays cheap
        groups.clear();
        keys.clear();
        other.clear();
        for (const Fingerprint &f : fingerprints) fingerprint_slots[f.slot] = -1;
        fingerprints.clear();
        fingerprint_bytes.clear();
    }

    /// Fingerprints an error line that needs no masking and counts it; false hands the line back
    /// (no masker, or the line or its unescaped message needs masking: Swift masks it first).
    bool count_fingerprint(const cs_parser *p, const char *buf, const cs_record &r) {
        if (!cfg.masker) return false;
        const char *line = buf + r.line_off;
        if (cs_needs_masking(cfg.masker, line, r.line_len)) return false;
        const char *msg = line;
        size_t msg_len = r.line_len;
        if (r.msg.len != CS_ABSENT_LEN) {
            msg = cs_detail::span_bytes(p, buf, r.msg);
            msg_len = r.msg.len;
            // An unescaped message (in the arena) may hold bytes the line spelled as escapes.
            if ((r.msg.off & CS_ARENA_BIT) && cs_needs_masking(cfg.masker, msg, msg_len)) return false;
        }
        size_t n = 0;
        const uint64_t h = cs_fingerprint(msg, msg_len, scratch, &n);
        size_t i = h & (kFingerprintSlots - 1);
        while (true) {
            int32_t s = fingerprint_slots[i];
            if (s < 0) break;
            Fingerprint &f = fingerprints[size_t(s)];
            if (f.hash == h) {  // keyed by the hash, as ScanState's table is
                f.count++;
                if (r.level > f.level) f.level = r.level;
                if (r.time_ms != CS_NO_TIME) {
                    if (r.time_ms < f.first) f.first = r.time_ms;
                    if (r.time_ms > f.last) f.last = r.time_ms;
                }
                return true;
            }
            i = (i + 1) & (kFingerprintSlots - 1);
        }
        fingerprint_slots[i] = int32_t(fingerprints.size());
        const size_t example_len = r.line_len < CS_EXAMPLE_BYTES ? r.line_len : CS_EXAMPLE_BYTES;
        Fingerprint f{h, uint32_t(i), uint32_t(fingerprint_bytes.size()), uint32_t(n),
                      uint32_t(fingerprint_bytes.size() + n), uint32_t(example_len), r.line_off, r.level, 1,
                      r.time_ms == CS_NO_TIME ? INT64_MAX : r.time_ms, r.time_ms};
        fingerprint_bytes.append(reinterpret_cast<const char *>(scratch), n);
        fingerprint_bytes.append(line, example_len);
        fingerprints.push_back(f);
        return true;
    }

    void count_group(const char *v, size_t n, const char *line, const cs_record &r, bool error, bool has_latency,
                     double latency) {
        if (n > kGroupValueBytes) n = kGroupValueBytes;
        uint64_t h = hash_bytes(v, n);
        size_t i = h & (kSlots - 1);
        while (true) {
            int32_t s = slots[i];
            if (s < 0) break;
            Group &g = groups[size_t(s)];
            if (g.hash == h && g.key_len == n && same_key(keys.data() + g.key_off, v, n)) {
                g.count++;
                if (error) g.errors++;
                if (has_latency) { g.latency_sum += latency; g.latency_count++; }
                return;
            }
            i = (i + 1) & (kSlots - 1);
        }
        slots[i] = int32_t(groups.size());
        // A value cut from a line holding a secret may be a piece of it: the line is checked here,
        // while its bytes are at hand.
        int32_t masking = cfg.masker ? cs_needs_masking(cfg.masker, line, r.line_len) : -1;
        Group g{h, uint32_t(i), uint32_t(keys.size()), uint32_t(n), r.line_off, r.line_len, 1, error ? 1 : 0,
                has_latency ? latency : 0.0, has_latency ? 1 : 0, masking};
        keys.append(v, n);
        groups.push_back(g);
    }
};

extern "C" {

cs_tally *cs_tally_new(const cs_tally_config *config) {
    auto *t = new (std::nothrow) cs_tally();
    if (!t) return nullptr;
    t->cfg = *config;
    t->slots.assign(kSlots, -1);
    t->groups.reserve(kGroupLimit);
    t->fingerprint_slots.assign(kFingerprintSlots, -1);
    t->fingerprints.reserve(kFingerprintLimit);
    t->start_call();
    return t;
}

void cs_tally_free(cs_tally *t) { delete t; }

int32_t cs_tally_lines(cs_parser *p, cs_tally *t, const char *buf, size_t len, size_t *pos,
                       cs_record *out, int32_t cap, size_t max_line, int64_t window_ms) {
    return cs_detail::tally_lines(p, t, buf, len, pos, out, cap, max_line, window_ms, nullptr, 0);
}

}  // extern "C"

namespace cs_detail {

int32_t tally_handed_back(const cs_tally *t) { return t->handed; }

int32_t tally_lines(cs_parser *p, cs_tally *t, const char *buf, size_t len, size_t *pos, cs_record *out, int32_t cap,
                    size_t max_line, int64_t window_ms, char *shadow, size_t shadow_cap) {
    cs_detail::clear_arena(p);
    t->start_call();
    const cs_tally_config &c = t->cfg;
    if (window_ms <= 0) window_ms = 1000;
    const int gi = c.group_index, li = c.latency_index;
    int32_t n = 0;
    t->handed = 0;
    size_t at = *pos;
    const cs_detail::line_parser_fn parse_line = cs_detail::line_parser(p);
    cs_record r;
    // A line handed back from a mapped buffer is copied into shadow at the same offset: the caller
    // reads it there, never in the mapping (which a truncation may have taken away by then).
    auto hand_back = [&]() {
        if (shadow) {
            size_t keep = r.line_off < shadow_cap ? shadow_cap - r.line_off : 0;
            if (r.line_len > keep) r.line_len = uint32_t(keep);
            std::memcpy(shadow + r.line_off, buf + r.line_off, r.line_len);
        }
        out[n++] = r;
    };
    while (at < len && n < cap && t->groups.size() < kGroupLimit && t->runs.size() < kRunLimit &&
           t->other.size() < kOtherLimit && t->fingerprints.size() < kFingerprintLimit) {
        // Progress as a SIGBUS guard sees it (cs_tally_mapped): everything before `at` is done.
        std::atomic_signal_fence(std::memory_order_seq_cst);
        *static_cast<volatile size_t *>(pos) = at;
        *static_cast<volatile int32_t *>(&t->handed) = n;
        std::atomic_signal_fence(std::memory_order_seq_cst);
        at = parse_line(p, buf, len, at, max_line, r);
        if (r.status == CS_EMPTY) continue;
        if (r.status != CS_OK) { hand_back(); continue; }
        // The same filters, in the same order, as ScanState.consume.
        if ((c.filters_time && (r.time_ms == CS_NO_TIME || r.time_ms < c.from_ms || r.time_ms >= c.to_ms)) ||
            r.level < c.min_level) {
            t->totals.lines++;
            t->totals.filtered++;
            continue;
        }
        if (li >= 0 && r.field_kind[li] == CS_KIND_STRING) { hand_back(); continue; }
        if (r.level >= c.record_level && !t->count_fingerprint(p, buf, r)) { hand_back(); continue; }
        t->totals.lines++;
        t->totals.matched++;
        t->levels[r.level]++;
        const bool error = r.level >= 50;
        if (r.time_ms != CS_NO_TIME) {
            if (r.time_ms < t->totals.min_time) t->totals.min_time = r.time_ms;
            if (r.time_ms > t->totals.max_time) t->totals.max_time = r.time_ms;
            // Still in the current run's window (no division: it is slow and lines come in order)?
            if (!t->runs.empty() && r.time_ms >= t->run_from && r.time_ms - t->run_from < window_ms) {
                cs_window_run &run = t->runs.back();
                run.count++;
                if (error) run.errors++;
            } else {
                t->runs.push_back({r.time_ms, 1, error ? 1 : 0});
                t->run_from = floor_div(r.time_ms, window_ms) * window_ms;
            }
        }
        const bool has_latency = li >= 0 && r.field_kind[li] == CS_KIND_NUMBER;
        const double latency = has_latency ? r.field_num[li] : 0.0;
        if (gi >= 0 && r.field_kind[gi] != CS_KIND_ABSENT) {
            t->count_group(cs_detail::span_bytes(p, buf, r.field[gi]), r.field[gi].len, buf + r.line_off, r, error,
                           has_latency, latency);
        }
        if (has_latency) {
            if (latency >= 0 && latency < double(CS_DENSE_LATENCY) && latency == double(int64_t(latency))) {
                if (t->dense.empty()) t->dense.assign(CS_DENSE_LATENCY, 0);
                t->dense[size_t(latency)]++;
            } else {
                t->other.push_back(latency);
            }
        }
    }
    *pos = at;
    t->handed = n;
    return n;
}

}  // namespace cs_detail

extern "C" {

void cs_tally_totals_of(const cs_tally *t, cs_tally_totals *out) { *out = t->totals; }

const int64_t *cs_tally_levels(const cs_tally *t) { return t->levels; }

const cs_window_run *cs_tally_runs(const cs_tally *t, int32_t *count) {
    *count = int32_t(t->runs.size());
    return t->runs.data();
}

int32_t cs_tally_group_count(const cs_tally *t) { return int32_t(t->groups.size()); }

void cs_tally_group(const cs_tally *t, int32_t i, cs_group_count *out) {
    const Group &g = t->groups[size_t(i)];
    *out = {t->keys.data() + g.key_off, g.key_len, g.first_off, g.first_len, g.count, g.errors, g.latency_sum,
            g.latency_count, g.needs_masking};
}

int32_t cs_tally_fingerprint_count(const cs_tally *t) { return int32_t(t->fingerprints.size()); }

void cs_tally_fingerprint(const cs_tally *t, int32_t i, cs_fingerprint_count *out) {
    const Fingerprint &f = t->fingerprints[size_t(i)];
    const auto *bytes = reinterpret_cast<const uint8_t *>(t->fingerprint_bytes.data());
    *out = {f.hash, bytes + f.text_off, f.text_len, f.line_off, bytes + f.example_off, f.example_len, f.level,
            f.count, f.first, f.last};
}

const double *cs_tally_other_latencies(const cs_tally *t, int32_t *count) {
    *count = int32_t(t->other.size());
    return t->other.data();
}

const uint64_t *cs_tally_dense_latencies(const cs_tally *t) { return t->dense.empty() ? nullptr : t->dense.data(); }

}  // extern "C"
