/* test_advise.c — the advice's overlap model on hand-made cell summaries (its terms
 * and its formula), and `concbench advise --check` against the mixed workload on the
 * fixture run tests/fixtures/run-small (sync, threads, procs; see its README). No
 * timing is asserted beyond margins of several times: the machine may be loaded. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/report/advise.h"
#include "harness/report/advise_check.h"
#include "tests/helpers/run_cmd.h"

#define CONCBENCH CB_BIN_DIR "/concbench"
#define FIXTURE CB_SRC_DIR "/tests/fixtures/run-small"

/* ---- the formula ---- */

Test(advise_model, one_core_runs_every_step_one_after_another) {
  /* green-like: P = 1, every job in flight. 100 jobs × 10 rounds × (1 ms + 10 ms):
   * a round of CPU takes 100 ms > a job's 11 ms step and wait, so the CPU bounds
   * every round: 0.1 + 0.01 + 9 × 0.1. */
  cb_advise_terms t = {.capacity = 1, .concurrency = 100, .overhead_s = 0};
  cb_job_shape s = {.cpu_ms = 1, .io_ms = 10, .rounds = 10, .n = 100};
  cr_expect_float_eq(cb_advise_wall(&t, &s), 1.01, 1e-9);
  /* threads-like on 2 cores: half the CPU time per round */
  t.capacity = 2;
  cr_expect_float_eq(cb_advise_wall(&t, &s), 0.05 + 0.01 + 9 * 0.05, 1e-9);
}

Test(advise_model, waits_overlap_cpu_when_the_chain_is_longer) {
  /* 10 jobs × 5 rounds × (1 ms + 100 ms) on 2 cores: a round's CPU (5 ms) is shorter
   * than a job's own chain (101 ms): the first round's CPU, then the chain. */
  cb_advise_terms t = {.capacity = 2, .concurrency = 10, .overhead_s = 0};
  cb_job_shape s = {.cpu_ms = 1, .io_ms = 100, .rounds = 5, .n = 10};
  cr_expect_float_eq(cb_advise_wall(&t, &s), 0.005 + 0.1 + 4 * 0.101, 1e-9);
}

Test(advise_model, sync_adds_everything) {
  /* W = 1: N waves of one job each, nothing overlaps */
  cb_advise_terms t = {.capacity = 1, .concurrency = 1, .overhead_s = 0};
  cb_job_shape s = {.cpu_ms = 2, .io_ms = 3, .rounds = 4, .n = 50};
  cr_expect_float_eq(cb_advise_wall(&t, &s), 50 * 4 * 0.005, 1e-9);
}

Test(advise_model, one_round_is_additive_and_no_wait_is_cpu_over_capacity) {
  cb_advise_terms t = {.capacity = 1.6, .concurrency = 100, .overhead_s = 0.002};
  cb_job_shape one = {.cpu_ms = 4, .io_ms = 20, .rounds = 1, .n = 100};
  cr_expect_float_eq(cb_advise_wall(&t, &one), (100 * 0.004 + 0.002) / 1.6 + 0.02, 1e-9,
                     "the steps and the overhead share the capacity, then the wait");
  cb_job_shape cpu = {.cpu_ms = 4, .io_ms = 0, .rounds = 3, .n = 100};
  cr_expect_float_eq(cb_advise_wall(&t, &cpu), 3 * 100 * 0.004 / 1.6, 1e-9, "no wait: no wait overhead either");
  /* fewer jobs than cores: a step is not split */
  cb_job_shape few = {.cpu_ms = 4, .io_ms = 0, .rounds = 1, .n = 1};
  cr_expect_float_eq(cb_advise_wall(&t, &few), 0.004, 1e-9);
}

