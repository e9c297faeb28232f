/* sleep.c — each job sleeps `ms` milliseconds with nanosleep(): the purest wait.
 * Verified by time: a job fails if it woke up before its deadline. Its result is
 * a function of its index, so a job that never ran cannot pass. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "runtimes/runtime.h"
#include "workloads/body.h"
#include "workloads/sleep.h"
#include "workloads/workload.h"
#include "workloads/workloads.h"
#include "runtimes/loop/model.h" /* async world: the loop model */

enum { P_MS };

static const cb_param_def sleep_params[] = {
    [P_MS] = {"ms", 100, 0, 600000, "milliseconds each job sleeps"},
};

int cb_sleep_ms_checked(int64_t ms, char err[CB_ERR_LEN]) {
  int64_t start = cb_now_ns();
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0) {
    if (errno != EINTR) {
      snprintf(err, CB_ERR_LEN, "nanosleep: %s", strerror(errno));
      return -errno;
    }
  }
  int64_t slept = cb_now_ns() - start;
  if (slept < ms * 1000000) {
    snprintf(err, CB_ERR_LEN, "woke after %.3f ms, before its %lld ms", slept / 1e6, (long long)ms);
    return -EINTR;
  }
  return 0;
}

static int sleep_job(const cb_job_env *env, uint64_t i, uint64_t *result, char err[CB_ERR_LEN]) {
  int rc = cb_sleep_ms_checked(env->params->v[P_MS], err);
  if (rc == 0) *result = cb_mix64(i);
  return rc;
}

/* ---- async world (loop model): the same wait as a coroutine, no thread blocked ---- */
typedef struct sleep_frame {
  cb_async_frame base;
  int64_t start;
} sleep_frame;

static int sleep_co(cb_task *task, void *vf) {
  sleep_frame *f = vf;
  CB_CO_BEGIN(task, &f->base);
  f->start = cb_now_ns();
  CB_SLEEP_UNTIL((uint64_t)f->start + (uint64_t)f->base.env->params->v[P_MS] * 1000000u);
  if (cb_now_ns() - f->start < f->base.env->params->v[P_MS] * 1000000) CB_RAISE(-EINTR, "woke before its deadline");
  CB_RETURN((cb_val){.u = cb_mix64(f->base.i)});
  CB_CO_END();
}

static const struct cb_async_job sleep_async = {.fn = sleep_co, .frame_size = sizeof(sleep_frame)};
/* ---- end of the async world ---- */

static uint64_t sleep_expected(const cb_job_env *env, uint64_t i) { return cb_mix64(i); }

static double sleep_wait_s(const cb_job_env *env) { return env->params->v[P_MS] / 1000.0; }

const cb_workload cb_workload_sleep = {
    .name = "sleep",
    .kind = CB_KIND_IO,
    .summary = "each job sleeps ms milliseconds (nanosleep), verified by the clock",
    .params = sleep_params,
    .nparams = sizeof sleep_params / sizeof sleep_params[0],
    .job = sleep_job,
    .expected = sleep_expected,
    .wait_s = sleep_wait_s,
    .async = &sleep_async,
};
