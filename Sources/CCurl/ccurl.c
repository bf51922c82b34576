// libcurl is loaded on first use (dlopen), not linked: its dependency closure (GnuTLS or OpenSSL,
// nghttp2, LDAP, Kerberos, libssh2, ...) cost every verb's start-up several milliseconds in the
// dynamic loader, even verbs that never make a request. Every curl_* call below goes through `api`.
#define CURL_DISABLE_TYPECHECK 1
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ccurl.h"
#ifdef __linux__
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#endif

#ifdef __APPLE__
#define LIBCURL_SONAME "libcurl.4.dylib"
#else
#define LIBCURL_SONAME "libcurl.so.4"
#endif

#define CURL_FUNCTIONS(X) \
    X(curl_global_init) X(curl_easy_init) X(curl_easy_cleanup) X(curl_easy_reset) X(curl_easy_setopt) \
    X(curl_easy_getinfo) X(curl_easy_perform) X(curl_easy_strerror) X(curl_slist_append) X(curl_slist_free_all) \
    X(curl_multi_init) X(curl_multi_cleanup) X(curl_multi_setopt) X(curl_multi_add_handle) \
    X(curl_multi_remove_handle) X(curl_multi_perform) X(curl_multi_poll) X(curl_multi_info_read) \
    X(curl_multi_wakeup) X(curl_multi_socket_action) X(curl_multi_assign)

#define API_MEMBER(name) __typeof__(&name) name;
static struct { CURL_FUNCTIONS(API_MEMBER) } api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static atomic_int loaded;
static char load_error[1024];

static void load(void) {
    // OPSCTL_LIBCURL names another libcurl (a non-standard prefix, a build with other TLS).
    const char *override = getenv("OPSCTL_LIBCURL");
    const char *name = override && *override ? override : LIBCURL_SONAME;
    void *handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        snprintf(load_error, sizeof load_error,
                 "cannot load libcurl (%s): %s; install it (Debian/Ubuntu: apt-get install libcurl4; "
                 "Fedora/RHEL: dnf install libcurl) or set OPSCTL_LIBCURL to the path of libcurl.so.4",
                 name, why ? why : "not found");
        return;
    }
#define RESOLVE(fn)                                                                                     \
    if (!(api.fn = (__typeof__(api.fn))dlsym(handle, #fn))) {                                           \
        snprintf(load_error, sizeof load_error,                                                         \
                 "the libcurl at %s has no %s: opsctl needs libcurl 7.68 or newer; install a newer "      \
                 "libcurl4 or set OPSCTL_LIBCURL to one", name, #fn);                                    \
        return;                                                                                         \
    }
    CURL_FUNCTIONS(RESOLVE)
#undef RESOLVE
    if (api.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(load_error, sizeof load_error, "libcurl (%s) failed to initialise (curl_global_init)", name);
        return;
    }
    atomic_store_explicit(&loaded, 1, memory_order_release);
}

int ccurl_global_init(void) {
    pthread_once(&load_once, load);
    return atomic_load_explicit(&loaded, memory_order_acquire) ? 0 : -1;
}

const char *ccurl_load_error(void) { return load_error; }

const char *ccurl_strerror(CURLcode code) {
    return atomic_load_explicit(&loaded, memory_order_acquire) ? api.curl_easy_strerror(code) : "libcurl is not loaded";
}

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} buffer;

struct ccurl_transfer {
    CURL *easy;
    // The request's header list: nodes and lines owned here and reused from request to request
    // (curl only reads the list), so a request costs no curl_slist_append strdup/malloc per header.
    struct curl_slist *nodes;
    size_t nodes_cap;
    buffer request_head;
    // The request body, which curl reads in place (CURLOPT_POSTFIELDS) instead of copying it per
    // request (CURLOPT_COPYPOSTFIELDS): valid until the next request set up on this transfer.
    buffer request_body;
    buffer body;
    buffer head;
    size_t max_body;
    int truncated;
    atomic_int cancelled;
    long slot;
    char errbuf[CURL_ERROR_SIZE];
};

struct ccurl_multi {
    CURLM *multi;
#ifdef __linux__
    // Event-driven (curl_multi_socket_action over epoll): curl_multi_perform visits every transfer
    // and curl_multi_poll polls every socket on each step — with 64 in flight that was a third of a
    // replay's client CPU. Here only the sockets with activity, and transfers whose timer expired, run.
    int epfd;
    int wakefd;             // eventfd: ccurl_multi_wakeup from another thread
    long long deadline_ms;  // curl's timer (CLOCK_MONOTONIC ms), -1 = none
    int running;
    // What epoll holds for each socket (by fd): nothing, a socket curl waits on, or one it no longer
    // waits on that stays registered ("parked", see on_socket).
    unsigned char *fd_state;
    int fd_cap;
#endif
};

static int buffer_reserve(buffer *b, size_t n) {
    if (n <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < n) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) return 0;
    b->data = d;
    b->cap = cap;
    return 1;
}