Test(advise_model, the_overhead_shares_the_capacity_with_the_steps) {
  /* 100 jobs × 2 rounds × (0.1 ms + 10 ms). loop-like: 2 cores' worth for its
   * steps, 8 ms a round of overhead on its loop thread; green-like: one core,
   * 5 ms. The overhead is CPU the model's cores do while the steps run:
   *   loop:  T = max((10 + 8) / 2, 0.1, 8) = 9 ms; then a job's own chain, its step,
 *          its 0.08 ms share of the overhead and its wait: 9 + 10 + 10.18 = 29.18 ms
   *   green: T = (10 + 5) / 1 = 15 ms;              15 + 10 + 15  = 40 ms
   * Added after the CPU instead (the model before), green would rank first:
   *   loop 5 + 10 + 10.1 + 2 × 8 = 41.1 ms, green 10 + 10 + 10.1 + 2 × 5 = 40.1 ms. */
  cb_advise_terms loop = {.capacity = 2, .concurrency = 100, .overhead_s = 0.008};
  cb_advise_terms green = {.capacity = 1, .concurrency = 100, .overhead_s = 0.005};
  cb_job_shape s = {.cpu_ms = 0.1, .io_ms = 10, .rounds = 2, .n = 100};
  cr_expect_float_eq(cb_advise_wall(&loop, &s), 0.009 + 0.010 + 0.01018, 1e-9);
  cr_expect_float_eq(cb_advise_wall(&green, &s), 0.015 + 0.010 + 0.015, 1e-9);
  cr_expect(cb_advise_wall(&loop, &s) < cb_advise_wall(&green, &s), "the loop overlaps its overhead with its executor");
  /* no faster than the overhead alone: 10 jobs of 0.01 ms, 10 ms of overhead on
   * 2 cores would be 5.05 ms if the overhead split; it took 10 ms on the io cells */
  cb_advise_terms big = {.capacity = 2, .concurrency = 10, .overhead_s = 0.010};
  cb_job_shape small = {.cpu_ms = 0.01, .io_ms = 1, .rounds = 1, .n = 10};
  cr_expect_float_eq(cb_advise_wall(&big, &small), 0.010 + 0.001, 1e-9);
  /* in waves (W < N) each wave carries its share of the round's overhead */
  cb_advise_terms waves = {.capacity = 1, .concurrency = 1, .overhead_s = 0.004};
  cb_job_shape two = {.cpu_ms = 1, .io_ms = 2, .rounds = 3, .n = 4};
  cr_expect_float_eq(cb_advise_wall(&waves, &two), 4 * 3 * (0.001 + 0.001 + 0.002), 1e-9,
                     "sync-like: N × rounds × (cpu + io) + rounds × O");
}

/* ---- the terms, from hand-made cells ---- */

static cb_cell_summary cells[16];
static size_t ncells;

static void cell(const char *model, const char *workload, const char *kind, long long n, long long conc, int cores,
                 const char *params, double job_s) {
  cb_cell_summary *c = &cells[ncells++];
  memset(c, 0, sizeof *c);
  snprintf(c->id, sizeof c->id, "%s-%s-n%lld-k%d", workload, model, n, cores);
  snprintf(c->model, sizeof c->model, "%s", model);
  snprintf(c->workload, sizeof c->workload, "%s", workload);
  snprintf(c->kind, sizeof c->kind, "%s", kind);
  c->tasks = n;
  c->eff_concurrency = conc;
  c->cores = cores;
  c->params = json_loads(params, 0, NULL);
  snprintf(c->status, sizeof c->status, "ok");
  c->verified = 1;
  c->job_wall.median = job_s;
}

/* pow on 2 cores (sync 1 s; green as slow as sync, threads twice as fast, procs
 * 1.6×) and sleep (20 ms) at N = 100: sync one at a time, the others all at once
 * with a few ms over the wait. */
