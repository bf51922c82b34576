// libpq, loaded on first use: opsctl links no libpq at build time. Start-up of every verb paid for
// libpq's dependency closure (Kerberos, LDAP, GnuTLS, ...) in the dynamic loader even when it never
// touched a database; now only a verb that connects loads it. The PQ* functions Swift calls are
// defined in loader.c as forwarders to the library's own.
#ifndef CLIBPQ_H
#define CLIBPQ_H
#if __has_include(<postgresql/libpq-fe.h>)
#include <postgresql/libpq-fe.h>
#else
#include <libpq-fe.h>
#endif

/// Loads libpq (once; thread safe). 0 when loaded; -1 when it cannot be, and clibpq_load_error()
/// says which library is missing and which package installs it.
int clibpq_load(void);
/// Why the last clibpq_load() failed ("" when it did not).
const char *clibpq_load_error(void);

#endif
