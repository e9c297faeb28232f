/* offload.c — a sync-world job awaited from a coroutine (executor or inline). */
#include <string.h>

#include "runtimes/loop/offload.h"

const char *const cb_offload_choices[] = {"executor", "inline", NULL};

typedef struct job_data {
  const cb_job_env *env;
  uint64_t i, result;
  char err[CB_ERR_LEN];
} job_data;

typedef struct offload_frame {
  cb_async_frame base;
  cb_exec_job job;
  job_data d;
} offload_frame;

/* Runs on a pool thread (or inline): the workload's own job function. */
static int run_job(void *vd, uint64_t *result) {
  job_data *d = vd;
  int rc = d->env->workload->job(d->env, d->i, &d->result, d->err);
  *result = d->result;
  return rc;
}

/* The error message lives in the frame: valid while the awaiting wrapper reads it. */
static int offload_co(cb_task *task, void *vf) {
  offload_frame *f = vf;
  cb_err e = {0, NULL}; /* read right after the await: need not live in the frame */
  CB_CO_BEGIN(task, &f->base);
  f->d.env = f->base.env;
  f->d.i = f->base.i;
  if (cb_param(f->base.env, "offload") == CB_OFFLOAD_INLINE) {
    uint64_t r = 0;
    int rc = run_job(&f->d, &r);
    if (rc) CB_RAISE(rc, f->d.err[0] ? f->d.err : "job failed");
    CB_RETURN((cb_val){.u = r});
  }
  {
    int rc = cb_run_in_executor(cb_task_loop(task), &f->job, run_job, &f->d, sizeof f->d);
    if (rc) CB_RAISE(rc, "run_in_executor failed");
  }
  CB_AWAIT_TRY(&f->job.fut, e);
  if (e.code) CB_RAISE(e.code, f->d.err[0] ? f->d.err : e.msg);
  CB_RETURN(cb_future_result(&f->job.fut));
  CB_CO_END();
}

const struct cb_async_job cb_offload_async_job = {.fn = offload_co, .frame_size = sizeof(offload_frame)};