static void hand_made_run(cb_run_results *r) {
  ncells = 0;
  const char *pow = "{\"base\": 7777, \"exp\": 200000}", *sleep = "{\"ms\": 20}";
  cell("sync", "pow", "cpu", 32, 1, 2, pow, 1.0);
  cell("green", "pow", "cpu", 32, 32, 2, pow, 1.0);
  cell("threads", "pow", "cpu", 32, 32, 2, pow, 0.5);
  cell("procs", "pow", "cpu", 32, 32, 2, pow, 0.625);
  cell("sync", "sleep", "io", 100, 1, 2, sleep, 2.01);
  cell("green", "sleep", "io", 100, 100, 2, sleep, 0.021);
  cell("threads", "sleep", "io", 100, 100, 2, sleep, 0.025);
  cell("procs", "sleep", "io", 100, 100, 2, sleep, 0.040);
  memset(r, 0, sizeof *r);
  r->cells = cells;
  r->ncells = ncells;
}

static const cb_advice *find(const cb_advice *a, size_t n, const char *model) {
  for (size_t k = 0; k < n; k++)
    if (strcmp(a[k].model, model) == 0) return &a[k];
  cr_assert_fail("no advice for %s", model);
  return NULL;
}

Test(advise_model, terms_come_from_the_cells) {
  cb_run_results r;
  hand_made_run(&r);
  cb_job_shape s = {.cpu_ms = 1, .io_ms = 10, .rounds = 10, .n = 100};
  cb_advice a[8];
  size_t na = cb_advise_shape(&r, &s, a, 8);
  cr_assert_eq(na, 4);
  const cb_advice *green = find(a, na, "green"), *threads = find(a, na, "threads"), *procs = find(a, na, "procs"),
                  *sync = find(a, na, "sync");
  cr_expect_float_eq(green->terms.capacity, 1, 1e-9, "green: one core");
  cr_expect_float_eq(threads->terms.capacity, 2, 1e-9, "threads: the cores");
  cr_expect_float_eq(procs->terms.capacity, 1.6, 1e-9);
  cr_expect_float_eq(sync->terms.capacity, 1, 1e-9);
  cr_expect_float_eq(sync->terms.concurrency, 1, 1e-9, "sync waits one job at a time");
  cr_expect_float_eq(threads->terms.concurrency, 100, 1e-9);
  cr_expect_float_eq(threads->terms.overhead_s, 0.005, 1e-9, "25 ms measured for a 20 ms wait");
  cr_expect_float_eq(sync->terms.overhead_s, 0.01, 1e-9, "2.01 s for 100 waves of 20 ms");
  cr_expect_str_eq(a[0].model, "threads", "threads: most cores, least overhead");
  /* a round's CPU: (100 × 1 ms + 5 ms of overhead) / 2 cores = 52.5 ms > 11 ms */
  cr_expect_float_eq(threads->predicted_s, 0.0525 + 0.01 + 9 * 0.0525, 1e-9);
  cr_expect_float_eq(sync->predicted_s, 100 * 10 * 0.011 + 10 * 0.01, 1e-9);
  /* the additive model, beside: compute N × rounds × cpu × (model / sync), wait
   * rounds × io × (time / wait) */
  cr_expect_float_eq(green->additive_s, 100 * 10 * 0.001 + 10 * 0.010 * (0.021 / 0.020), 1e-9);
  cr_expect(green->predicted_s < green->additive_s, "overlap is credited");
  for (size_t k = 0; k < ncells; k++) json_decref(cells[k].params);
}

