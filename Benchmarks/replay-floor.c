// The floor of opsctl's replay client on this machine (Benchmarks/replay.sh, diagnostic): opsctl's own HTTP layer
// (Sources/CCurl: libcurl's multi interface over epoll, pooled handles, headers and body set in place) sending
// pre-signed events with the options and headers `opsctl replay` sets, and nothing else: no database, no signing,
// no Swift. What opsctl's client spends per event beyond this is its own send loop, signatures and bookkeeping;
// what this spends beyond wrk is the cost of speaking HTTP through libcurl, which the design card prescribes.
//
//   replay-floor FILE URL CONCURRENCY
// FILE: one event per line, "signature<TAB>timestamp<TAB>body" (replay.sh's signed TSV). Prints one line:
// "FLOOR sent=N ok=N non2xx=N failed=N". Exit status 1 when any request failed or was refused.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ccurl.h"

typedef struct {
    char *headers;  // NUL-terminated "Name: value" lines, as ccurl_set_headers takes them
    size_t headers_len;
    char *body;
    size_t body_len;
} request;

static request *read_requests(const char *path, size_t *count) {
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(2); }
    size_t cap = 1024, n = 0;
    request *list = malloc(cap * sizeof *list);
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    while ((len = getline(&line, &line_cap, f)) > 0) {
        if (line[len - 1] == '\n') line[--len] = 0;
        char *sig = line, *ts = strchr(sig, '\t');
        if (!ts) continue;
        *ts++ = 0;
        char *body = strchr(ts, '\t');
        if (!body) continue;
        *body++ = 0;
        if (n == cap) list = realloc(list, (cap *= 2) * sizeof *list);
        // The headers `opsctl replay` sends for a whop event (WebhookSigner, ReplayDelivery.request).
        char head[512];
        int h = snprintf(head, sizeof head, "x-whop-signature: %s%cx-whop-timestamp: %s%cContent-Type: application/json%c"
                         "X-Opsctl-Replay: rp-20261130-120000-floor%c", sig, 0, ts, 0, 0, 0);
        list[n].headers = malloc((size_t)h);
        memcpy(list[n].headers, head, (size_t)h);
        list[n].headers_len = (size_t)h;
        list[n].body_len = strlen(body);
        list[n].body = strdup(body);
        n++;
    }
    free(line);
    fclose(f);
    *count = n;
    return list;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: replay-floor FILE URL CONCURRENCY\n"); return 2; }
    size_t total = 0;
    request *requests = read_requests(argv[1], &total);
    const char *url = argv[2];
    int concurrency = atoi(argv[3]);
    if (concurrency < 1) concurrency = 1;
    if (ccurl_global_init() != 0) { fprintf(stderr, "%s\n", ccurl_load_error()); return 2; }
    ccurl_multi *multi = ccurl_multi_new(concurrency);
    ccurl_transfer **idle = malloc((size_t)concurrency * sizeof *idle);
    int idle_count = 0;
    for (int i = 0; i < concurrency; i++) {
        // Set up once, as MultiClient sets up a handle for a request shape (HTTPClient.configure).
        ccurl_transfer *t = ccurl_new();
        ccurl_setopt_str(t, CURLOPT_URL, url);
        ccurl_setopt_long(t, CURLOPT_TIMEOUT_MS, 30000);
        ccurl_setopt_long(t, CURLOPT_CONNECTTIMEOUT_MS, 5000);
        ccurl_setopt_long(t, CURLOPT_FOLLOWLOCATION, 0);
        ccurl_setopt_long(t, CURLOPT_SSL_VERIFYPEER, 1);
        ccurl_setopt_long(t, CURLOPT_SSL_VERIFYHOST, 2);
        ccurl_setopt_long(t, CURLOPT_CERTINFO, 0);
        ccurl_setopt_str(t, CURLOPT_USERAGENT, "opsctl/0.1.0");
        ccurl_setopt_str(t, CURLOPT_ACCEPT_ENCODING, "");
        ccurl_set_max_body(t, 1 << 20);
        ccurl_setopt_long(t, CURLOPT_POST, 1);
        idle[idle_count++] = t;
    }
    size_t next = 0, ok = 0, non2xx = 0, failed = 0, in_flight = 0;
    int running = 0;
    while (next < total || in_flight > 0) {
        while (next < total && idle_count > 0) {
            ccurl_transfer *t = idle[--idle_count];
            ccurl_reuse(t);
            ccurl_set_headers(t, requests[next].headers, requests[next].headers_len);
            ccurl_set_body(t, requests[next].body, requests[next].body_len);
            if (ccurl_multi_add(multi, t) != CURLM_OK) { failed++; idle[idle_count++] = t; next++; continue; }
            next++;
            in_flight++;
        }
        ccurl_multi_step(multi, 100, &running);
        CURLcode code = CURLE_OK;
        ccurl_transfer *t;
        while ((t = ccurl_multi_next_done(multi, &code))) {
            ccurl_multi_remove(multi, t);
            in_flight--;
            long status = ccurl_info_long(t, CURLINFO_RESPONSE_CODE);
            if (code != CURLE_OK) failed++;
            else if (status >= 200 && status < 300) ok++;
            else non2xx++;
            idle[idle_count++] = t;
        }
    }
    printf("FLOOR sent=%zu ok=%zu non2xx=%zu failed=%zu\n", total, ok, non2xx, failed);
    return failed || non2xx ? 1 : 0;
}
