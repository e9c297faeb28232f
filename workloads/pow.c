/* pow.c — the seeds' cpu_bound: base ** exp as a GMP bignum (7777 ** 200000, a
 * 2.6 Mbit number, by default). The job's result is a digest of the whole number
 * (its residues modulo two primes, which read every limb); the expected digest is
 * computed independently by square-and-multiply modular exponentiation. */
#include <gmp.h>

#include "workloads/body.h"
#include "workloads/workload.h"
#include "runtimes/loop/offload.h" /* async world: the loop model */
#include "workloads/workloads.h"

enum { P_BASE, P_EXP, P_OFFLOAD };

static const cb_param_def pow_params[] = {
    [P_BASE] = {"base", 7777, 2, 1000000000, "the base"},
    [P_EXP] = {"exp", 200000, 1, 10000000, "the exponent"},
    [P_OFFLOAD] = CB_OFFLOAD_PARAM,
};

#define M1 0x1fffffffffffffffULL /* 2^61 - 1 */
#define M2 1000000007ULL

static uint64_t pow_digest(uint64_t r1, uint64_t r2) { return cb_mix64(r1 ^ cb_mix64(r2)); }

static int pow_job(const cb_job_env *env, uint64_t i, uint64_t *result, char err[CB_ERR_LEN]) {
  mpz_t r;
  mpz_init(r);
  mpz_ui_pow_ui(r, (unsigned long)env->params->v[P_BASE], (unsigned long)env->params->v[P_EXP]);
  uint64_t r1 = mpz_fdiv_ui(r, M1), r2 = mpz_fdiv_ui(r, M2);
  mpz_clear(r);
  *result = pow_digest(r1, r2);
  return 0;
}

static uint64_t modpow(uint64_t b, uint64_t e, uint64_t m) {
  unsigned __int128 acc = 1, x = b % m;
  while (e) {
    if (e & 1) acc = acc * x % m;
    x = x * x % m;
    e >>= 1;
  }
  return (uint64_t)acc;
}

static uint64_t pow_expected(const cb_job_env *env, uint64_t i) {
  uint64_t b = (uint64_t)env->params->v[P_BASE], e = (uint64_t)env->params->v[P_EXP];
  return pow_digest(modpow(b, e, M1), modpow(b, e, M2));
}

const cb_workload cb_workload_pow = {
    .name = "pow",
    .kind = CB_KIND_CPU,
    .summary = "GMP bignum base ** exp (the seeds' cpu_bound), digest verified",
    .params = pow_params,
    .nparams = sizeof pow_params / sizeof pow_params[0],
    .job = pow_job,
    .expected = pow_expected,
    .async = &cb_offload_async_job,
};