Test(advise_model, capacity_from_the_kernels_own_cpu_cells_when_asked) {
  /* the mixed workload's pure-CPU cells (io_ms = 0): threads 1.6× sync and procs 2×
   * at cpu_us = 10000, where a job is mostly its step; at 100 µs threads only 1.1×
   * (the per-job costs); pow says threads 2×, procs 1.6× */
  cb_run_results r;
  hand_made_run(&r);
  const char *big = "{\"rounds\": 2, \"cpu_us\": 10000, \"io_ms\": 0}", *small = "{\"rounds\": 2, \"cpu_us\": 100, \"io_ms\": 0}";
  cell("sync", "mixed", "mixed", 100, 1, 2, small, 0.022);
  cell("threads", "mixed", "mixed", 100, 100, 2, small, 0.020);
  cell("sync", "mixed", "mixed", 100, 1, 2, big, 2.0);
  cell("threads", "mixed", "mixed", 100, 100, 2, big, 1.25);
  cell("procs", "mixed", "mixed", 100, 100, 2, big, 1.0);
  r.cells = cells;
  r.ncells = ncells;
  cb_job_shape s = {.cpu_ms = 1, .io_ms = 10, .rounds = 2, .n = 100, .kernel = "mixed"};
  cb_advice a[8];
  size_t na = cb_advise_shape(&r, &s, a, 8);
  cr_expect_float_eq(find(a, na, "threads")->terms.capacity, 1.6, 1e-9, "the largest step's cell");
  cr_expect_float_eq(find(a, na, "procs")->terms.capacity, 2, 1e-9);
  cr_expect_str_eq(find(a, na, "threads")->capacity_from, "mixed's cell at cpu_us=10000, io_ms=0");
  cr_expect_float_eq(find(a, na, "threads")->kernel_cpu_us, 10000, 1e-9);
  cr_expect_float_eq(find(a, na, "threads")->additive_s, 100 * 2 * 0.001 * 1.25 / 2.0 + 2 * 0.010 * (0.025 / 0.020),
                     1e-9, "the additive model's compute from the same cells");
  /* green has no kernel cell: the cpu workloads speak for it */
  cr_expect_float_eq(find(a, na, "green")->terms.capacity, 1, 1e-9);
  cr_expect_str_eq(find(a, na, "green")->capacity_from, "the cpu workloads");
  /* not asked (advise for a job of unknown CPU): the cpu workloads */
  s.kernel = NULL;
  na = cb_advise_shape(&r, &s, a, 8);
  cr_expect_float_eq(find(a, na, "threads")->terms.capacity, 2, 1e-9);
  cr_expect_float_eq(find(a, na, "procs")->terms.capacity, 1.6, 1e-9);
  for (size_t k = 0; k < ncells; k++) json_decref(cells[k].params);
}

Test(advise_model, a_model_that_gave_out_is_not_usable) {
  cb_run_results r;
  hand_made_run(&r);
  snprintf(cells[7].status, sizeof cells[7].status, "timeout");
  cells[7].verified = 0;
  cb_advice a[8];
  cb_job_shape s = {.cpu_ms = 1, .io_ms = 10, .rounds = 2, .n = 100};
  size_t na = cb_advise_shape(&r, &s, a, 8);
  const cb_advice *procs = find(a, na, "procs");
  cr_expect_eq(procs->usable, 0);
  cr_expect(strstr(procs->note, "timeout") != NULL, "%s", procs->note);
  cr_expect_str_eq(a[na - 1].model, "procs", "not usable ranks last");
  for (size_t k = 0; k < ncells; k++) json_decref(cells[k].params);
}

Test(advise_model, shapes_parse) {
  cb_check_opts o = {0};
  cr_expect_eq(cb_check_parse_shapes("100:10,0:5,10000:0", &o), 0);
  cr_expect_eq(o.nshapes, 3);
  cr_expect_float_eq(o.cpu_us[2], 10000, 1e-9);
  cr_expect_float_eq(o.io_ms[1], 5, 1e-9);
  cr_expect_neq(cb_check_parse_shapes("0:0", &o), 0, "nothing to do");
  cr_expect_neq(cb_check_parse_shapes("100", &o), 0);
  cr_expect_neq(cb_check_parse_shapes("100:10,", &o), 0);
  cr_expect_neq(cb_check_parse_shapes("-1:10", &o), 0);
  cr_expect_neq(cb_check_parse_shapes("", &o), 0);
  cb_check_default_shapes(&o);
  cr_expect_eq(o.nshapes, 7);
  o.n = 100;
  o.budget_s = 3;
  cr_expect_eq(cb_check_rounds(&o, 1000, 100), 1, "sync would take 10 s a round");
  cr_expect_eq(cb_check_rounds(&o, 100, 1), 10, "at most 10");
  o.rounds = 4;
  cr_expect_eq(cb_check_rounds(&o, 1000, 100), 4, "--rounds wins");
}

/* ---- the command ---- */

