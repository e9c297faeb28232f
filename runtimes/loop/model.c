/* model.c — the `loop` model: each job is a task running the workload's
 * coroutine on one cb_loop; at most C tasks in flight (0: all N at once). Server
 * workloads: a task per connection (serve.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtimes/loop/executor.h"
#include "runtimes/loop/loop_int.h"
#include "runtimes/loop/model.h"
#include "runtimes/pipeline.h"

typedef struct run_state {
  const cb_run_spec *spec;
  cb_run_report *report;
  cb_loop *loop;
  uint64_t next, finished;
  cb_future all_done;
} run_state;

static int launch(run_state *st);

static void job_started(cb_task *t, void *arg) {
  run_state *st = arg;
  const cb_async_frame *f = cb_task_frame(t);
  st->report->jobs[f->i].start_ns = cb_now_ns();
}

/* Records the job and launches the next one (bounded concurrency). */
static void job_done(cb_task *t, void *arg) {
  run_state *st = arg;
  const cb_async_frame *f = cb_task_frame(t);
  cb_job_record *rec = &st->report->jobs[f->i];
  cb_err e = cb_task_error(t);
  rec->end_ns = cb_now_ns();
  rec->result = cb_task_result(t).u;
  rec->status = e.code;
  rec->done = 1;
  if (e.code)
    cb_report_error(st->report, "job %llu: %s", (unsigned long long)f->i, e.msg ? e.msg : strerror(-e.code));
  if (++st->finished == st->spec->tasks) CB_CHECK(cb_future_set_result(&st->all_done, (cb_val){.u = 0}) == 0);
  if (st->next < st->spec->tasks) launch(st);
}

/* The job's task runs the workload's coroutine directly: no wrapper frame. */
static int launch(run_state *st) {
  const struct cb_async_job *aj = st->spec->workload->async;
  cb_task *t = cb_create_task(st->loop, aj->fn, aj->frame_size, NULL);
  if (!t) {
    cb_report_error(st->report, "loop: cannot create task %llu", (unsigned long long)st->next);
    return -ENOMEM;
  }
  cb_async_frame *f = cb_task_frame(t);
  f->env = st->spec->env;
  f->i = st->next++;
  cb_task_release(t); /* the loop's reference keeps it until it is done */
  return 0;
}

/* libuv sizes its pool once per process from UV_THREADPOOL_SIZE (default 4);
 * unless the user chose, use one thread per online CPU. */
static void size_pool(void) {
  if (getenv("UV_THREADPOOL_SIZE")) return;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  cb_executor_set_pool_size((unsigned)(n > 0 ? n : 1));
}

static int loop_run(const cb_run_spec *spec, cb_run_report *report) {
  report->concurrency = cb_spec_concurrency(spec);
  const struct cb_async_job *aj = spec->workload->async;
  if (!aj) {
    cb_report_error(report, "workload %s has no coroutine version for --model loop", spec->workload->name);
    return -ENOTSUP;
  }
  CB_CHECK(aj->frame_size >= sizeof(cb_async_frame));
  size_pool();
  run_state st = {.spec = spec, .report = report, .loop = cb_loop_new()};
  if (!st.loop) {
    cb_report_error(report, "loop: cannot create the event loop");
    return -ENOMEM;
  }
  cb_future_init(&st.all_done, st.loop);
  cb_loop_set_task_hooks(st.loop, job_started, job_done, &st);
  uint64_t c = spec->concurrency && spec->concurrency < spec->tasks ? spec->concurrency : spec->tasks;
  int rc = 0;
  for (uint64_t k = 0; k < c && rc == 0; k++) rc = launch(&st);
  if (rc == 0) {
    rc = cb_loop_run_until_complete(st.loop, &st.all_done);
    if (rc) cb_report_error(report, "loop: %llu of %llu jobs can never finish (deadlock)",
                            (unsigned long long)(spec->tasks - st.finished), (unsigned long long)spec->tasks);
  }
  report->created = cb_loop_tasks_created(st.loop);
  report->created_kind = "tasks";
  cb_loop_close(st.loop);
  return rc == -EDEADLK ? 0 : rc; /* the unfinished jobs carry the failure */
}

/* serve.c */
int cb__loop_serve(const cb_serve_spec *spec, cb_run_report *report);

const cb_model cb_model_loop = {
    .name = "loop",
    .summary = "stackless coroutine tasks on a libuv event loop (asyncio-style); CPU work via the executor",
    .run = loop_run,
    .pingpong = cb__loop_pingpong,
    .spawn_tree = cb__loop_spawn_tree,
    .pipeline = cb__loop_pipeline,
    .serve = cb__loop_serve,
};
