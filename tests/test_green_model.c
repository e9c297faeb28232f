/* test_green_model.c — the green model through the model contract: CPU jobs, IO jobs
 * that overlap, a concurrency limit, the coordination workloads under every model
 * that offers them, and bad stack sizes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "runtimes/coord.h"
#include "runtimes/green/green.h"
#include "runtimes/models.h"
#include "tests/helpers/inproc.h"
#include "workloads/workloads.h"

/* Most jobs in progress at one instant (from the records' start and end times). */
static int max_in_flight(const inproc_run *r) {
  int best = 0;
  for (uint64_t i = 0; i < r->spec.tasks; i++) {
    int n = 0;
    for (uint64_t j = 0; j < r->spec.tasks; j++)
      n += r->report.jobs[j].start_ns <= r->report.jobs[i].start_ns &&
           r->report.jobs[i].start_ns < r->report.jobs[j].end_ns;
    if (n > best) best = n;
  }
  return best;
}

static double wall_s(const inproc_run *r) {
  int64_t lo = INT64_MAX, hi = 0;
  for (uint64_t i = 0; i < r->spec.tasks; i++) {
    if (r->report.jobs[i].start_ns < lo) lo = r->report.jobs[i].start_ns;
    if (r->report.jobs[i].end_ns > hi) hi = r->report.jobs[i].end_ns;
  }
  return (hi - lo) / 1e9;
}

Test(green_model, cpu_jobs_run_one_after_another) {
  inproc_run r;
  const char *const p[] = {"n=22", NULL};
  inproc_execute(&r, &cb_model_green, &cb_workload_fib, p, 8, 0, NULL);
  cr_expect_eq(r.rc, 0);
  cr_expect(r.verdict.verified, "error: %s", r.report.error);
  cr_expect_eq(r.report.created, 8);
  cr_expect_str_eq(r.report.created_kind, "green threads");
  /* M:1 and no blocking call: job k ends before job k+1 starts */
  int overlaps = 0;
  for (uint64_t i = 0; i < 8; i++)
    for (uint64_t j = 0; j < 8; j++)
      if (i != j && r.report.jobs[i].start_ns < r.report.jobs[j].start_ns &&
          r.report.jobs[j].start_ns < r.report.jobs[i].end_ns)
        overlaps++;
  cr_expect_eq(overlaps, 0);
  inproc_free(&r);
}

Test(green_model, sleeps_overlap_within_the_concurrency_limit) {
  inproc_run r;
  const char *const p[] = {"ms=50", NULL};
  inproc_execute(&r, &cb_model_green, &cb_workload_sleep, p, 40, 10, NULL);
  cr_expect(r.verdict.verified, "error: %s", r.report.error);
  cr_expect_eq(r.report.created, 10);
  /* structural, not timed: 10 at once, never more; at most 10 at a time, 40 sleeps of
   * 50 ms take at least 4 waves (a lower bound: a busy machine only adds to it) */
  cr_expect_eq(max_in_flight(&r), 10, "at most %d of the 10 allowed sleeps were in flight together", max_in_flight(&r));
  double w = wall_s(&r);
  cr_expect_geq(w, 0.2, "40 sleeps of 50 ms, at most 10 at a time, took %.3f s", w);
  inproc_free(&r);
}

Test(green_model, http_jobs_overlap) {
  cb_server srv;
  inproc_start_delayd(&srv);
  inproc_run r;
  const char *const p[] = {"requests=2", "delay_ms=50", "bytes=1000", NULL};
  inproc_execute(&r, &cb_model_green, &cb_workload_http, p, 20, 0, srv.url);
  cr_expect(r.verdict.verified, "error: %s", r.report.error);
  /* structural, not timed (this also runs under valgrind): all 20 wait at once */
  cr_expect_eq(max_in_flight(&r), 20, "at most %d of 20 http jobs were in flight together", max_in_flight(&r));
  inproc_free(&r);
  cb_server_stop(&srv);
}

Test(green_model, bad_stack_size_is_refused) {
  const char *const p[] = {"n=5", NULL};
  cb_params params;
  inproc_params(&cb_workload_fib, &params, p);
  cb_job_env env = {.workload = &cb_workload_fib, .params = &params};
  cb_job_record jobs[1] = {{0}};
  cb_run_spec spec = {.workload = &cb_workload_fib, .env = &env, .tasks = 1, .stack_size = 1024};
  cb_run_report report = {.jobs = jobs};
  cr_expect_eq(cb_model_green.run(&spec, &report), -EINVAL);
  cr_expect(strstr(report.error, "--stack-size") != NULL, "error: %s", report.error);
}

static void expect_pingpong(const cb_model *m, uint64_t pairs) {
  inproc_run r;
  const char *const p[] = {"rounds=500", NULL};
  inproc_execute(&r, m, &cb_workload_pingpong, p, pairs, 0, NULL);
  cr_expect_eq(r.rc, 0, "%s: rc %d, error %s", m->name, r.rc, r.report.error);
  cr_expect(r.verdict.verified, "%s: error %s", m->name, r.report.error);
  int found = 0;
  for (int k = 0; k < r.report.nextra; k++)
    if (strcmp(r.report.extra[k].key, "ns_per_switch") == 0 && r.report.extra[k].value > 0) found = 1;
  cr_expect(found, "%s: no ns_per_switch", m->name);
  inproc_free(&r);
}

Test(coord, pingpong_under_green_threads_procs) {
  expect_pingpong(&cb_model_green, 3);
  expect_pingpong(&cb_model_threads, 2);
  expect_pingpong(&cb_model_procs, 2);
}

static void expect_spawn(const cb_model *m, const char *leaves) {
  inproc_run r;
  const char *const p[] = {leaves, "fanout=10", NULL};
  inproc_execute(&r, m, &cb_workload_spawn, p, 1, 0, NULL);
  cr_expect_eq(r.rc, 0, "%s: rc %d, error %s", m->name, r.rc, r.report.error);
  cr_expect(r.verdict.verified, "%s: error %s", m->name, r.report.error);
  cr_expect_gt(r.report.created, 0);
  inproc_free(&r);
}

Test(coord, spawn_under_green_threads_procs) {
  expect_spawn(&cb_model_green, "leaves=100000");
  expect_spawn(&cb_model_threads, "leaves=200");
  expect_spawn(&cb_model_procs, "leaves=50");
}

Test(coord, sync_offers_neither) {
  inproc_run r;
  inproc_execute(&r, &cb_model_sync, &cb_workload_pingpong, NULL, 1, 0, NULL);
  cr_expect_eq(r.rc, -ENOTSUP);
  inproc_free(&r);
}

Test(coord, procs_spawn_refuses_huge_trees) {
  inproc_run r;
  const char *const p[] = {"leaves=1000000", NULL};
  inproc_execute(&r, &cb_model_procs, &cb_workload_spawn, p, 1, 0, NULL);
  cr_expect_eq(r.rc, -ERANGE); /* a usage error: the cell exits 2 */
  cr_expect(strstr(r.report.error, "--param leaves") != NULL, "error: %s", r.report.error);
  inproc_free(&r);
}
