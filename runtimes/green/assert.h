/* assert.h — an assert that survives NDEBUG (DESIGN.md convention 6). */
#ifndef CB_GREEN_ASSERT_H
#define CB_GREEN_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define CB_ASSERT(cond)                                                            \
  do {                                                                             \
    if (__builtin_expect(!(cond), 0)) {                                            \
      fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                     \
    }                                                                              \
  } while (0)

#endif
