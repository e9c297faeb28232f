/* clock.c — see clock.h. */
#include <time.h>

#include "common/check.h"
#include "common/clock.h"

int64_t cb_now_ns(void) {
  struct timespec ts;
  CB_CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
