/* threads.c — pthreads: one thread per job (C = 0), or a pool of C worker threads
 * pulling job indices from a shared atomic counter. Threads get glibc's default
 * attributes (8 MiB virtual stack), i.e. what a program gets by default.
 * A thread that cannot be created (EAGAIN: RLIMIT_NPROC, threads-max, memory) stops
 * the model: the threads already running are joined, the jobs never started are
 * left not done, and the run fails with the reason instead of crashing. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/runtime.h"
#include "runtimes/coord.h"
#include "runtimes/models.h"
#include "runtimes/pipeline.h"

typedef struct pool {
  const cb_run_spec *spec;
  cb_run_report *report;
  uint64_t next; /* next job index to take (atomic) */
} pool;

typedef struct one_job {
  pool *p;
  uint64_t i;
} one_job;

static void *run_one(void *arg) {
  one_job *oj = arg;
  cb_job_execute(oj->p->spec, oj->i, &oj->p->report->jobs[oj->i], oj->p->report);
  return NULL;
}

static void *run_worker(void *arg) {
  pool *p = arg;
  for (;;) {
    uint64_t i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
    if (i >= p->spec->tasks) return NULL;
    cb_job_execute(p->spec, i, &p->report->jobs[i], p->report);
  }
}

static int threads_run(const cb_run_spec *spec, cb_run_report *report) {
  report->concurrency = cb_spec_concurrency(spec);
  pool p = {.spec = spec, .report = report, .next = 0};
  int per_job = spec->concurrency == 0 || spec->concurrency >= spec->tasks;
  uint64_t want = per_job ? spec->tasks : spec->concurrency;
  pthread_t *tids = calloc(want, sizeof *tids);
  one_job *jobs = per_job ? calloc(want, sizeof *jobs) : NULL;
  if (!tids || (per_job && !jobs)) {
    free(tids);
    free(jobs);
    cb_report_error(report, "threads: cannot allocate bookkeeping for %llu threads",
                    (unsigned long long)want);
    return -ENOMEM;
  }
  uint64_t made = 0;
  int rc = 0;
  for (; made < want; made++) {
    void *arg = &p;
    void *(*fn)(void *) = run_worker;
    if (per_job) {
      jobs[made] = (one_job){.p = &p, .i = made};
      arg = &jobs[made];
      fn = run_one;
    }
    rc = pthread_create(&tids[made], NULL, fn, arg);
    if (rc != 0) {
      cb_report_error(report, "threads: pthread_create failed for thread %llu of %llu: %s",
                      (unsigned long long)made + 1, (unsigned long long)want, strerror(rc));
      break;
    }
  }
  for (uint64_t t = 0; t < made; t++) pthread_join(tids[t], NULL);
  free(tids);
  free(jobs);
  report->created = made;
  report->created_kind = "threads";
  return -rc;
}

int cb__threads_serve(const cb_serve_spec *spec, cb_run_report *report); /* serve.c */

const cb_model cb_model_threads = {
    .name = "threads",
    .summary = "a pthread per job, or a pool of C worker threads",
    .run = threads_run,
    .pingpong = cb__threads_pingpong,
    .spawn_tree = cb__threads_spawn_tree,
    .pipeline = cb__threads_pipeline,
    .serve = cb__threads_serve,
};
