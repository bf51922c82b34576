// Forwarders for the libpq functions opsctl uses, resolved with dlopen/dlsym on first use.
// They are hidden (not exported from the executable), so libpq's own calls never bind to them.
// The C library's headers come first: only libpq's declarations may be hidden.
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#pragma GCC visibility push(hidden)
#include "clibpq.h"
#pragma GCC visibility pop

#ifdef __APPLE__
#define LIBPQ_SONAME "libpq.5.dylib"
#else
#define LIBPQ_SONAME "libpq.so.5"
#endif

#define LIBPQ_FUNCTIONS(X) \
    X(PQbackendPID) X(PQcancel) X(PQclear) X(PQcmdStatus) X(PQcmdTuples) X(PQconnectdbParams) \
    X(PQconninfoFree) X(PQconninfoParse) X(PQenterPipelineMode) X(PQerrorMessage) X(PQexec) \
    X(PQexecParams) X(PQexitPipelineMode) X(PQfinish) X(PQfname) X(PQfreeCancel) X(PQfreemem) \
    X(PQftype) X(PQgetCancel) X(PQgetResult) X(PQgetisnull) X(PQgetvalue) X(PQnfields) X(PQntuples) \
    X(PQpipelineSync) X(PQresultErrorField) X(PQresultStatus) X(PQsendPrepare) X(PQsendQueryParams) \
    X(PQsendQueryPrepared) X(PQserverVersion) \
    X(PQsetNoticeProcessor) X(PQstatus) X(PQtransactionStatus)

#define DECLARE_POINTER(name) static __typeof__(&name) p_##name;
LIBPQ_FUNCTIONS(DECLARE_POINTER)

static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_int loaded;
static char load_error[1024];

static void load(void) {
    // OPSCTL_LIBPQ names another libpq (a newer build, a non-standard prefix).
    const char *override = getenv("OPSCTL_LIBPQ");
    const char *name = override && *override ? override : LIBPQ_SONAME;
    void *handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        snprintf(load_error, sizeof load_error,
                 "cannot load libpq, the PostgreSQL client library (%s): %s; install it (Debian/Ubuntu: "
                 "apt-get install libpq5; Fedora/RHEL: dnf install libpq; macOS: brew install libpq) or set "
                 "OPSCTL_LIBPQ to the path of libpq.so.5",
                 name, why ? why : "not found");
        return;
    }
