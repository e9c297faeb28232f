/* mixed.c — the job that alternates computing and waiting, the shape `concbench
 * advise` reasons about: `rounds` times, `cpu_us` of CPU (a calibrated kernel whose
 * result is checked), then a wait of `io_ms` (one delayd GET, or a nanosleep with
 * io=sleep).
 *
 * The CPU step is a serial LCG chain (mixed.h) of iters_per_round steps; prepare()
 * calibrates the steps per CPU microsecond once (median of 5 trials of ~3 ms, timed
 * by the thread's CPU clock, so a preempted trial does not count) and keeps the
 * count in env->prepared, so the job and expected() use the same one. The job's
 * result folds every round's kernel value and, with io=delayd, the digest of every
 * body (checked byte for byte as it streams in); expected() recomputes each kernel
 * value by the generator's closed-form jump-ahead and each body digest from its seed.
 *
 * Loop model: a coroutine runs each round's CPU step on the executor (the default)
 * or inline on the loop thread (offload=inline: blocking the loop is the honest
 * cost), then awaits the fetch or the timer. Everywhere else the sync-world job
 * runs (green: the CPU step holds its one scheduler). */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/check.h"
#include "common/clock.h"
#include "runtimes/loop/fetch.h"
#include "runtimes/loop/offload.h" /* async world: the loop model */
#include "workloads/body.h"
#include "workloads/http_easy.h"
#include "workloads/http_seed.h"
#include "workloads/mixed.h"
#include "workloads/workload.h"
#include "workloads/sleep.h"
#include "workloads/workloads.h"

enum { P_ROUNDS, P_CPU_US, P_IO_MS, P_IO, P_OFFLOAD };
enum { IO_DELAYD, IO_SLEEP };

static const char *const io_choices[] = {"delayd", "sleep", NULL};

static const cb_param_def mixed_params[] = {
    [P_ROUNDS] = {"rounds", 10, 1, 100000, "CPU-then-wait rounds per job"},
    [P_CPU_US] = {"cpu_us", 1000, 0, 10000000, "microseconds of CPU per round (calibrated kernel)"},
    [P_IO_MS] = {"io_ms", 10, 0, 600000, "milliseconds of waiting per round"},
    [P_IO] = {"io", IO_DELAYD, 0, 1, "how a round waits: a delayd GET, or nanosleep", io_choices},
    [P_OFFLOAD] = CB_OFFLOAD_PARAM,
};

/* Body bytes of each round's delayd reply: small, the wait is the point. */
#define MIXED_BYTES 256

/* Knuth's MMIX LCG. */
#define LCG_A 6364136223846793005ULL
#define LCG_C 1442695040888963407ULL

uint64_t cb_mixed_kernel(uint64_t x, uint64_t iters) {
  for (uint64_t k = 0; k < iters; k++) x = x * LCG_A + LCG_C;
  return x;
}

/* x -> a x + c composed with itself: (a, c) -> (a^2, a c + c). */
uint64_t cb_mixed_kernel_jump(uint64_t x, uint64_t iters) {
  uint64_t a = LCG_A, c = LCG_C, acc_a = 1, acc_c = 0;
  while (iters) {
    if (iters & 1) {
      acc_a *= a;
      acc_c = acc_c * a + c;
    }
    c = c * a + c;
    a *= a;
    iters >>= 1;
  }
  return acc_a * x + acc_c;
}

uint64_t cb_mixed_round_seed(uint64_t i, uint64_t r) { return cb_mix64((i << 20) ^ (r + 1) ^ 0x6d69786564ULL); }

/* ---- calibration ---- */
#define CAL_ITERS (1u << 21)
#define CAL_TRIALS 5

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The calling thread's CPU time: a trial preempted by another process (a busy
 * machine) still measures the kernel's own speed, not a share of the core. */
