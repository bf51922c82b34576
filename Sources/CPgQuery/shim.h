#ifndef OPSCTL_CPGQUERY_SHIM_H
#define OPSCTL_CPGQUERY_SHIM_H
#include <pg_query.h>
#endif
