/* test_pipeline.c — the pipeline workload: every model verifies it for every shape
 * (stages 1 and 5, queue 1 and 64, items 1 and 1000, N 1 and 4 with and without a
 * pool, work_us 0 and 20) with its figures present; the sink's fold is order-, loss-
 * and duplicate-sensitive and expected() reproduces the in-order fold (the work's
 * closed form included); a model that swaps two items, and a wrong expected value,
 * fail verification; procs reaps every process, also when a stage is killed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtimes/green/green.h"
#include "runtimes/loop/model.h"
#include "runtimes/models.h"
#include "runtimes/pipeline.h"
#include "tests/helpers/inproc.h"
#include "workloads/workloads.h"

TestSuite(pipeline, .timeout = 180);

static double extra(const cb_run_report *r, const char *key, int *found) {
  for (int k = 0; k < r->nextra; k++)
    if (strcmp(r->extra[k].key, key) == 0) {
      *found = 1;
      return r->extra[k].value;
    }
  *found = 0;
  return 0;
}

static void expect_no_children(void) {
  errno = 0;
  cr_expect_eq(waitpid(-1, NULL, WNOHANG), -1, "a child is left over");
  cr_expect_eq(errno, ECHILD);
}

static void every_shape(const cb_model *m) {
  static const char *const stages[] = {"stages=1", "stages=5"};
  static const char *const queue[] = {"queue=1", "queue=64"};
  static const char *const items[] = {"items=1", "items=1000"};
  static const char *const work[] = {"work_us=0", "work_us=20"};
  static const uint64_t nc[][2] = {{1, 0}, {4, 0}, {4, 2}};
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++)
      for (int c = 0; c < 2; c++)
        for (int d = 0; d < 2; d++)
          for (int e = 0; e < 3; e++) {
            if (d == 1 && e == 2) continue; /* the pool with work: covered without */
            const char *const p[] = {stages[a], queue[b], items[c], work[d], NULL};
            uint64_t n = nc[e][0], conc = nc[e][1];
            inproc_run r;
            inproc_execute(&r, m, &cb_workload_pipeline, p, n, conc, NULL);
            const char *shape_fmt = "%s %s %s %s %s N=%llu C=%llu";
#define SHAPE shape_fmt, m->name, p[0], p[1], p[2], p[3], (unsigned long long)n, (unsigned long long)conc
            cr_expect_eq(r.rc, 0, "rc %d (%s)", r.rc, r.report.error);
            cr_expect(r.verdict.verified, "not verified: ok %llu failed %llu wrong %llu: %s",
                      (unsigned long long)r.verdict.ok, (unsigned long long)r.verdict.failed,
                      (unsigned long long)r.verdict.wrong, r.report.error);
            if (!r.verdict.verified) cr_log_error(SHAPE);
            cr_expect_eq(r.verdict.ok, n);
            cr_expect_str_empty(r.report.error);
            cr_expect_gt(r.report.concurrency, 0);
            int f1, f2, f3, f4;
            double ips = extra(&r.report, "items_per_s", &f1), p50 = extra(&r.report, "item_latency_us_p50", &f2),
                   p99 = extra(&r.report, "item_latency_us_p99", &f3), qi = extra(&r.report, "queue_items", &f4);
            cr_expect(f1 && f2 && f3 && f4, "figures missing");
            cr_expect_gt(ips, 0);
            cr_expect_gt(p50, 0);
            cr_expect_geq(p99, p50);
            if (strcmp(m->name, "sync") == 0) {
              cr_expect_eq(qi, 0);
              cr_expect_eq(r.report.created, 0);
            } else if (strcmp(m->name, "procs") == 0) {
              cr_expect_geq(qi, 512, "a pipe holds a page at least"); /* queue=64 x 8 bytes < a page */
              cr_expect_eq(r.report.created, n * (uint64_t)(a ? 7 : 3));
              expect_no_children();
            } else {
              cr_expect_eq(qi, b ? 64 : 1);
              /* a unit per source, stage and sink; threads and green add C drivers */
              uint64_t drivers = conc && strcmp(m->name, "loop") != 0 ? conc : 0;
              cr_expect_eq(r.report.created, n * (uint64_t)(a ? 7 : 3) + drivers, "%s created %llu", m->name,
                           (unsigned long long)r.report.created);
            }
#undef SHAPE
            inproc_free(&r);
          }
}

Test(pipeline, sync_verifies_every_shape) { every_shape(&cb_model_sync); }
Test(pipeline, threads_verify_every_shape) { every_shape(&cb_model_threads); }
Test(pipeline, procs_verify_every_shape_and_reap_every_process) { every_shape(&cb_model_procs); }
Test(pipeline, green_verifies_every_shape) { every_shape(&cb_model_green); }
Test(pipeline, loop_verifies_every_shape) { every_shape(&cb_model_loop); }

/* ---- the fold and expected(), through the spec the workload hands a model ---- */