static int buffer_append(buffer *b, const char *p, size_t n) {
    if (!buffer_reserve(b, b->len + n + 1)) return 0;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return 1;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata) {
    ccurl_transfer *t = userdata;
    size_t n = size * nmemb;
    size_t keep = n;
    if (t->max_body && t->body.len + n > t->max_body) {
        keep = t->max_body > t->body.len ? t->max_body - t->body.len : 0;
        t->truncated = 1;
    }
    if (keep && !buffer_append(&t->body, ptr, keep)) return 0;
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata) {
    ccurl_transfer *t = userdata;
    size_t n = size * nmemb;
    // A redirect or 100-continue starts a new header block: keep only the last one.
    if (n > 5 && memcmp(ptr, "HTTP/", 5) == 0) t->head.len = 0;
    if (!buffer_append(&t->head, ptr, n)) return 0;
    return n;
}

static int on_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    (void)dltotal; (void)dlnow; (void)ultotal; (void)ulnow;
    ccurl_transfer *t = clientp;
    return atomic_load(&t->cancelled) ? 1 : 0;
}

static void install_callbacks(ccurl_transfer *t) {
    api.curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
    api.curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
    api.curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, on_header);
    api.curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
    api.curl_easy_setopt(t->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
    api.curl_easy_setopt(t->easy, CURLOPT_XFERINFODATA, t);
    api.curl_easy_setopt(t->easy, CURLOPT_NOPROGRESS, 0L);
    api.curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
    api.curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    api.curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
}

ccurl_transfer *ccurl_new(void) {
    ccurl_transfer *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    // Without libcurl the transfer has no easy handle: Swift reports the load error before using it.
    if (ccurl_global_init() != 0) return t;
    t->easy = api.curl_easy_init();
    if (!t->easy) { free(t); return NULL; }
    atomic_init(&t->cancelled, 0);
    install_callbacks(t);
    return t;
}

void ccurl_reset(ccurl_transfer *t) {
    api.curl_easy_reset(t->easy);
    t->body.len = 0;
    t->head.len = 0;
    t->truncated = 0;
    t->max_body = 0;
    t->errbuf[0] = 0;
    atomic_store(&t->cancelled, 0);
    install_callbacks(t);
}

void ccurl_reuse(ccurl_transfer *t) {
    api.curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, NULL);
    t->body.len = 0;
    t->head.len = 0;
    t->truncated = 0;
    t->errbuf[0] = 0;
    atomic_store(&t->cancelled, 0);
}

void ccurl_free(ccurl_transfer *t) {
    if (!t) return;
    if (t->easy) api.curl_easy_cleanup(t->easy);
    free(t->nodes);
    free(t->request_head.data);
    free(t->request_body.data);
    free(t->body.data);
    free(t->head.data);
    free(t);
}

CURLcode ccurl_setopt_long(ccurl_transfer *t, CURLoption opt, long value) { return api.curl_easy_setopt(t->easy, opt, value); }
CURLcode ccurl_setopt_str(ccurl_transfer *t, CURLoption opt, const char *value) { return api.curl_easy_setopt(t->easy, opt, value); }
CURLcode ccurl_setopt_off_t(ccurl_transfer *t, CURLoption opt, curl_off_t value) { return api.curl_easy_setopt(t->easy, opt, value); }