#define RESOLVE(fn)                                                                                   \
    if (!(p_##fn = (__typeof__(p_##fn))dlsym(handle, #fn))) {                                         \
        snprintf(load_error, sizeof load_error,                                                       \
                 "the libpq at %s has no %s: opsctl needs libpq 14 or newer (pipeline mode); install " \
                 "a newer libpq5 or set OPSCTL_LIBPQ to one", name, #fn);                              \
        return;                                                                                       \
    }
    LIBPQ_FUNCTIONS(RESOLVE)
#undef RESOLVE
    atomic_store_explicit(&loaded, 1, memory_order_release);
}

int clibpq_load(void) {
    pthread_once(&once, load);
    return atomic_load_explicit(&loaded, memory_order_acquire) ? 0 : -1;
}

const char *clibpq_load_error(void) { return load_error; }

// Swift loads the library (and reports a failure as an error) before its first PQ call; this is
// the safety net for a call that did not.
static inline void require(void) {
    if (__builtin_expect(atomic_load_explicit(&loaded, memory_order_acquire), 1)) return;
    if (clibpq_load() != 0) {
        fprintf(stderr, "opsctl: %s\n", load_error);
        exit(1);
    }
}

int PQbackendPID(const PGconn *conn) { require(); return p_PQbackendPID(conn); }
int PQcancel(PGcancel *cancel, char *errbuf, int errbufsize) { require(); return p_PQcancel(cancel, errbuf, errbufsize); }
void PQclear(PGresult *res) { require(); p_PQclear(res); }
char *PQcmdStatus(PGresult *res) { require(); return p_PQcmdStatus(res); }
char *PQcmdTuples(PGresult *res) { require(); return p_PQcmdTuples(res); }
PGconn *PQconnectdbParams(const char *const *keywords, const char *const *values, int expand_dbname) {
    require(); return p_PQconnectdbParams(keywords, values, expand_dbname);
}
void PQconninfoFree(PQconninfoOption *options) { require(); p_PQconninfoFree(options); }
PQconninfoOption *PQconninfoParse(const char *conninfo, char **errmsg) { require(); return p_PQconninfoParse(conninfo, errmsg); }
int PQenterPipelineMode(PGconn *conn) { require(); return p_PQenterPipelineMode(conn); }
char *PQerrorMessage(const PGconn *conn) { require(); return p_PQerrorMessage(conn); }
PGresult *PQexec(PGconn *conn, const char *query) { require(); return p_PQexec(conn, query); }
PGresult *PQexecParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
                              const char *const *paramValues, const int *paramLengths, const int *paramFormats,
                              int resultFormat) {
    require();
    return p_PQexecParams(conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat);
}
int PQexitPipelineMode(PGconn *conn) { require(); return p_PQexitPipelineMode(conn); }
void PQfinish(PGconn *conn) { require(); p_PQfinish(conn); }
char *PQfname(const PGresult *res, int field_num) { require(); return p_PQfname(res, field_num); }
void PQfreeCancel(PGcancel *cancel) { require(); p_PQfreeCancel(cancel); }
void PQfreemem(void *ptr) { require(); p_PQfreemem(ptr); }
Oid PQftype(const PGresult *res, int field_num) { require(); return p_PQftype(res, field_num); }
PGcancel *PQgetCancel(PGconn *conn) { require(); return p_PQgetCancel(conn); }
PGresult *PQgetResult(PGconn *conn) { require(); return p_PQgetResult(conn); }
int PQgetisnull(const PGresult *res, int tup_num, int field_num) { require(); return p_PQgetisnull(res, tup_num, field_num); }
char *PQgetvalue(const PGresult *res, int tup_num, int field_num) { require(); return p_PQgetvalue(res, tup_num, field_num); }
int PQnfields(const PGresult *res) { require(); return p_PQnfields(res); }
int PQntuples(const PGresult *res) { require(); return p_PQntuples(res); }
int PQpipelineSync(PGconn *conn) { require(); return p_PQpipelineSync(conn); }
char *PQresultErrorField(const PGresult *res, int fieldcode) { require(); return p_PQresultErrorField(res, fieldcode); }
ExecStatusType PQresultStatus(const PGresult *res) { require(); return p_PQresultStatus(res); }
int PQsendQueryParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
                             const char *const *paramValues, const int *paramLengths, const int *paramFormats,
                             int resultFormat) {
    require();
    return p_PQsendQueryParams(conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat);
}
int PQsendPrepare(PGconn *conn, const char *stmtName, const char *query, int nParams, const Oid *paramTypes) {
    require();
    return p_PQsendPrepare(conn, stmtName, query, nParams, paramTypes);
}
int PQsendQueryPrepared(PGconn *conn, const char *stmtName, int nParams, const char *const *paramValues,
                        const int *paramLengths, const int *paramFormats, int resultFormat) {
    require();
    return p_PQsendQueryPrepared(conn, stmtName, nParams, paramValues, paramLengths, paramFormats, resultFormat);
}
int PQserverVersion(const PGconn *conn) { require(); return p_PQserverVersion(conn); }
PQnoticeProcessor PQsetNoticeProcessor(PGconn *conn, PQnoticeProcessor proc, void *arg) {
    require(); return p_PQsetNoticeProcessor(conn, proc, arg);
}
ConnStatusType PQstatus(const PGconn *conn) { require(); return p_PQstatus(conn); }
PGTransactionStatusType PQtransactionStatus(const PGconn *conn) { require(); return p_PQtransactionStatus(conn); }
