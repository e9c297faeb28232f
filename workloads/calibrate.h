/* calibrate.h — how many iterations of a workload's CPU kernel make a microsecond
 * on this machine, for the workloads that spend "N µs of CPU" (serve, pipeline). */
#ifndef CB_CALIBRATE_H
#define CB_CALIBRATE_H

#include <stdint.h>

/* Runs run(arg, iters) `trials` times (at most 16) and returns the median rate,
 * iterations per µs: a short trial preempted by the machine counts only once. */
double cb_calibrate_per_us(void (*run)(void *arg, uint64_t iters), void *arg, uint64_t iters, int trials);

#endif