int ccurl_set_headers(ccurl_transfer *t, const char *lines, size_t len) {
    size_t count = 0;
    for (size_t i = 0; i < len; i++) count += lines[i] == 0;
    if (count == 0 || lines[len - 1] != 0) {
        api.curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, NULL);
        return count == 0;
    }
    if (count > t->nodes_cap) {
        struct curl_slist *n = realloc(t->nodes, count * sizeof *n);
        if (!n) return 0;
        t->nodes = n;
        t->nodes_cap = count;
    }
    t->request_head.len = 0;
    if (!buffer_append(&t->request_head, lines, len)) return 0;
    char *line = t->request_head.data;
    for (size_t i = 0; i < count; i++) {
        t->nodes[i].data = line;
        t->nodes[i].next = i + 1 < count ? &t->nodes[i + 1] : NULL;
        line += strlen(line) + 1;
    }
    api.curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->nodes);
    return 1;
}

CURLcode ccurl_set_body(ccurl_transfer *t, const char *data, size_t len) {
    t->request_body.len = 0;
    if (!buffer_append(&t->request_body, data ? data : "", data ? len : 0)) return CURLE_OUT_OF_MEMORY;
    // The size first: setting it after CURLOPT_POSTFIELDS would make curl drop the data pointer.
    CURLcode rc = api.curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->request_body.len);
    if (rc != CURLE_OK) return rc;
    return api.curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->request_body.data);
}

void ccurl_set_max_body(ccurl_transfer *t, size_t max) { t->max_body = max; }

CURLcode ccurl_perform(ccurl_transfer *t) {
    t->body.len = 0;
    t->head.len = 0;
    t->truncated = 0;
    t->errbuf[0] = 0;
    return api.curl_easy_perform(t->easy);
}

void ccurl_set_slot(ccurl_transfer *t, long slot) { t->slot = slot; }
long ccurl_slot(ccurl_transfer *t) { return t->slot; }

void ccurl_cancel(ccurl_transfer *t) { atomic_store(&t->cancelled, 1); }
int ccurl_was_cancelled(ccurl_transfer *t) { return atomic_load(&t->cancelled); }
int ccurl_body_truncated(ccurl_transfer *t) { return t->truncated; }

const char *ccurl_body(ccurl_transfer *t, size_t *len) { *len = t->body.len; return t->body.data ? t->body.data : ""; }
const char *ccurl_header_block(ccurl_transfer *t, size_t *len) { *len = t->head.len; return t->head.data ? t->head.data : ""; }
const char *ccurl_error_text(ccurl_transfer *t) { return t->errbuf; }

void ccurl_timings(ccurl_transfer *t, double out[5]) {
    const CURLINFO infos[5] = {CURLINFO_NAMELOOKUP_TIME, CURLINFO_CONNECT_TIME, CURLINFO_APPCONNECT_TIME,
                               CURLINFO_STARTTRANSFER_TIME, CURLINFO_TOTAL_TIME};
    for (int i = 0; i < 5; i++) {
        out[i] = 0;
        api.curl_easy_getinfo(t->easy, infos[i], &out[i]);
    }
}

long ccurl_info_long(ccurl_transfer *t, CURLINFO info) { long v = 0; api.curl_easy_getinfo(t->easy, info, &v); return v; }
double ccurl_info_double(ccurl_transfer *t, CURLINFO info) { double v = 0; api.curl_easy_getinfo(t->easy, info, &v); return v; }
curl_off_t ccurl_info_off_t(ccurl_transfer *t, CURLINFO info) { curl_off_t v = 0; api.curl_easy_getinfo(t->easy, info, &v); return v; }
const char *ccurl_info_str(ccurl_transfer *t, CURLINFO info) { char *v = NULL; api.curl_easy_getinfo(t->easy, info, &v); return v; }

