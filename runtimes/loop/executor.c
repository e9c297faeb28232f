/* executor.c — run_in_executor on libuv's thread pool. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/loop/executor.h"
#include "runtimes/loop/loop_int.h"

struct cb__exec_req {
  uv_work_t work;
  cb_loop *loop;
  cb_exec_job *job; /* NULL once the job's future was cancelled */
  cb_exec_fn fn;
  uint64_t result;
  int rc;
  size_t size;
  _Alignas(16) unsigned char data[];
};

static void work_cb(uv_work_t *w) {
  cb__exec_req *r = w->data;
  r->rc = r->fn(r->data, &r->result);
}

static void after_cb(uv_work_t *w, int status) {
  cb__exec_req *r = w->data;
  cb_exec_job *job = r->job;
  r->loop->exec_pending--;
  if (job) {
    job->req = NULL;
    if (status == UV_ECANCELED) {
      cb__future_cancel_plain(&job->fut, "executor job cancelled");
    } else {
      if (job->out && r->size) memcpy(job->out, r->data, r->size);
      if (r->rc)
        CB_CHECK(cb_future_set_error(&job->fut, r->rc, "executor job failed") == 0);
      else
        CB_CHECK(cb_future_set_result(&job->fut, (cb_val){.u = r->result}) == 0);
    }
  }
  free(r);
}

int cb_run_in_executor(cb_loop *l, cb_exec_job *job, cb_exec_fn fn, void *data, size_t size) {
  cb__exec_req *r = malloc(sizeof *r + size);
  if (!r) return -ENOMEM;
  r->work.data = r;
  r->loop = l;
  r->job = job;
  r->fn = fn;
  r->result = 0;
  r->rc = 0;
  r->size = size;
  if (size) memcpy(r->data, data, size);
  int rc = uv_queue_work(&l->uv, &r->work, work_cb, after_cb);
  if (rc != 0) {
    free(r);
    return rc;
  }
  cb_future_init(&job->fut, l);
  job->fut.kind = CB__FUT_EXEC;
  job->req = r;
  job->out = data;
  l->exec_pending++;
  return 0;
}

/* The future is cancelled at once; the work is dequeued if it has not started,
 * otherwise it finishes unobserved. */
int cb__exec_cancel(cb_future *f, const char *msg) {
  cb_exec_job *job = (cb_exec_job *)f;
  if (cb_future_done(f)) return 0;
  if (job->req) {
    uv_cancel((uv_req_t *)&job->req->work); /* after_cb still runs, with UV_ECANCELED */
    job->req->job = NULL;
    job->req = NULL;
  }
  return cb__future_cancel_plain(f, msg);
}

int cb_executor_set_pool_size(unsigned n) {
  if (n == 0 || n > 1024) return -EINVAL;
  char buf[16];
  snprintf(buf, sizeof buf, "%u", n);
  return setenv("UV_THREADPOOL_SIZE", buf, 1) == 0 ? 0 : -errno;
}
