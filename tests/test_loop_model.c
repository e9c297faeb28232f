/* test_loop_model.c — the loop model end to end: workloads verified, bounded
 * concurrency respected, offload executor vs inline, pingpong and spawn ops. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/loop/model.h"
#include "tests/helpers/inproc.h"
#include "workloads/workloads.h"

TestSuite(loop_model, .timeout = 120);

static void run_verified(inproc_run *r, const char *wname, const char *const params[], uint64_t n, uint64_t c) {
  const cb_workload *w = cb_workload_find(wname);
  cr_assert_not_null(w);
  inproc_execute(r, &cb_model_loop, w, params, n, c, NULL);
  cr_assert_eq(r->rc, 0, "%s: rc %d: %s", wname, r->rc, r->report.error);
  cr_assert(r->verdict.verified, "%s: ok %llu failed %llu wrong %llu: %s", wname,
            (unsigned long long)r->verdict.ok, (unsigned long long)r->verdict.failed,
            (unsigned long long)r->verdict.wrong, r->report.error);
  cr_assert_eq(r->report.created, n);
  cr_assert_str_eq(r->report.created_kind, "tasks");
}

/* Largest number of jobs whose [start, end) intervals overlap. O(n^2), small n. */
static uint64_t max_overlap(const cb_job_record *jobs, uint64_t n) {
  uint64_t best = 0;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t k = 0;
    for (uint64_t j = 0; j < n; j++)
      if (jobs[j].start_ns <= jobs[i].start_ns && jobs[j].end_ns > jobs[i].start_ns) k++;
    if (k > best) best = k;
  }
  return best;
}

Test(loop_model, sleep_all_concurrent) {
  inproc_run r;
  const char *p[] = {"ms=50", NULL};
  run_verified(&r, "sleep", p, 2000, 0);
  /* concurrent: at one instant all 2000 were sleeping (structural, not timed) */
  cr_assert_eq(max_overlap(r.report.jobs, 2000), 2000);
  for (int i = 0; i < 2000; i++) {
    int64_t took = r.report.jobs[i].end_ns - r.report.jobs[i].start_ns;
    cr_assert_geq(took, 50000000, "job %d slept %lld ns of 50 ms", i, (long long)took);
  }
  inproc_free(&r);
}

Test(loop_model, sleep_bounded_concurrency) {
  inproc_run r;
  const char *p[] = {"ms=10", NULL};
  run_verified(&r, "sleep", p, 40, 4);
  uint64_t m = max_overlap(r.report.jobs, 40);
  cr_assert_leq(m, 4, "overlap %llu > C", (unsigned long long)m);
  cr_assert_geq(m, 2);
  inproc_free(&r);
}

Test(loop_model, fib_and_pow_executor_and_inline) {
  /* inproc_params takes the index of a choice: 0 executor, 1 inline */
  const char *ex[] = {"n=24", "offload=executor", NULL}, *in[] = {"n=24", "offload=inline", NULL};
  inproc_run r;
  run_verified(&r, "fib", ex, 16, 0);
  inproc_free(&r);
  run_verified(&r, "fib", in, 16, 0);
  /* inline blocks the loop: jobs run strictly one after another */
  cr_assert_eq(max_overlap(r.report.jobs, 16), 1);
  inproc_free(&r);
  const char *pex[] = {"exp=20000", NULL}, *pin[] = {"exp=20000", "offload=inline", NULL};
  run_verified(&r, "pow", pex, 6, 3);
  inproc_free(&r);
  run_verified(&r, "pow", pin, 6, 3);
  inproc_free(&r);
}

/* A workload with no async-world version is refused by name, not run some other way.
 * Every registered workload has one today, so the test takes one without it. */
Test(loop_model, workload_without_coroutine_is_not_supported) {
  cb_workload w = cb_workload_sleep;
  w.async = NULL;
  w.name = "sleep-without-coroutine";
  inproc_run r;
  inproc_execute(&r, &cb_model_loop, &w, NULL, 3, 0, NULL);
  cr_expect_eq(r.rc, -ENOTSUP, "rc %d", r.rc);
  cr_expect(strstr(r.report.error, "sleep-without-coroutine has no coroutine version") != NULL, "error: '%s'",
            r.report.error);
  cr_expect_eq(r.report.created, 0);
  cr_expect_not(r.verdict.verified);
  for (int i = 0; i < 3; i++) cr_expect_not(r.report.jobs[i].done, "job %d ran", i);
  inproc_free(&r);
}

static cb_run_report *new_report(uint64_t n) {
  cb_run_report *rep = calloc(1, sizeof *rep);
  rep->jobs = calloc(n, sizeof *rep->jobs);
  return rep;
}

static void free_report(cb_run_report *rep) {
  free(rep->jobs);
  free(rep);
}

static double extra(const cb_run_report *rep, const char *key) {
  for (int i = 0; i < rep->nextra; i++)
    if (strcmp(rep->extra[i].key, key) == 0) return rep->extra[i].value;
  cr_assert_fail("no extra %s", key);
  return 0;
}

Test(loop_model, pingpong_counts_handoffs) {
  cb_run_spec spec = {.tasks = 3};
  cb_run_report *rep = new_report(3);
  cr_assert_eq(cb_model_loop.pingpong(&spec, 1000, rep), 0, "%s", rep->error);
  for (int i = 0; i < 3; i++) {
    cr_assert(rep->jobs[i].done);
    cr_assert_eq(rep->jobs[i].result, 2000);
  }
  cr_assert_eq(rep->created, 6);
  cr_assert_gt(extra(rep, "ns_per_switch"), 0);
  free_report(rep);
}

Test(loop_model, spawn_tree_sums_leaves) {
  uint64_t cases[][2] = {{1000, 10}, {12345, 7}, {1, 10}, {100000, 10}};
  for (int c = 0; c < 4; c++) {
    cb_run_spec spec = {.tasks = 1};
    cb_run_report *rep = new_report(1);
    uint64_t sum = 0, n = cases[c][0];
    cr_assert_eq(cb_model_loop.spawn_tree(&spec, n, cases[c][1], &sum, rep), 0, "%s", rep->error);
    cr_assert_eq(sum, n * (n - 1) / 2, "leaves %llu: sum %llu", (unsigned long long)n, (unsigned long long)sum);
    cr_assert_geq(rep->created, n);
    cr_assert_eq(rep->jobs[0].result, sum);
    cr_assert_gt(extra(rep, "ns_per_spawn"), 0);
    free_report(rep);
  }
}
