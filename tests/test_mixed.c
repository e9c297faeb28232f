/* test_mixed.c — the mixed and membw workloads' own tests: every model verifies them
 * for small shapes (mixed with io=sleep and io=delayd, the loop's CPU step on the
 * executor and inline; membw at 1..4 MiB); a job that skips work fails; expected()
 * changes with every parameter that changes the work; the calibration is stored once
 * and read by both the job and expected(); bad parameters are one line and exit 2. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "runtimes/green/green.h"
#include "runtimes/loop/model.h"
#include "runtimes/models.h"
#include "tests/helpers/inproc.h"
#include "tests/helpers/run_cmd.h"
#include "workloads/mixed.h"
#include "workloads/workloads.h"

#define CONCBENCH CB_BIN_DIR "/concbench"

TestSuite(mixed, .timeout = 120);

static void expect_verified(const cb_model *m, const cb_workload *w, const char *const p[], uint64_t tasks,
                            uint64_t conc, const char *url) {
  inproc_run r;
  inproc_execute(&r, m, w, p, tasks, conc, url);
  cr_expect_eq(r.rc, 0, "%s/%s %s %s: rc %d (%s)", m->name, w->name, p[0], p[3] ? p[3] : "", r.rc, r.report.error);
  cr_expect(r.verdict.verified, "%s/%s %s %s %s N=%llu C=%llu: ok %llu failed %llu wrong %llu: %s", m->name, w->name,
            p[0], p[3] ? p[3] : "", p[4] ? p[4] : "", (unsigned long long)tasks, (unsigned long long)conc,
            (unsigned long long)r.verdict.ok, (unsigned long long)r.verdict.failed,
            (unsigned long long)r.verdict.wrong, r.report.error);
  cr_expect_eq(r.verdict.ok, tasks, "%s/%s", m->name, w->name);
  inproc_free(&r);
}

static int runnable(const cb_model *m) { return m->run && !m->reference; }

/* ---- mixed ---- */

Test(mixed, every_model_verifies_with_sleep_and_delayd, .timeout = 180) {
  cb_server srv;
  inproc_start_delayd(&srv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  static const char *const shapes[][6] = {
      {"rounds=3", "cpu_us=200", "io_ms=2", "io=sleep", NULL},
      {"rounds=3", "cpu_us=200", "io_ms=2", "io=delayd", NULL},
      {"rounds=2", "cpu_us=0", "io_ms=0", "io=delayd", NULL},
      {"rounds=3", "cpu_us=200", "io_ms=2", "io=sleep", "offload=inline", NULL},
      {"rounds=3", "cpu_us=200", "io_ms=2", "io=delayd", "offload=inline", NULL},
  };
  size_t n;
  const cb_model *const *all = cb_model_all(&n);
  for (size_t k = 0; k < n; k++) {
    if (!runnable(all[k])) continue;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
      if (shapes[s][4] && strcmp(all[k]->name, "loop") != 0) continue; /* offload: the loop's parameter */
      expect_verified(all[k], &cb_workload_mixed, shapes[s], 6, 0, srv.url);
      expect_verified(all[k], &cb_workload_mixed, shapes[s], 6, 2, srv.url);
    }
  }
  cb_server_stop(&srv);
}

Test(mixed, the_kernel_and_its_closed_form_agree) {
  const uint64_t iters[] = {0, 1, 2, 3, 7, 1000, 65537, 1u << 20};
  for (uint64_t seed = 0; seed < 4; seed++)
    for (size_t k = 0; k < sizeof iters / sizeof iters[0]; k++) {
      uint64_t x = cb_mixed_round_seed(seed, k);
      cr_expect_eq(cb_mixed_kernel(x, iters[k]), cb_mixed_kernel_jump(x, iters[k]), "seed %llu iters %llu",
                   (unsigned long long)seed, (unsigned long long)iters[k]);
    }
  /* One step more or less is another value. */
  uint64_t x = cb_mixed_round_seed(1, 1);
  cr_expect_neq(cb_mixed_kernel_jump(x, 1000), cb_mixed_kernel_jump(x, 999));
  cr_expect_neq(cb_mixed_kernel_jump(x, 1000), cb_mixed_kernel_jump(x, 1001));
}