static json_t *check_json(char *const extra[], cmd_result *r) {
  char *argv[32] = {CONCBENCH, "advise", "--check", "--run", FIXTURE, "--json"};
  int n = 6;
  for (int k = 0; extra[k]; k++) argv[n++] = extra[k];
  argv[n] = NULL;
  run_cmd(argv, 120, r);
  json_error_t e;
  json_t *doc = json_loads(r->out, 0, &e);
  cr_assert_not_null(doc, "not JSON (%s), exit %d: %s %s", e.text, r->code, r->out, r->err);
  /* the exit status says whether both targets were met (0) or one was missed (1) */
  int met = json_is_true(json_object_get(doc, "target_best")) && json_is_true(json_object_get(doc, "target_error"));
  cr_expect_eq(json_is_true(json_object_get(doc, "targets_met")), met, "%s", r->out);
  cr_assert_eq(r->code, met ? 0 : 1, "advise --check exit %d with the targets %s: %s", r->code, met ? "met" : "missed",
               r->err);
  return doc;
}

Test(advise_check, predicted_and_measured_with_the_error) {
  cmd_result r;
  char *extra[] = {"--shapes", "1000:1", "--tasks", "4", "--rounds", "2", "--io", "sleep", "--models", "sync,threads", NULL};
  json_t *doc = check_json(extra, &r);
  json_t *shapes = json_object_get(doc, "shapes");
  cr_assert_eq(json_array_size(shapes), 1);
  json_t *sh = json_array_get(shapes, 0), *models = json_object_get(sh, "models");
  cr_expect_eq(json_integer_value(json_object_get(sh, "rounds")), 2);
  cr_assert_eq(json_array_size(models), 2, "%s", r.out);
  size_t k;
  json_t *m;
  json_array_foreach(models, k, m) {
    const char *name = json_string_value(json_object_get(m, "model"));
    cr_expect(strcmp(name, "sync") == 0 || strcmp(name, "threads") == 0, "%s", name);
    cr_assert(json_is_number(json_object_get(m, "predicted_s")), "%s: %s", name, r.out);
    json_t *meas = json_object_get(m, "measured_s");
    cr_assert(json_is_number(meas), "%s not measured: %s", name, r.out);
    double p = json_number_value(json_object_get(m, "predicted_s")), x = json_number_value(meas);
    cr_expect(x > 0.001 && x < 5, "%s measured %g s for 4 × 2 × (1 ms + 1 ms)", name, x);
    cr_expect_float_eq(json_number_value(json_object_get(m, "error")), (p - x) / x, 1e-4 * (1 + p / x),
                      "error = (pred - meas) / meas");
    cr_expect_str_eq(json_string_value(json_object_get(m, "status")), "ok");
  }
  cr_expect(json_is_string(json_object_get(sh, "measured_best")), "%s", r.out);
  cr_expect(json_is_number(json_object_get(doc, "median_abs_error")), "%s", r.out);
  json_decref(doc);
  cmd_result_free(&r);
}

Test(advise_check, the_table_has_both_columns) {
  char *argv[] = {CONCBENCH, "advise", "--check", "--run", FIXTURE, "--shapes", "500:1", "--tasks", "2", "--rounds",
                  "1", "--io", "sleep", "--models", "threads", NULL};
  cmd_result r;
  run_cmd(argv, 120, &r);
  cr_assert(r.code == 0 || r.code == 1, "exit %d: %s", r.code, r.err);
  cr_expect(strstr(r.out, r.code == 0 ? "summary: both targets met (exit 0)" : "summary: a target missed (exit 1)") != NULL,
            "exit %d: %s", r.code, r.out);
  cr_expect(strstr(r.out, "predicted (s)") && strstr(r.out, "measured (s)") && strstr(r.out, "error"), "%s", r.out);
  cr_expect(strstr(r.out, "\nthreads ") != NULL, "%s", r.out);
  cr_expect(strstr(r.out, "built from: P from the cpu workloads; W and O: the io workloads at N=2") != NULL,
            "the fixture has no mixed cells: %s", r.out);
  cr_expect(strstr(r.out, "predicted best: threads; measured best: threads") != NULL, "%s", r.out);
  cr_expect(strstr(r.out, "summary: predicted best is the measured best or within 10% of it in 1 of 1 shapes") != NULL,
            "%s", r.out);
  cr_expect(strstr(r.out, "summary: median absolute prediction error") != NULL, "%s", r.out);
  cmd_result_free(&r);
}

