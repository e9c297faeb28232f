/* clock.h — the one clock every figure is read from. */
#ifndef CB_CLOCK_H
#define CB_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t cb_now_ns(void);

#endif