static cb_pipeline_spec captured;
static int capture(const cb_run_spec *spec, const cb_pipeline_spec *p, cb_run_report *report) {
  captured = *p;
  report->concurrency = 1;
  return 0;
}
static const cb_model capturing = {.name = "capture", .pipeline = capture};

/* Pipeline i's items through the stages, in the order given by at[] (NULL: 0..n-1). */
static uint64_t fold_order(const cb_pipeline_spec *p, uint64_t i, const uint64_t *at, uint64_t n) {
  uint64_t acc = p->fold_init;
  for (uint64_t j = 0; j < n; j++) {
    uint64_t v = p->source(p, i, at ? at[j] : j);
    for (uint64_t s = 0; s < p->stages; s++) v = p->stage(p, s, v);
    acc = p->fold(acc, v);
  }
  return acc;
}

Test(pipeline, the_fold_is_order_loss_and_duplicate_sensitive_and_expected_matches_it) {
  const char *const shapes[][4] = {{"stages=3", "items=50", "work_us=0", NULL},
                                   {"stages=2", "items=20", "work_us=3", NULL}};
  for (int s = 0; s < 2; s++) {
    inproc_run r;
    inproc_execute(&r, &capturing, &cb_workload_pipeline, shapes[s], 3, 0, NULL);
    cr_assert_eq(r.rc, 0);
    const cb_pipeline_spec *p = &captured;
    uint64_t n = p->items;
    for (uint64_t i = 0; i < 3; i++) {
      uint64_t want = cb_workload_pipeline.expected(&r.env, i);
      cr_expect_eq(fold_order(p, i, NULL, n), want, "%s: the in-order fold is expected()", shapes[s][2]);
      uint64_t at[64];
      for (uint64_t k = 0; k < n; k++) at[k] = k;
      at[5] = 6, at[6] = 5; /* two neighbours swapped */
      cr_expect_neq(fold_order(p, i, at, n), want);
      for (uint64_t k = 0; k < n; k++) at[k] = k;
      at[n - 1] = n - 2; /* the last lost, the one before twice */
      cr_expect_neq(fold_order(p, i, at, n), want);
      cr_expect_neq(fold_order(p, i, NULL, n - 1), want); /* one short */
      if (i > 0) cr_expect_neq(want, cb_workload_pipeline.expected(&r.env, i - 1), "pipelines differ");
    }
    inproc_free(&r);
  }
}

Test(pipeline, the_work_changes_the_items) {
  const char *const a[] = {"items=10", "work_us=0", NULL}, *const b[] = {"items=10", "work_us=5", NULL};
  inproc_run ra, rb;
  inproc_execute(&ra, &capturing, &cb_workload_pipeline, a, 1, 0, NULL);
  inproc_execute(&rb, &capturing, &cb_workload_pipeline, b, 1, 0, NULL);
  cr_expect_neq(cb_workload_pipeline.expected(&ra.env, 0), cb_workload_pipeline.expected(&rb.env, 0));
  inproc_free(&ra);
  inproc_free(&rb);
}

/* A model whose sink sees items 10 and 11 of pipeline 1 swapped. */
static int swapping(const cb_run_spec *spec, const cb_pipeline_spec *p, cb_run_report *report) {
  report->concurrency = 1;
  for (uint64_t i = 0; i < spec->tasks; i++) {
    uint64_t at[100];
    for (uint64_t k = 0; k < p->items; k++) at[k] = k;
    if (i == 1) at[10] = 11, at[11] = 10;
    cb_job_record *rec = &report->jobs[i];
    rec->start_ns = cb_now_ns();
    rec->result = fold_order(p, i, at, p->items);
    rec->end_ns = cb_now_ns();
    rec->done = 1;
  }
  return 0;
}
static const cb_model swapper = {.name = "swapper", .pipeline = swapping};

Test(pipeline, a_model_that_swaps_two_items_fails_verification) {
  const char *const p[] = {"items=100", "stages=2", NULL};
  inproc_run r;
  inproc_execute(&r, &swapper, &cb_workload_pipeline, p, 3, 0, NULL);
  cr_expect_eq(r.rc, 0);
  cr_expect_not(r.verdict.verified);
  cr_expect_eq(r.verdict.wrong, 1);
  cr_expect_neq(r.verdict.checksum, r.verdict.expected_checksum);
  inproc_free(&r);
}

static uint64_t off_by_one(const cb_job_env *env, uint64_t i) { return cb_workload_pipeline.expected(env, i) + (i == 2); }

Test(pipeline, a_wrong_expected_value_fails_verification) {
  cb_workload bad = cb_workload_pipeline;
  bad.expected = off_by_one;
  const char *const p[] = {"items=300", NULL};
  const cb_model *ms[] = {&cb_model_threads, &cb_model_green};
  for (int k = 0; k < 2; k++) {
    inproc_run r;
    inproc_execute(&r, ms[k], &bad, p, 4, 0, NULL);
    cr_expect_eq(r.rc, 0);
    cr_expect_not(r.verdict.verified);
    cr_expect_eq(r.verdict.wrong, 1);
    cr_expect_neq(r.verdict.checksum, r.verdict.expected_checksum);
    inproc_free(&r);
  }
}