Test(advise_check, a_run_over_the_limit_is_a_failure_not_a_figure) {
  /* sync: 4 jobs × 3 rounds × 1 s of sleep one after another = 12 s, limit 1 s */
  cmd_result r;
  char *extra[] = {"--shapes", "0:1000", "--tasks", "4", "--rounds", "3", "--io", "sleep", "--models", "sync",
                   "--limit", "1", NULL};
  json_t *doc = check_json(extra, &r);
  json_t *m = json_array_get(json_object_get(json_array_get(json_object_get(doc, "shapes"), 0), "models"), 0);
  cr_assert_not_null(m, "%s", r.out);
  cr_expect(json_is_null(json_object_get(m, "measured_s")), "%s", r.out);
  cr_expect(json_is_null(json_object_get(m, "error")), "%s", r.out);
  cr_expect_str_eq(json_string_value(json_object_get(m, "status")), "timeout");
  cr_expect(json_is_null(json_object_get(json_array_get(json_object_get(doc, "shapes"), 0), "measured_best")));
  cr_expect_eq(json_integer_value(json_object_get(doc, "failed_runs")), 1);
  cr_expect(json_is_false(json_object_get(doc, "target_best")), "no measured best: the best cannot hold");
  cr_expect(json_is_false(json_object_get(doc, "target_error")), "no cell both predicted and measured");
  cr_expect_eq(r.code, 1, "a missed target exits 1");
  json_decref(doc);
  cmd_result_free(&r);
}

Test(advise_check, against_the_run_measures_nothing_and_says_what_is_missing) {
  /* the fixture has no mixed cells: every row is "not in run", no figure, a miss */
  cmd_result r;
  char *extra[] = {"--against-run", "--shapes", "1000:10", "--tasks", "100", NULL};
  json_t *doc = check_json(extra, &r);
  cr_expect(json_is_true(json_object_get(doc, "against_run")), "%s", r.out);
  json_t *sh = json_array_get(json_object_get(doc, "shapes"), 0), *models = json_object_get(sh, "models");
  cr_assert_gt(json_array_size(models), 0, "%s", r.out);
  size_t k;
  json_t *m;
  json_array_foreach(models, k, m) {
    cr_expect_str_eq(json_string_value(json_object_get(m, "status")), "not in run");
    cr_expect(json_is_null(json_object_get(m, "measured_s")), "%s", r.out);
  }
  cr_expect(json_is_null(json_object_get(sh, "measured_best")), "%s", r.out);
  cr_expect_eq(r.code, 1, "nothing measured: the targets are missed");
  json_decref(doc);
  cmd_result_free(&r);
}

static void expect_usage(char *const argv[], const char *needle) {
  cmd_result r;
  run_cmd(argv, 30, &r);
  cr_expect_eq(r.code, 2, "%s: exit %d, want 2; stderr: %s", argv[3] ? argv[3] : "", r.code, r.err);
  cr_expect_eq(count_lines(r.err), 1, "stderr has %d lines: %s", count_lines(r.err), r.err);
  cr_expect(strstr(r.err, needle) != NULL, "stderr '%s' does not name '%s'", r.err, needle);
  cr_expect_eq(r.out[0], '\0', "nothing on stdout: %s", r.out);
  cmd_result_free(&r);
}

#define USAGE(needle, ...)                                           \
  do {                                                               \
    char *const argv[] = {CONCBENCH, "advise", "--check", __VA_ARGS__, NULL}; \
    expect_usage(argv, needle);                                      \
  } while (0)