static int64_t thread_cpu_ns(void) {
  struct timespec ts;
  CB_CHECK(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int mixed_prepare(cb_job_env *env, char err[CB_ERR_LEN]) {
  cb_mixed_prep *p = calloc(1, sizeof *p);
  if (!p) {
    snprintf(err, CB_ERR_LEN, "out of memory");
    return -ENOMEM;
  }
  double rate[CAL_TRIALS];
  volatile uint64_t sink = 0;
  for (int t = 0; t < CAL_TRIALS; t++) {
    int64_t t0 = thread_cpu_ns();
    sink += cb_mixed_kernel((uint64_t)t + sink, CAL_ITERS);
    int64_t dt = thread_cpu_ns() - t0;
    rate[t] = CAL_ITERS / ((dt > 0 ? dt : 1) / 1e3);
  }
  qsort(rate, CAL_TRIALS, sizeof rate[0], cmp_double);
  p->iters_per_us = rate[CAL_TRIALS / 2];
  p->iters_per_round = (uint64_t)((double)env->params->v[P_CPU_US] * p->iters_per_us + 0.5);
  env->prepared = p;
  return 0;
}

static void mixed_release(cb_job_env *env) {
  free(env->prepared);
  env->prepared = NULL;
}

static uint64_t iters_per_round(const cb_job_env *env) {
  const cb_mixed_prep *p = env->prepared;
  CB_CHECK(p != NULL); /* prepare() ran */
  return p->iters_per_round;
}

/* The fold of round r: its kernel value, then (delayd) its body's digest. */
static uint64_t fold_cpu(uint64_t acc, uint64_t kernel) { return cb_mix64(acc ^ kernel); }

/* The http workload's parameters for this job's requests, so that its blocking client
 * (http_easy.h) asks delayd for /?ms=io_ms&bytes=MIXED_BYTES&seed=S, request r of
 * job i having seed cb_http_request_seed(i, r, rounds). */
static void http_env(const cb_job_env *env, cb_params *hp, cb_job_env *henv) {
  const cb_workload *h = &cb_workload_http;
  memset(hp, 0, sizeof *hp);
  for (int k = 0; k < h->nparams; k++) hp->v[k] = h->params[k].def;
  hp->v[cb_param_index(h, "requests")] = env->params->v[P_ROUNDS];
  hp->v[cb_param_index(h, "delay_ms")] = env->params->v[P_IO_MS];
  hp->v[cb_param_index(h, "bytes")] = MIXED_BYTES;
  *henv = (cb_job_env){.workload = h, .params = hp, .server_url = env->server_url};
}

static int mixed_job(const cb_job_env *env, uint64_t i, uint64_t *result, char err[CB_ERR_LEN]) {
  const int64_t *v = env->params->v;
  uint64_t iters = iters_per_round(env), acc = 0;
  cb_params hp;
  cb_job_env henv;
  cb_body_check check;
  int socket_errno = 0, rc = 0;
  CURL *h = NULL;
  if (v[P_IO] == IO_DELAYD) {
    http_env(env, &hp, &henv);
    h = cb_http_job_handle(&henv, &check, &socket_errno);
    if (!h) {
      snprintf(err, CB_ERR_LEN, "curl_easy_init failed");
      return -ENOMEM;
    }
  }
  for (int64_t r = 0; r < v[P_ROUNDS] && rc == 0; r++) {
    acc = fold_cpu(acc, cb_mixed_kernel(cb_mixed_round_seed(i, (uint64_t)r), iters));
    if (!h) {
      rc = cb_sleep_ms_checked(v[P_IO_MS], err);
      continue;
    }
    char url[256];
    cb_body_check_init(&check, cb_http_job_request(h, &henv, i, (uint64_t)r, url));
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
      long os_errno = socket_errno;
      if (!os_errno) curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
      snprintf(err, CB_ERR_LEN, "GET %.100s: %s", url, curl_easy_strerror(cc));
      rc = os_errno == EMFILE || os_errno == ENFILE ? -(int)os_errno : -EIO;
    } else if (status != 200) {
      snprintf(err, CB_ERR_LEN, "GET %.100s: HTTP status %ld", url, status);
      rc = -EPROTO;
    } else if (!check.ok || check.offset != MIXED_BYTES) {
      snprintf(err, CB_ERR_LEN, "GET %.100s: body wrong (%" PRIu64 " bytes)", url, check.offset);
      rc = -EBADMSG;
    } else {
      acc = cb_http_combine(acc, check.digest);
    }
  }
  if (h) curl_easy_cleanup(h);
  *result = acc;
  return rc;
}

/* ---- async world (loop model) ---- */
typedef struct kernel_data {
  uint64_t seed, iters;
} kernel_data;

/* On a pool thread (or inline): one round's CPU step. */
static int run_kernel(void *vd, uint64_t *result) {
  const kernel_data *d = vd;
  *result = cb_mixed_kernel(d->seed, d->iters);
  return 0;
}

typedef struct mixed_frame {
  cb_async_frame base;
  cb_exec_job job;
  kernel_data d;
  cb_fetch fetch;
  cb_body_check check;
  int64_t r, start;
  uint64_t acc;
  int fetching; /* fetch initialised */
  cb_err e;
  char url[256];
} mixed_frame;

static int on_chunk(void *arg, const char *data, size_t len) {
  cb_body_check_feed(arg, data, len);
  return 0;
}

static int mixed_co(cb_task *task, void *vf) {
  mixed_frame *f = vf;
  const int64_t *v = f->base.env->params->v;
  int rc;
  CB_CO_BEGIN(task, &f->base);
  f->d.iters = iters_per_round(f->base.env);
  if (v[P_IO] == IO_DELAYD) {
    rc = cb_fetch_init(&f->fetch, cb_task_loop(task));
    if (rc) CB_RAISE(rc, "cannot make a curl handle");
    f->fetching = 1;
    curl_easy_setopt(f->fetch.xfer.easy, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(f->fetch.xfer.easy, CURLOPT_TIMEOUT_MS, (long)(v[P_IO_MS] + 30000));
  }
  for (f->r = 0; f->r < v[P_ROUNDS]; f->r++) {
    f->d.seed = cb_mixed_round_seed(f->base.i, (uint64_t)f->r);
    if (v[P_OFFLOAD] == CB_OFFLOAD_INLINE) {
      uint64_t k = 0;
      run_kernel(&f->d, &k);
      f->acc = fold_cpu(f->acc, k);
    } else {
      rc = cb_run_in_executor(cb_task_loop(task), &f->job, run_kernel, &f->d, sizeof f->d);
      if (rc) f->e = (cb_err){rc, "run_in_executor failed"};
      else CB_AWAIT_TRY(&f->job.fut, f->e);
      if (f->e.code) break;
      f->acc = fold_cpu(f->acc, cb_future_result(&f->job.fut).u);
    }
    if (!f->fetching) {
      f->start = cb_now_ns();
      CB_SLEEP_UNTIL((uint64_t)f->start + (uint64_t)v[P_IO_MS] * 1000000u);
      if (cb_now_ns() - f->start < v[P_IO_MS] * 1000000) CB_RAISE(-EINTR, "woke before its deadline");
      continue;
    }
    {
      uint64_t seed = cb_http_request_seed(f->base.i, (uint64_t)f->r, (uint64_t)v[P_ROUNDS]);
      snprintf(f->url, sizeof f->url, "%s/?ms=%" PRId64 "&bytes=%d&seed=%" PRIu64, f->base.env->server_url,
               v[P_IO_MS], MIXED_BYTES, seed);
      cb_body_check_init(&f->check, seed);
    }
    /* The last request closes the connection, as the sync world's handle cleanup does. */
    curl_easy_setopt(f->fetch.xfer.easy, CURLOPT_FORBID_REUSE, f->r + 1 == v[P_ROUNDS] ? 1L : 0L);
    rc = cb_fetch_start(&f->fetch, f->url, on_chunk, &f->check);
    if (rc) f->e = (cb_err){rc, "cannot start a fetch"};
    else CB_AWAIT_TRY(&f->fetch.fut, f->e);
    if (f->e.code == 0 && cb_future_result(&f->fetch.fut).i != 200) f->e = (cb_err){-EPROTO, "HTTP status is not 200"};
    if (f->e.code == 0 && (!f->check.ok || f->check.offset != MIXED_BYTES))
      f->e = (cb_err){-EBADMSG, "body differs from the one asked for"};
    if (f->e.code) break;
    f->acc = cb_http_combine(f->acc, f->check.digest);
  }
  if (f->fetching) cb_fetch_free(&f->fetch);
  if (f->e.code) CB_RAISE_ERR(f->e);
  CB_RETURN((cb_val){.u = f->acc});
  CB_CO_END();
}

static const struct cb_async_job mixed_async = {.fn = mixed_co, .frame_size = sizeof(mixed_frame)};
/* ---- end of the async world ---- */

static uint64_t mixed_expected(const cb_job_env *env, uint64_t i) {
  const int64_t *v = env->params->v;
  uint64_t iters = iters_per_round(env), acc = 0;
  for (int64_t r = 0; r < v[P_ROUNDS]; r++) {
    acc = fold_cpu(acc, cb_mixed_kernel_jump(cb_mixed_round_seed(i, (uint64_t)r), iters));
    if (v[P_IO] == IO_DELAYD)
      acc = cb_http_combine(acc, cb_body_digest(cb_http_request_seed(i, (uint64_t)r, (uint64_t)v[P_ROUNDS]),
                                                MIXED_BYTES));
  }
  return acc;
}

static double mixed_wait_s(const cb_job_env *env) {
  return (double)env->params->v[P_ROUNDS] * (double)env->params->v[P_IO_MS] / 1000.0;
}

const cb_workload cb_workload_mixed = {
    .name = "mixed",
    .kind = CB_KIND_MIXED,
    .summary = "rounds x (cpu_us of calibrated CPU, then io_ms of waiting: a delayd GET or a sleep), verified",
    .params = mixed_params,
    .nparams = sizeof mixed_params / sizeof mixed_params[0],
    .needs_server = 1,
    .prepare = mixed_prepare,
    .release = mixed_release,
    .job = mixed_job,
    .expected = mixed_expected,
    .wait_s = mixed_wait_s,
    .async = &mixed_async,
};