/* ---- procs: a stage process killed mid-stream ---- */

static pid_t test_pid;
static cb_pipeline_spec inner;
static uint64_t killing_stage(const cb_pipeline_spec *p, uint64_t s, uint64_t v) {
  static uint64_t seen; /* per process: each stage is its own process */
  if (getpid() != test_pid && s == 1 && ++seen == 300) raise(SIGKILL);
  return inner.stage(&inner, s, v);
}

Test(pipeline, procs_reports_a_killed_stage_and_reaps_every_process) {
  const char *const p[] = {"items=5000", "stages=3", "queue=1", NULL};
  inproc_run r;
  inproc_execute(&r, &capturing, &cb_workload_pipeline, p, 1, 0, NULL);
  inner = captured;
  cb_pipeline_spec k = captured;
  k.stage = killing_stage;
  test_pid = getpid();
  cb_run_report rep = {0};
  cb_job_record jobs[3] = {0};
  rep.jobs = jobs;
  cb_run_spec spec = {.workload = &cb_workload_pipeline, .env = &r.env, .tasks = 3};
  int rc = cb_model_procs.pipeline(&spec, &k, &rep);
  cr_expect_eq(rc, 0, "the model ran; its jobs failed");
  for (int i = 0; i < 3; i++) cr_expect_eq(jobs[i].status, -EIO, "pipeline %d", i);
  cr_expect(strstr(rep.error, "killed by signal 9") != NULL, "error: '%s'", rep.error);
  cr_expect_eq(rep.created, 15);
  expect_no_children();
  inproc_free(&r);
}

Test(pipeline, parameters_have_their_bounds) {
  const cb_workload *w = &cb_workload_pipeline;
  struct { const char *name; int64_t def, min, max; } want[] = {
      {"stages", 4, 1, 64}, {"queue", 16, 1, 65536}, {"items", 100000, 1, 1000000000}, {"work_us", 0, 0, 100000}};
  cr_assert_eq(w->nparams, 4);
  for (int k = 0; k < 4; k++) {
    int idx = cb_param_index(w, want[k].name);
    cr_assert_geq(idx, 0, "%s", want[k].name);
    cr_expect_eq(w->params[idx].def, want[k].def, "%s", want[k].name);
    cr_expect_eq(w->params[idx].min, want[k].min, "%s", want[k].name);
    cr_expect_eq(w->params[idx].max, want[k].max, "%s", want[k].name);
  }
  cr_expect_eq(w->kind, CB_KIND_COORD);
}

Test(pipeline, procs_waits_for_its_own_processes_only) {
  int hold[2];
  cr_assert_eq(pipe(hold), 0);
  pid_t mine = fork(); /* a child of the caller's own (a test's delayd), alive throughout */
  if (mine == 0) {
    char b;
    close(hold[1]);
    _exit(read(hold[0], &b, 1) >= 0 ? 0 : 1);
  }
  close(hold[0]);
  const char *const p[] = {"items=500", "stages=2", NULL};
  inproc_run r;
  inproc_execute(&r, &cb_model_procs, &cb_workload_pipeline, p, 3, 2, NULL);
  cr_expect_eq(r.rc, 0);
  cr_expect(r.verdict.verified, "%s", r.report.error);
  cr_expect_eq(waitpid(mine, NULL, WNOHANG), 0, "the caller's child was reaped by the model");
  close(hold[1]);
  cr_expect_eq(waitpid(mine, NULL, 0), mine);
  expect_no_children();
  inproc_free(&r);
}

Test(pipeline, threads_and_procs_refuse_more_units_at_once_than_their_limit) {
  const cb_model *ms[] = {&cb_model_threads, &cb_model_procs};
  const char *const p[] = {"stages=8", "items=10", NULL}; /* 10 units per pipeline */
  for (int k = 0; k < 2; k++) {
    inproc_run r;
    inproc_execute(&r, ms[k], &cb_workload_pipeline, p, CB_PIPELINE_MAX_OS_UNITS / 10 + 1, 0, NULL);
    cr_expect_eq(r.rc, -ERANGE, "%s: rc %d", ms[k]->name, r.rc);
    cr_expect(strstr(r.report.error, "--param stages") != NULL, "%s: '%s'", ms[k]->name, r.report.error);
    cr_expect_eq(r.report.created, 0);
    inproc_free(&r);
    /* the same N bounded by a pool runs */
    inproc_execute(&r, ms[k], &cb_workload_pipeline, p, CB_PIPELINE_MAX_OS_UNITS / 10 + 1, 4, NULL);
    cr_expect_eq(r.rc, 0, "%s: rc %d (%s)", ms[k]->name, r.rc, r.report.error);
    cr_expect(r.verdict.verified, "%s: %s", ms[k]->name, r.report.error);
    inproc_free(&r);
  }
  expect_no_children();
}
