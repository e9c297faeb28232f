/* membw.c — memory-bound compute: each job allocates three arrays of 64-bit integers
 * (together `mb` MiB), writes them once (the touch), then runs `passes` STREAM-triad
 * sweeps, rotating which array is written: a = b + 3c, then b = c + 3a, then
 * c = a + 3b, ... Each sweep reads two arrays and writes the third (24 bytes per
 * element, STREAM's count). The result is the checksum sum_j x_j (2j + 1) mod 2^64 of
 * the array written last.
 *
 * Every array starts affine in the index (x_j = k0 + k1 j, the coefficients from the
 * job's index) and a triad keeps it so, so expected() follows the two coefficients of
 * each array through the P sweeps and sums the closed form, never touching an array:
 * a skipped or repeated sweep changes the coefficients, and one wrong element changes
 * the sum by an odd multiple of its error.
 *
 * The arrays are mapped fresh for every job (mmap, not malloc, whose reuse of freed
 * memory would spare a sequential model the page faults a concurrent one pays), so
 * every model pays the same first touch.
 *
 * The run adds gb_per_s: bytes the sweeps of all jobs moved over the job phase (the
 * allocation, touch and checksum read are inside the phase but not counted). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/clock.h"
#include "runtimes/loop/offload.h" /* async world: the loop model */
#include "runtimes/runtime.h"
#include "workloads/body.h"
#include "workloads/workload.h"
#include "workloads/workloads.h"

enum { P_MB, P_PASSES, P_OFFLOAD };

static const cb_param_def membw_params[] = {
    [P_MB] = {"mb", 64, 1, 4096, "MiB of each job's three arrays together"},
    [P_PASSES] = {"passes", 4, 1, 1000, "triad sweeps over the arrays"},
    [P_OFFLOAD] = CB_OFFLOAD_PARAM,
};

#define TRIAD_S 3u
#define SWEEP_BYTES_PER_ELEM (3u * sizeof(uint64_t))

/* Elements of each array. */
static uint64_t elems(const cb_job_env *env) {
  return (uint64_t)env->params->v[P_MB] * (1u << 20) / SWEEP_BYTES_PER_ELEM;
}

/* The initial coefficients (k0, k1) of array q of job i: x_j = k0 + k1 j. */
static void initial(uint64_t i, int q, uint64_t *k0, uint64_t *k1) {
  *k0 = cb_mix64(i * 6 + (uint64_t)q * 2 + 1);
  *k1 = cb_mix64(i * 6 + (uint64_t)q * 2 + 2);
}

/* Sweep p writes array p % 3 from the next two: x[w] = x[w+1] + 3 x[w+2]. */
static void triad(uint64_t *restrict dst, const uint64_t *restrict b, const uint64_t *restrict c, uint64_t n) {
  for (uint64_t j = 0; j < n; j++) dst[j] = b[j] + TRIAD_S * c[j];
}

static int membw_job(const cb_job_env *env, uint64_t i, uint64_t *result, char err[CB_ERR_LEN]) {
  uint64_t n = elems(env), passes = (uint64_t)env->params->v[P_PASSES];
  size_t size = n * sizeof(uint64_t);
  uint64_t *x[3] = {0};
  for (int q = 0; q < 3; q++) {
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
      int e = errno;
      for (int r = 0; r < q; r++) munmap(x[r], size);
      snprintf(err, CB_ERR_LEN, "cannot map %zu bytes: %s", size, strerror(e));
      return -ENOMEM;
    }
    x[q] = m;
    uint64_t k0, k1;
    initial(i, q, &k0, &k1);
    for (uint64_t j = 0; j < n; j++) x[q][j] = k0 + k1 * j; /* the touch */
  }
  for (uint64_t p = 0; p < passes; p++) {
    int w = (int)(p % 3);
    triad(x[w], x[(w + 1) % 3], x[(w + 2) % 3], n);
  }
  const uint64_t *last = x[(passes - 1) % 3];
  uint64_t sum = 0;
  for (uint64_t j = 0; j < n; j++) sum += last[j] * (2 * j + 1);
  for (int q = 0; q < 3; q++) munmap(x[q], size);
  *result = cb_mix64(sum);
  return 0;
}

static uint64_t membw_expected(const cb_job_env *env, uint64_t i) {
  uint64_t n = elems(env), passes = (uint64_t)env->params->v[P_PASSES];
  uint64_t k0[3], k1[3];
  for (int q = 0; q < 3; q++) initial(i, q, &k0[q], &k1[q]);
  for (uint64_t p = 0; p < passes; p++) {
    int w = (int)(p % 3), b = (w + 1) % 3, c = (w + 2) % 3;
    k0[w] = k0[b] + TRIAD_S * k0[c];
    k1[w] = k1[b] + TRIAD_S * k1[c];
  }
  int w = (int)((passes - 1) % 3);
  /* sum_{j<n} (k0 + k1 j)(2j + 1) = k0 n^2 + k1 (2 S2 + S1), S1 = sum j, S2 = sum j^2,
   * exact in 128 bits, then mod 2^64 like the job's arithmetic. */
  unsigned __int128 N = n, s1 = N * (N - 1) / 2, s2 = (N - 1) * N * (2 * N - 1) / 6;
  uint64_t sum = k0[w] * (uint64_t)(N * N) + k1[w] * (uint64_t)(2 * s2 + s1);
  return cb_mix64(sum);
}

/* The model's run, timed, plus the bandwidth figure (report->extra). */
static int membw_run(const cb_model *model, const cb_run_spec *spec, cb_run_report *report) {
  if (!model->run) return -ENOTSUP;
  int64_t t0 = cb_now_ns();
  int rc = model->run(spec, report);
  int64_t t1 = cb_now_ns();
  if (rc == 0 && t1 > t0) {
    double bytes = (double)spec->tasks * (double)spec->env->params->v[P_PASSES] * (double)elems(spec->env) *
                   SWEEP_BYTES_PER_ELEM;
    cb_report_extra(report, "gb_per_s", bytes / ((double)(t1 - t0) / 1e9) / 1e9);
  }
  return rc;
}

const cb_workload cb_workload_membw = {
    .name = "membw",
    .kind = CB_KIND_CPU,
    .summary = "memory-bound: passes STREAM-triad sweeps over the job's own mb MiB, checksum in closed form (gb_per_s)",
    .params = membw_params,
    .nparams = sizeof membw_params / sizeof membw_params[0],
    .job = membw_job,
    .expected = membw_expected,
    .async = &cb_offload_async_job,
    .run_custom = membw_run,
};
