/* mixed.h — the mixed workload's CPU kernel and calibration (workloads/mixed.c),
 * for its tests. A round's CPU step is `iters` steps of a 64-bit linear congruential
 * generator (one serial multiply-add chain: nothing to vectorise or skip); the
 * expected value of the same steps is the generator's closed-form jump-ahead. */
#ifndef CB_MIXED_H
#define CB_MIXED_H

#include <stdint.h>

/* What prepare() measures once and every job and expected() read: the same count. */
typedef struct cb_mixed_prep {
  double iters_per_us;      /* median of the calibration trials */
  uint64_t iters_per_round; /* round(cpu_us x iters_per_us): the kernel's steps per round */
} cb_mixed_prep;

/* iters steps of x -> x * A + C (mod 2^64) from x, one by one. */
uint64_t cb_mixed_kernel(uint64_t x, uint64_t iters);
/* The same value in O(log iters): the affine map raised to the power iters. */
uint64_t cb_mixed_kernel_jump(uint64_t x, uint64_t iters);
/* The kernel's input in round r of job i. */
uint64_t cb_mixed_round_seed(uint64_t i, uint64_t r);

#endif
