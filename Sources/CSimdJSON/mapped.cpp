// Scanning a file mapped into memory instead of copied out of the page cache by read(2). A file
// truncated while it is mapped (logrotate's copytruncate) turns every access past its new end into
// SIGBUS; these entry points catch that fault on their own thread, inside the region they were
// given, and report where they stopped instead of letting the process die. Any other SIGBUS keeps
// its old meaning.
#include "csimdjson.h"
#include "scanner.h"

#include <atomic>
#include <csetjmp>
#include <csignal>
#include <cstring>
#include <mutex>

namespace {

struct Guard {
    sigjmp_buf jump;
    const char *lo;
    const char *hi;
};

thread_local Guard *tl_guard = nullptr;
struct sigaction previous_action;
std::once_flag installed;

void on_sigbus(int sig, siginfo_t *info, void *context) {
    Guard *g = tl_guard;
    const char *at = static_cast<const char *>(info->si_addr);
    if (g && at >= g->lo && at < g->hi) {
        tl_guard = nullptr;
        siglongjmp(g->jump, 1);
    }
    // Not a mapped log we are scanning: whatever was there before decides.
    if ((previous_action.sa_flags & SA_SIGINFO) && previous_action.sa_sigaction) {
        previous_action.sa_sigaction(sig, info, context);
        return;
    }
    if (previous_action.sa_handler != SIG_DFL && previous_action.sa_handler != SIG_IGN) {
        previous_action.sa_handler(sig);
        return;
    }
    // Default action: returning re-runs the faulting access, which now kills the process as before.
    signal(SIGBUS, SIG_DFL);
}

void install() {
    std::call_once(installed, [] {
        struct sigaction sa;
        std::memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_sigbus;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGBUS, &sa, &previous_action);
    });
}

}  // namespace

extern "C" {

int32_t cs_tally_mapped(cs_parser *p, cs_tally *t, const char *buf, size_t len, size_t *pos, cs_record *out,
                        int32_t cap, size_t max_line, int64_t window_ms, char *shadow, size_t shadow_cap,
                        int32_t *faulted) {
    install();
    *faulted = 0;
    Guard g;
    g.lo = buf;
    g.hi = buf + len + CS_PADDING;
    if (sigsetjmp(g.jump, 1) != 0) {
        // *pos is the start of the line the fault interrupted; the lines before it are counted in t
        // and the records before it (copied into shadow) are complete.
        *faulted = 1;
        return cs_detail::tally_handed_back(t);
    }
    tl_guard = &g;
    int32_t n = cs_detail::tally_lines(p, t, buf, len, pos, out, cap, max_line, window_ms, shadow, shadow_cap);
    tl_guard = nullptr;
    return n;
}

int32_t cs_mapped_find_newline(const char *base, size_t from, size_t to, size_t *found) {
    install();
    Guard g;
    g.lo = base + from;
    g.hi = base + to;
    if (sigsetjmp(g.jump, 1) != 0) return -1;
    tl_guard = &g;
    const void *nl = from < to ? std::memchr(base + from, '\n', to - from) : nullptr;
    tl_guard = nullptr;
    if (!nl) return 0;
    *found = size_t(static_cast<const char *>(nl) - base);
    return 1;
}

}  // extern "C"
