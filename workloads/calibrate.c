/* calibrate.c — see calibrate.h. */
#include "common/check.h"
#include "common/clock.h"
#include "workloads/calibrate.h"

double cb_calibrate_per_us(void (*run)(void *arg, uint64_t iters), void *arg, uint64_t iters, int trials) {
  double rate[16];
  CB_CHECK(trials >= 1 && trials <= 16);
  for (int k = 0; k < trials; k++) {
    int64_t t0 = cb_now_ns();
    run(arg, iters);
    int64_t ns = cb_now_ns() - t0;
    rate[k] = (double)iters * 1000.0 / (double)(ns > 0 ? ns : 1);
  }
  for (int a = 1; a < trials; a++) /* insertion sort: a few values */
    for (int b = a; b > 0 && rate[b] < rate[b - 1]; b--) {
      double t = rate[b];
      rate[b] = rate[b - 1];
      rate[b - 1] = t;
    }
  return rate[trials / 2];
}
