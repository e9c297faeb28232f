/* executor.h — run blocking work on libuv's thread pool; run coroutines from
 * other threads.
 *
 * The pool is libuv's (uv_queue_work): its size is read once per process from
 * UV_THREADPOOL_SIZE at first use; cb_executor_set_pool_size sets it before that
 * (returns -EBUSY once the pool has started in this process, as far as we know). */
#ifndef CB_LOOP_EXECUTOR_H
#define CB_LOOP_EXECUTOR_H

#include <pthread.h>

#include "runtimes/loop/task.h"

/* Runs in a pool thread: data is the job's private copy of the caller's bytes;
 * returns 0 and sets *result, or a negative errno. */
typedef int (*cb_exec_fn)(void *data, uint64_t *result);

typedef struct cb__exec_req cb__exec_req;
typedef struct cb_exec_job {
  cb_future fut; /* result.u = *result; error: the fn's errno, message "executor job failed" */
  cb__exec_req *req;
  void *out; /* where the data copy goes back on completion */
} cb_exec_job;

/* Queues fn on the pool with a private copy of data[0..size); on completion the
 * copy is written back to data (which must stay valid until then, or until the
 * job is cancelled) and job->fut completes. Cancelling the future dequeues the
 * work if it has not started, else detaches it (it runs to the end, unobserved).
 * One malloc per job. 0 or negative errno (the future is then untouched). */
int cb_run_in_executor(cb_loop *loop, cb_exec_job *job, cb_exec_fn fn, void *data, size_t size);

int cb_executor_set_pool_size(unsigned n);

/* A future another OS thread can block on (concurrent.futures.Future). */
typedef struct cb_cfuture {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
  cb_val result;
  cb_err err;
  /* internal */
  cb_handle submit, on_done;
  cb_loop *loop;
  cb_co_fn fn;
  size_t frame_size;
  const void *frame_init;
  const char *name;
  cb_task *task;
} cb_cfuture;

/* From any thread but the loop's: creates a task running fn on a copy of
 * frame_init (frame_size bytes, its cb_co zeroed) on the loop and returns at
 * once; cf must stay alive until cb_cfuture_wait returned. The loop must be
 * running or held (cb_loop_hold). */
void cb_run_coroutine_threadsafe(cb_loop *loop, cb_cfuture *cf, cb_co_fn fn, size_t frame_size,
                                 const void *frame_init, const char *name);
/* Blocks until the coroutine finished; returns its error (code 0 = none) and sets
 * *result. Destroys cf's mutex and condition variable. */
cb_err cb_cfuture_wait(cb_cfuture *cf, cb_val *result);

#endif