/* prepare() with the given overrides, into *env (params in *p). */
static void prepared_env(cb_job_env *env, cb_params *p, const char *const overrides[]) {
  inproc_params(&cb_workload_mixed, p, overrides);
  *env = (cb_job_env){.workload = &cb_workload_mixed, .params = p};
  char err[CB_ERR_LEN] = "";
  cr_assert_eq(cb_workload_mixed.prepare(env, err), 0, "%s", err);
  cr_assert_not_null(env->prepared);
}

Test(mixed, the_calibration_is_stored_once_and_read_by_job_and_expected) {
  const char *const p[] = {"rounds=2", "cpu_us=300", "io_ms=0", "io=sleep", NULL};
  cb_params params;
  cb_job_env env;
  prepared_env(&env, &params, p);
  cb_mixed_prep *prep = env.prepared;
  cr_expect_gt(prep->iters_per_us, 1.0, "calibrated %.3f steps/us", prep->iters_per_us);
  cr_expect_eq(prep->iters_per_round, (uint64_t)(300 * prep->iters_per_us + 0.5));
  uint64_t result = 0;
  char err[CB_ERR_LEN] = "";
  cr_assert_eq(cb_workload_mixed.job(&env, 3, &result, err), 0, "%s", err);
  cr_expect_eq(result, cb_workload_mixed.expected(&env, 3));
  /* The count both read is the stored one: change it and both change with it. */
  prep->iters_per_round += 1;
  uint64_t result2 = 0;
  cr_assert_eq(cb_workload_mixed.job(&env, 3, &result2, err), 0, "%s", err);
  cr_expect_neq(result2, result);
  cr_expect_eq(result2, cb_workload_mixed.expected(&env, 3));
  cb_workload_mixed.release(&env);
  cr_expect_null(env.prepared);
}

Test(mixed, expected_changes_with_every_parameter_of_the_work) {
  const char *const base[] = {"rounds=3", "cpu_us=100", "io_ms=1", "io=delayd", NULL};
  const char *const other[][5] = {
      {"rounds=4", "cpu_us=100", "io_ms=1", "io=delayd", NULL},
      {"rounds=3", "cpu_us=101", "io_ms=1", "io=delayd", NULL},
      {"rounds=3", "cpu_us=100", "io_ms=1", "io=sleep", NULL},
  };
  cb_params pb;
  cb_job_env eb;
  prepared_env(&eb, &pb, base);
  double rate = ((cb_mixed_prep *)eb.prepared)->iters_per_us;
  for (size_t k = 0; k < sizeof other / sizeof other[0]; k++) {
    cb_params po;
    cb_job_env eo;
    prepared_env(&eo, &po, other[k]);
    /* The same calibration for both, so that only the parameter differs. */
    cb_mixed_prep *q = eo.prepared;
    q->iters_per_us = rate;
    q->iters_per_round = (uint64_t)((double)po.v[cb_param_index(&cb_workload_mixed, "cpu_us")] * rate + 0.5);
    for (uint64_t i = 0; i < 3; i++)
      cr_expect_neq(cb_workload_mixed.expected(&eb, i), cb_workload_mixed.expected(&eo, i), "%s %s %s, job %llu",
                    other[k][0], other[k][1], other[k][3], (unsigned long long)i);
    cb_workload_mixed.release(&eo);
  }
  cr_expect_neq(cb_workload_mixed.expected(&eb, 0), cb_workload_mixed.expected(&eb, 1));
  cb_workload_mixed.release(&eb);
}

/* A job that does one kernel step less per round than it was calibrated for. */
static int short_job(const cb_job_env *env, uint64_t i, uint64_t *result, char err[CB_ERR_LEN]) {
  cb_mixed_prep less = *(const cb_mixed_prep *)env->prepared;
  less.iters_per_round -= 1;
  cb_job_env e = *env;
  e.prepared = &less;
  return cb_workload_mixed.job(&e, i, result, err);
}

/* What a job with one kernel step more per round would produce: for the loop, whose
 * coroutine cannot be wrapped, the check runs the other way round. */
static uint64_t long_expected(const cb_job_env *env, uint64_t i) {
  cb_mixed_prep more = *(const cb_mixed_prep *)env->prepared;
  more.iters_per_round += 1;
  cb_job_env e = *env;
  e.prepared = &more;
  return cb_workload_mixed.expected(&e, i);
}