Test(advise_check, bad_arguments_are_one_line_and_exit_2) {
  USAGE("--tasks", "--tasks", "0");
  USAGE("--shapes", "--shapes", "100");
  USAGE("--shapes", "--shapes", "0:0");
  USAGE("--rounds", "--rounds", "x");
  USAGE("--io", "--io", "disk");
  USAGE("--limit", "--limit", "0");
  USAGE("--runs", "--runs", "99");
  USAGE("needs a value", "--models");
  USAGE("unknown argument", "--frob");
  USAGE("unknown argument '?x'", "\nx");
  USAGE("--run", "--run", "/nonexistent");
}

/* ---- the map ---- */

#include "harness/report/map.h"

static void mixed_cell(const char *model, long long n, double cpu_us, double io_ms, double wall_s) {
  char params[128];
  snprintf(params, sizeof params, "{\"rounds\": 10, \"cpu_us\": %g, \"io_ms\": %g, \"io\": \"sleep\"}", cpu_us, io_ms);
  cell(model, "mixed", "mixed", n, n, 2, params, wall_s);
  cells[ncells - 1].wall.median = wall_s;
  if (wall_s <= 0) {
    snprintf(cells[ncells - 1].status, sizeof cells[ncells - 1].status, "timeout");
    cells[ncells - 1].verified = 0;
  }
}

Test(advise_map, each_square_names_the_winner_and_its_margin) {
  ncells = 0;
  mixed_cell("threads", 100, 1000, 10, 0.30);
  mixed_cell("green", 100, 1000, 10, 0.40);
  mixed_cell("loop", 100, 1000, 10, 0.25);
  mixed_cell("green", 100, 0, 10, 0.11);
  mixed_cell("threads", 100, 0, 10, 0.13);
  mixed_cell("sync", 100, 10000, 0, 0);   /* failed: no figure */
  mixed_cell("threads", 100, 10000, 0, 0.6);
  mixed_cell("sync", 100, 100, 1, 0);     /* every model failed there */
  mixed_cell("loop", 1000, 1000, 10, 0.01); /* another N: not on this map */
  cb_run_results r = {.cells = cells, .ncells = ncells};
  cb_map m;
  cb_map_build(&r, &m);
  cr_assert_eq(m.n, 100);
  cr_assert_eq(m.ncpu, 4, "cpu_us 0, 100, 1000, 10000");
  cr_assert_eq(m.nio, 3, "io_ms 0, 1, 10");
  cr_expect_float_eq(m.cpu_us[2], 1000, 1e-9);
  const cb_map_square *s = &m.sq[2][2];
  cr_expect_str_eq(s->best, "loop");
  cr_expect_str_eq(s->runner, "threads");
  cr_expect_float_eq(s->margin, 0.30 / 0.25, 1e-9);
  cr_expect_str_eq(m.sq[0][2].best, "green");
  cr_expect_float_eq(m.sq[0][2].margin, 0.13 / 0.11, 1e-9);
  cr_expect_str_eq(m.sq[3][0].best, "threads");
  cr_expect_str_eq(m.sq[3][0].runner, "", "the only model that verified");
  cr_expect_eq(m.sq[3][0].failed, 1);
  cr_expect_eq(m.sq[1][1].measured, 0);
  cr_expect_eq(m.present[1][1], 1);
  char buf[1024] = "";
  FILE *f = fmemopen(buf, sizeof buf - 1, "w");
  int rows = cb_map_data(&m, f);
  fclose(f);
  cr_expect_eq(rows, 3, "%s", buf);
  cr_expect(strstr(buf, "2 2 1000 10 loop threads 1.200 ") != NULL, "%s", buf);
  cr_expect(strstr(buf, "3 0 10000 0 threads - 0.000 ") != NULL, "%s", buf);
  for (size_t k = 0; k < ncells; k++) json_decref(cells[k].params);
}

