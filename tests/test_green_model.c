/* test_green_model.c — the green model through the model contract: CPU jobs, IO jobs
 * that overlap, a concurrency limit, the coordination workloads under every model
 * that offers them, and bad stack sizes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

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

/* The memory breakdown (runtimes/green/memory.c) of a cell: every figure there and
 * positive, and the RSS parts (stack pages, records) within the measured RSS growth
 * per thread. Returns stack_bytes_per_task. */
static double extra_of(const inproc_run *r, const char *key) {
  for (int k = 0; k < r->report.nextra; k++)
    if (strcmp(r->report.extra[k].key, key) == 0) return r->report.extra[k].value;
  return -1;
}
static double expect_breakdown(const inproc_run *r, const char *what) {
  static const char *const keys[] = {"bytes_per_task", "peak_live", "peak_threads", "stack_bytes_per_task",
                                     "record_bytes_per_task",
                                     "pagetable_bytes_per_task", "stack_vm_bytes_per_task"};
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
    cr_expect_gt(extra_of(r, keys[k]), 0, "%s: %s = %g", what, keys[k], extra_of(r, keys[k]));
  double whole = extra_of(r, "bytes_per_task"), stack = extra_of(r, "stack_bytes_per_task"),
         rec = extra_of(r, "record_bytes_per_task");
  /* The peak RSS comes from the kernel's RSS counters, batched per CPU (a percpu
   * counter's batch, max(32, 2 x CPUs) pages each): the whole may read that much low
   * (seen: 32 pages in a spawn cell); and a sampled stack part (sleep) may lean a few
   * % high. */
  long cpus = sysconf(_SC_NPROCESSORS_CONF);
  double slack = (double)(cpus * (cpus * 2 > 32 ? cpus * 2 : 32) * 4096) / extra_of(r, "peak_threads");
  cr_expect_leq(stack + rec, whole * 1.05 + slack, "%s: stack %g + records %g > bytes_per_task %g", what, stack, rec, whole);
  cr_expect_gt(extra_of(r, "stack_vm_bytes_per_task"), stack, "%s: address space below resident pages", what);
  return stack;
}

/* Each cell in a process of its own (Criterion forks one per test): the RSS growth is
 * measured against the process's peak before the phase. */
static void expect_sleep_breakdown(const cb_model *m) {
  inproc_run r;
  const char *const sleep[] = {"ms=200", NULL};
  inproc_execute(&r, m, &cb_workload_sleep, sleep, 5000, 0, NULL);
  cr_assert(r.verdict.verified, "%s: %s", m->name, r.report.error);
  cr_expect_eq(extra_of(&r, "peak_live"), 5000, "%s: all 5000 sleep at once", m->name);
  cr_expect_eq(extra_of(&r, "peak_threads"), 5000, "%s: and exist at once", m->name);
  /* each sleeping thread has touched at least one page of its own stack */
  cr_expect_geq(expect_breakdown(&r, m->name), 4096, "%s sleep", m->name);
  inproc_free(&r);
}
static void expect_spawn_breakdown(const cb_model *m) {
  inproc_run r;
  const char *const spawn[] = {"leaves=100000", "fanout=10", NULL};
  inproc_execute(&r, m, &cb_workload_spawn, spawn, 1, 0, NULL);
  cr_assert(r.verdict.verified, "%s: %s", m->name, r.report.error);
  expect_breakdown(&r, m->name);
  inproc_free(&r);
}
Test(green_model, memory_per_green_thread_in_a_sleep_cell) { expect_sleep_breakdown(&cb_model_green); }
Test(green_model, memory_per_green_thread_in_a_spawn_cell) { expect_spawn_breakdown(&cb_model_green); }
Test(green_model, memory_per_green_thread_in_a_green_mn_sleep_cell) { expect_sleep_breakdown(&cb_model_green_mn); }
Test(green_model, memory_per_green_thread_in_a_green_mn_spawn_cell) { expect_spawn_breakdown(&cb_model_green_mn); }

/* A CPU workload's run cell keeps its figures to itself: none of the model's. */
Test(green_model, a_cpu_run_cell_reports_no_memory_figures) {
  inproc_run r;
  inproc_execute(&r, &cb_model_green, &cb_workload_fib, NULL, 4, 0, NULL);
  cr_expect(r.verdict.verified, "%s", r.report.error);
  cr_expect_eq(r.report.nextra, 0, "fib: %d figures", r.report.nextra);
  inproc_free(&r);
}