Test(mixed, a_job_that_skips_work_fails_verification) {
  const char *const p[] = {"rounds=2", "cpu_us=50", "io_ms=1", "io=sleep", NULL};
  cb_workload w = cb_workload_mixed;
  w.job = short_job;
  const cb_model *ms[] = {&cb_model_sync, &cb_model_threads, &cb_model_procs, &cb_model_green};
  for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++) {
    inproc_run r;
    inproc_execute(&r, ms[k], &w, p, 4, 0, NULL);
    cr_expect_eq(r.rc, 0, "%s", ms[k]->name);
    cr_expect_not(r.verdict.verified, "%s", ms[k]->name);
    cr_expect_eq(r.verdict.wrong, 4, "%s: wrong %llu", ms[k]->name, (unsigned long long)r.verdict.wrong);
    inproc_free(&r);
  }
  cb_workload l = cb_workload_mixed;
  l.expected = long_expected;
  const char *const offload[][6] = {{"rounds=2", "cpu_us=50", "io_ms=1", "io=sleep", "offload=executor", NULL},
                                    {"rounds=2", "cpu_us=50", "io_ms=1", "io=sleep", "offload=inline", NULL}};
  for (size_t k = 0; k < 2; k++) {
    inproc_run r;
    inproc_execute(&r, &cb_model_loop, &l, offload[k], 4, 0, NULL);
    cr_expect_eq(r.rc, 0);
    cr_expect_not(r.verdict.verified, "loop %s", offload[k][4]);
    cr_expect_eq(r.verdict.wrong, 4, "loop %s", offload[k][4]);
    inproc_free(&r);
  }
}

Test(mixed, wait_s_is_rounds_times_io_ms) {
  cb_params p;
  const char *const o[] = {"rounds=7", "io_ms=30", NULL};
  inproc_params(&cb_workload_mixed, &p, o);
  cb_job_env env = {.workload = &cb_workload_mixed, .params = &p};
  cr_expect(fabs(cb_workload_mixed.wait_s(&env) - 0.21) < 1e-12);
  cr_expect_eq(cb_workload_mixed.kind, CB_KIND_MIXED);
  cr_expect(cb_workload_mixed.needs_server);
}

/* ---- bad parameters: one line, exit 2, no record ---- */

static void expect_usage_error(char *const argv[], const char *needle) {
  cmd_result r;
  run_cmd(argv, 60, &r);
  cr_expect(r.exited && r.code == 2, "%s %s: exit %d, want 2; stderr: %s", argv[5], argv[7], r.code, r.err);
  cr_expect_eq(count_lines(r.err), 1, "%s: stderr has %d lines: %s", argv[7], count_lines(r.err), r.err);
  cr_expect(strstr(r.err, needle) != NULL, "stderr '%s' does not name '%s'", r.err, needle);
  cr_expect_str_empty(r.out, "%s: the cell ran: %s", argv[7], r.out);
  cmd_result_free(&r);
}

#define RUN_BAD(workload, param, needle)                                                                      \
  do {                                                                                                        \
    char *const argv[] = {CONCBENCH, "run", "--model", "sync", "--workload", workload, "--param", param, NULL}; \
    expect_usage_error(argv, needle);                                                                         \
  } while (0)

Test(mixed, bad_mixed_parameters_are_one_line_and_exit_2) {
  RUN_BAD("mixed", "rounds=0", "rounds");
  RUN_BAD("mixed", "rounds=100001", "rounds");
  RUN_BAD("mixed", "cpu_us=-1", "cpu_us");
  RUN_BAD("mixed", "cpu_us=10000001", "cpu_us");
  RUN_BAD("mixed", "io_ms=600001", "io_ms");
  RUN_BAD("mixed", "io=disk", "io");
  RUN_BAD("mixed", "offload=gpu", "offload");
  RUN_BAD("mixed", "bytes=5", "bytes");
}

/* ---- membw ---- */

