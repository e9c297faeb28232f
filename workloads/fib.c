/* fib.c — naive doubly recursive Fibonacci: pure CPU, no memory traffic, no
 * library. The default n makes one job take about 10 ms on the reference machine. */
#include "workloads/workload.h"
#include "runtimes/loop/offload.h" /* async world: the loop model */
#include "workloads/workloads.h"

enum { P_N, P_OFFLOAD };

static const cb_param_def fib_params[] = {
    [P_N] = {"n", 32, 1, 50, "which Fibonacci number, computed by naive recursion"},
    [P_OFFLOAD] = CB_OFFLOAD_PARAM,
};

/* noinline + the volatile-free recursion keeps the compiler from turning it into
 * a loop: the point is ~1.6^n calls. */
__attribute__((noinline)) static uint64_t fib_rec(uint64_t n) {
  return n < 2 ? n : fib_rec(n - 1) + fib_rec(n - 2);
}

static int fib_job(const cb_job_env *env, uint64_t i, uint64_t *result, char err[CB_ERR_LEN]) {
  *result = fib_rec((uint64_t)env->params->v[P_N]);
  return 0;
}

static uint64_t fib_expected(const cb_job_env *env, uint64_t i) {
  uint64_t a = 0, b = 1;
  for (int64_t k = 0; k < env->params->v[P_N]; k++) {
    uint64_t t = a + b;
    a = b;
    b = t;
  }
  return a;
}

const cb_workload cb_workload_fib = {
    .name = "fib",
    .kind = CB_KIND_CPU,
    .summary = "naive recursive Fibonacci, pure CPU",
    .params = fib_params,
    .nparams = sizeof fib_params / sizeof fib_params[0],
    .job = fib_job,
    .expected = fib_expected,
    .async = &cb_offload_async_job,
};