int ccurl_cert_count(ccurl_transfer *t) {
    struct curl_certinfo *ci = NULL;
    if (api.curl_easy_getinfo(t->easy, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci) return 0;
    return ci->num_of_certs;
}

int ccurl_cert_field(ccurl_transfer *t, int index, const char *name, char *out, size_t outlen) {
    struct curl_certinfo *ci = NULL;
    if (api.curl_easy_getinfo(t->easy, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci) return 0;
    if (index < 0 || index >= ci->num_of_certs) return 0;
    size_t nlen = strlen(name);
    for (struct curl_slist *s = ci->certinfo[index]; s; s = s->next) {
        if (strncmp(s->data, name, nlen) == 0 && s->data[nlen] == ':') {
            const char *v = s->data + nlen + 1;
            size_t n = strlen(v);
            if (n >= outlen) n = outlen - 1;
            memcpy(out, v, n);
            out[n] = 0;
            return 1;
        }
    }
    return 0;
}

#ifdef __linux__
static long long monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum { FD_NONE = 0, FD_WATCHED = 1, FD_PARKED = 2 };

static int fd_state(ccurl_multi *m, int fd) { return fd >= 0 && fd < m->fd_cap ? m->fd_state[fd] : FD_NONE; }

static void set_fd_state(ccurl_multi *m, int fd, int state) {
    if (fd < 0) return;
    if (fd >= m->fd_cap) {
        if (state == FD_NONE) return;
        int cap = m->fd_cap ? m->fd_cap : 256;
        while (cap <= fd) cap *= 2;
        unsigned char *grown = realloc(m->fd_state, (size_t)cap);
        if (!grown) return;  // unknown reads as FD_NONE: the next ADD finds EEXIST and modifies instead
        memset(grown + m->fd_cap, FD_NONE, (size_t)(cap - m->fd_cap));
        m->fd_state = grown;
        m->fd_cap = cap;
    }
    m->fd_state[fd] = (unsigned char)state;
}

// CURLMOPT_SOCKETFUNCTION: curl says which events each socket waits for.
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
    (void)easy;
    (void)socketp;
    ccurl_multi *m = userp;
    if (what == CURL_POLL_REMOVE) {
        // curl removes a kept-alive connection's socket after every transfer and adds it back for the
        // next one on it: an EPOLL_CTL_DEL now and an ADD then, two syscalls per request. The socket is
        // parked instead (left registered) and re-armed with one MOD when curl wants it again. A parked
        // socket that reports an event is taken out then (ccurl_multi_step); one curl closes leaves the
        // epoll set by itself (and a new socket on its number is added after MOD finds no entry).
        if (fd_state(m, s) == FD_WATCHED) set_fd_state(m, s, FD_PARKED);
        return 0;
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.data.fd = s;
    if (what & CURL_POLL_IN) ev.events |= EPOLLIN;
    if (what & CURL_POLL_OUT) ev.events |= EPOLLOUT;
    int rc;
    if (fd_state(m, s) == FD_NONE) {
        rc = epoll_ctl(m->epfd, EPOLL_CTL_ADD, s, &ev);
        if (rc != 0 && errno == EEXIST) rc = epoll_ctl(m->epfd, EPOLL_CTL_MOD, s, &ev);
    } else {
        rc = epoll_ctl(m->epfd, EPOLL_CTL_MOD, s, &ev);
        if (rc != 0 && errno == ENOENT) rc = epoll_ctl(m->epfd, EPOLL_CTL_ADD, s, &ev);
    }
    set_fd_state(m, s, rc == 0 ? FD_WATCHED : FD_NONE);
    return 0;
}

// CURLMOPT_TIMERFUNCTION: when curl wants to run transfers that wait on time (and new ones: 0 ms).
static int on_timer(CURLM *multi, long timeout_ms, void *userp) {
    (void)multi;
    ccurl_multi *m = userp;
    m->deadline_ms = timeout_ms < 0 ? -1 : monotonic_ms() + timeout_ms;
    return 0;
}

static CURLMcode run_timer_if_due(ccurl_multi *m) {
    if (m->deadline_ms < 0 || monotonic_ms() < m->deadline_ms) return CURLM_OK;
    m->deadline_ms = -1;
    return api.curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &m->running);
}
#endif

ccurl_multi *ccurl_multi_new(long max_host_connections) {
    ccurl_multi *m = calloc(1, sizeof(*m));
    if (!m) return NULL;
#ifdef __linux__
    m->epfd = -1;
    m->wakefd = -1;
    m->deadline_ms = -1;
#endif
    if (ccurl_global_init() != 0) return m;
    m->multi = api.curl_multi_init();
    if (!m->multi) { free(m); return NULL; }
    if (max_host_connections > 0)
        api.curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_host_connections);
#ifdef __linux__
    m->epfd = epoll_create1(EPOLL_CLOEXEC);
    m->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m->epfd < 0 || m->wakefd < 0) {
        if (m->epfd >= 0) close(m->epfd);
        if (m->wakefd >= 0) close(m->wakefd);
        api.curl_multi_cleanup(m->multi);
        free(m);
        return NULL;
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.fd = m->wakefd;
    epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->wakefd, &ev);
    api.curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    api.curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
    api.curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    api.curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