Test(mixed, membw_verifies_under_every_model_and_reports_gb_per_s, .timeout = 180) {
  static const char *const shapes[][4] = {
      {"mb=1", "passes=1", NULL}, {"mb=1", "passes=2", NULL}, {"mb=2", "passes=3", NULL},
      {"mb=3", "passes=5", NULL}, {"mb=4", "passes=4", NULL}, {"mb=1", "passes=2", "offload=inline", NULL},
  };
  size_t n;
  const cb_model *const *all = cb_model_all(&n);
  for (size_t k = 0; k < n; k++) {
    if (!runnable(all[k])) continue;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
      if (shapes[s][2] && strcmp(all[k]->name, "loop") != 0) continue;
      for (uint64_t conc = 0; conc <= 2; conc += 2) {
        inproc_run r;
        inproc_execute(&r, all[k], &cb_workload_membw, shapes[s], 3, conc, NULL);
        cr_expect_eq(r.rc, 0, "%s %s %s: rc %d (%s)", all[k]->name, shapes[s][0], shapes[s][1], r.rc, r.report.error);
        cr_expect(r.verdict.verified, "%s %s %s C=%llu: ok %llu wrong %llu failed %llu: %s", all[k]->name,
                  shapes[s][0], shapes[s][1], (unsigned long long)conc, (unsigned long long)r.verdict.ok,
                  (unsigned long long)r.verdict.wrong, (unsigned long long)r.verdict.failed, r.report.error);
        cr_expect_eq(r.report.nextra, 1, "%s: %d figures", all[k]->name, r.report.nextra);
        if (r.report.nextra == 1) {
          cr_expect_str_eq(r.report.extra[0].key, "gb_per_s");
          cr_expect_gt(r.report.extra[0].value, 0.0);
        }
        inproc_free(&r);
      }
    }
  }
}

/* A job that runs one sweep fewer than it was asked for. */
static int membw_short_job(const cb_job_env *env, uint64_t i, uint64_t *result, char err[CB_ERR_LEN]) {
  cb_params p = *env->params;
  p.v[cb_param_index(&cb_workload_membw, "passes")] -= 1;
  cb_job_env e = *env;
  e.params = &p;
  return cb_workload_membw.job(&e, i, result, err);
}

Test(mixed, membw_a_skipped_sweep_fails_verification) {
  cb_workload w = cb_workload_membw;
  w.job = membw_short_job;
  const char *const p[] = {"mb=1", "passes=4", NULL};
  const cb_model *ms[] = {&cb_model_sync, &cb_model_threads, &cb_model_procs, &cb_model_green, &cb_model_loop};
  for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++) {
    inproc_run r;
    inproc_execute(&r, ms[k], &w, p, 3, 0, NULL);
    cr_expect_eq(r.rc, 0, "%s", ms[k]->name);
    cr_expect_not(r.verdict.verified, "%s", ms[k]->name);
    cr_expect_eq(r.verdict.wrong, 3, "%s: wrong %llu", ms[k]->name, (unsigned long long)r.verdict.wrong);
    cr_expect_eq(r.report.nextra, 1, "%s: the figure is still computed, the cell prints it as null", ms[k]->name);
    inproc_free(&r);
  }
}

static uint64_t membw_expected_with(const char *const overrides[], uint64_t i) {
  cb_params p;
  inproc_params(&cb_workload_membw, &p, overrides);
  cb_job_env env = {.workload = &cb_workload_membw, .params = &p};
  return cb_workload_membw.expected(&env, i);
}

Test(mixed, membw_expected_changes_with_passes_size_and_job) {
  const char *const base[] = {"mb=2", "passes=4", NULL};
  const char *const others[][3] = {{"mb=2", "passes=3", NULL}, {"mb=2", "passes=5", NULL},
                                   {"mb=2", "passes=7", NULL}, {"mb=3", "passes=4", NULL}};
  for (uint64_t i = 0; i < 4; i++) {
    uint64_t e = membw_expected_with(base, i);
    cr_expect_neq(e, membw_expected_with(base, i + 1));
    for (size_t k = 0; k < sizeof others / sizeof others[0]; k++)
      cr_expect_neq(e, membw_expected_with(others[k], i), "%s %s job %llu", others[k][0], others[k][1],
                    (unsigned long long)i);
  }
  /* The largest size: the closed form's 128-bit sums stay exact. */
  const char *const big[] = {"mb=4096", "passes=1000", NULL};
  cr_expect_neq(membw_expected_with(big, 0), membw_expected_with(big, 1));
}

Test(mixed, bad_membw_parameters_are_one_line_and_exit_2) {
  RUN_BAD("membw", "mb=0", "mb");
  RUN_BAD("membw", "mb=4097", "mb");
  RUN_BAD("membw", "passes=0", "passes");
  RUN_BAD("membw", "passes=1001", "passes");
  RUN_BAD("membw", "offload=gpu", "offload");
}
