/* check.h — invariants that must hold in every build (they survive NDEBUG).
 * A broken invariant is a bug: report file:line and the expression, then abort. */
#ifndef CB_CHECK_H
#define CB_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CB_CHECK(expr)                                                            \
  do {                                                                            \
    if (__builtin_expect(!(expr), 0)) {                                           \
      fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #expr); \
      abort();                                                                    \
    }                                                                             \
  } while (0)

#endif