#endif
    return m;
}

void ccurl_multi_free(ccurl_multi *m) {
    if (!m) return;
    if (m->multi) api.curl_multi_cleanup(m->multi);
#ifdef __linux__
    if (m->epfd >= 0) close(m->epfd);
    if (m->wakefd >= 0) close(m->wakefd);
    free(m->fd_state);
#endif
    free(m);
}

CURLMcode ccurl_multi_add(ccurl_multi *m, ccurl_transfer *t) {
    t->body.len = 0;
    t->head.len = 0;
    t->truncated = 0;
    t->errbuf[0] = 0;
    return api.curl_multi_add_handle(m->multi, t->easy);
}

CURLMcode ccurl_multi_remove(ccurl_multi *m, ccurl_transfer *t) { return api.curl_multi_remove_handle(m->multi, t->easy); }

#ifdef __linux__
CURLMcode ccurl_multi_step(ccurl_multi *m, int timeout_ms, int *running) {
    // Transfers added since the last step start through curl's 0 ms timer.
    CURLMcode rc = run_timer_if_due(m);
    if (rc != CURLM_OK) { *running = m->running; return rc; }
    int wait = timeout_ms;
    if (m->deadline_ms >= 0) {
        long long left = m->deadline_ms - monotonic_ms();
        if (left < wait) wait = left < 0 ? 0 : (int)left;
    }
    if (m->running == 0) wait = 0;  // nothing in flight: return at once, as curl_multi_perform did
    struct epoll_event events[64];
    int n = epoll_wait(m->epfd, events, 64, wait);
    for (int i = 0; i < n && rc == CURLM_OK; i++) {
        int fd = events[i].data.fd;
        if (fd == m->wakefd) {
            uint64_t count;
            while (read(m->wakefd, &count, sizeof count) > 0) {}
            continue;
        }
        if (fd_state(m, fd) == FD_PARKED) {
            // Activity on a connection no transfer uses (the server closed it, most likely): curl checks
            // a connection before it reuses it, so it is only taken out of the set here.
            epoll_ctl(m->epfd, EPOLL_CTL_DEL, fd, NULL);
            set_fd_state(m, fd, FD_NONE);
            continue;
        }
        int mask = 0;
        if (events[i].events & EPOLLIN) mask |= CURL_CSELECT_IN;
        if (events[i].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
        if (events[i].events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
        rc = api.curl_multi_socket_action(m->multi, fd, mask, &m->running);
    }
    if (rc == CURLM_OK) rc = run_timer_if_due(m);
    *running = m->running;
    return rc;
}
#else
CURLMcode ccurl_multi_step(ccurl_multi *m, int timeout_ms, int *running) {
    CURLMcode rc = api.curl_multi_perform(m->multi, running);
    if (rc != CURLM_OK || *running == 0) return rc;
    rc = api.curl_multi_poll(m->multi, NULL, 0, timeout_ms, NULL);
    if (rc != CURLM_OK) return rc;
    return api.curl_multi_perform(m->multi, running);
}
#endif

ccurl_transfer *ccurl_multi_next_done(ccurl_multi *m, CURLcode *result) {
    int left = 0;
    CURLMsg *msg;
    while ((msg = api.curl_multi_info_read(m->multi, &left))) {
        if (msg->msg == CURLMSG_DONE) {
            ccurl_transfer *t = NULL;
            api.curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
            *result = msg->data.result;
            return t;
        }
    }
    return NULL;
}

void ccurl_multi_wakeup(ccurl_multi *m) {
    if (!m->multi) return;
#ifdef __linux__
    uint64_t one = 1;
    ssize_t written = write(m->wakefd, &one, sizeof one);
    (void)written;
#else
    api.curl_multi_wakeup(m->multi);
#endif
}