Test(advise_model, capacity_is_no_more_than_the_model_gains_from_cores) {
  /* sync's 2-core cell was slowed by other work (1.3 s against 1.0 s on one core):
   * green's speed-up over it, 1.3, is noise, since green gains nothing from the
   * second core; threads gain 2× from it and are capped by the cores. */
  ncells = 0;
  const char *pow = "{\"base\": 7777, \"exp\": 200000}";
  cell("sync", "pow", "cpu", 32, 1, 1, pow, 1.0);
  cell("green", "pow", "cpu", 32, 32, 1, pow, 1.0);
  cell("threads", "pow", "cpu", 32, 32, 1, pow, 1.0);
  cell("sync", "pow", "cpu", 32, 1, 2, pow, 1.3);
  cell("green", "pow", "cpu", 32, 32, 2, pow, 1.0);
  cell("threads", "pow", "cpu", 32, 32, 2, pow, 0.5);
  cb_run_results r = {.cells = cells, .ncells = ncells};
  cb_advice a[8];
  size_t na = cb_advise(&r, 10, 0, 100, a, 8);
  cr_expect_float_eq(find(a, na, "green")->terms.capacity, 1, 1e-9);
  cr_expect_float_eq(find(a, na, "threads")->terms.capacity, 2, 1e-9);
  cr_expect_float_eq(find(a, na, "sync")->terms.capacity, 1, 1e-9);
  for (size_t k = 0; k < ncells; k++) json_decref(cells[k].params);
}

Test(advise_model, the_gain_bound_is_the_best_scaling_workloads) {
  /* threads gain 2× from the second core on pow but 1.25× on a memory-bound
   * workload (bandwidth, not cores; sync's 2-core cell was faster too, so threads
   * are 2× sync on both): the bound is the best gain, 2, not the geometric mean
   * 1.58; the kernel's own cell (threads 1.9× sync) is not bounded by them */
  ncells = 0;
  const char *pow = "{\"base\": 7777, \"exp\": 200000}", *mem = "{\"mb\": 16, \"passes\": 2}";
  const char *big = "{\"rounds\": 2, \"cpu_us\": 10000, \"io_ms\": 0}";
  cell("sync", "pow", "cpu", 32, 1, 1, pow, 1.0);
  cell("threads", "pow", "cpu", 32, 32, 1, pow, 1.0);
  cell("sync", "pow", "cpu", 32, 1, 2, pow, 1.0);
  cell("threads", "pow", "cpu", 32, 32, 2, pow, 0.5);
  cell("sync", "membw", "cpu", 32, 1, 1, mem, 1.0);
  cell("threads", "membw", "cpu", 32, 32, 1, mem, 1.0);
  cell("sync", "membw", "cpu", 32, 1, 2, mem, 1.6);
  cell("threads", "membw", "cpu", 32, 32, 2, mem, 0.8);
  cell("sync", "mixed", "mixed", 100, 1, 2, big, 1.9);
  cell("threads", "mixed", "mixed", 100, 100, 2, big, 1.0);
  cb_run_results r = {.cells = cells, .ncells = ncells};
  cb_advice a[8];
  cb_job_shape s = {.cpu_ms = 10, .io_ms = 0, .rounds = 1, .n = 100, .kernel = "mixed"};
  size_t na = cb_advise_shape(&r, &s, a, 8);
  cr_expect_float_eq(find(a, na, "threads")->terms.capacity, 1.9, 1e-9);
  /* the kernel's own cell is not bounded by the other kernels' gain: threads gain
   * 1.25× on pow too now, their kernel cell still says 1.9 */
  cells[3].job_wall.median = 0.8;
  na = cb_advise_shape(&r, &s, a, 8);
  cr_expect_float_eq(find(a, na, "threads")->terms.capacity, 1.9, 1e-9);
  cells[3].job_wall.median = 0.5;
  s.kernel = NULL; /* the cpu workloads: 2× sync on both, bounded by the best gain 2 */
  na = cb_advise_shape(&r, &s, a, 8);
  cr_expect_float_eq(find(a, na, "threads")->terms.capacity, 2, 1e-9);
  for (size_t k = 0; k < ncells; k++) json_decref(cells[k].params);
}
