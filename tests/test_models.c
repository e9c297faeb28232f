/* test_models.c — every model × workload gives the expected checksum, and the pairs a
 * model does not offer are listed (any other -ENOTSUP fails); a wrong expected value
 * fails verification; models fail cleanly at resource limits; procs leaves no zombie
 * behind and sums the CPU time of every child. */
#include <curl/curl.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtimes/models.h"
#include "tests/helpers/inproc.h"
#include "workloads/workloads.h"

TestSuite(models, .timeout = 120);

/* The (model, workload) pairs a model does not offer: the run returns -ENOTSUP. Any
 * other -ENOTSUP fails, and so does a pair listed here that runs (update the list). */
static const struct {
  const char *model, *workload;
} unsupported[] = {
    {"sync", "pingpong"}, /* one task has no one to hand the token to */
    {"sync", "spawn"},    /* the main thread spawns nothing */
};

static int expected_unsupported(const cb_model *m, const cb_workload *w) {
  for (size_t k = 0; k < sizeof unsupported / sizeof unsupported[0]; k++)
    if (strcmp(unsupported[k].model, m->name) == 0 && strcmp(unsupported[k].workload, w->name) == 0) return 1;
  return 0;
}

/* Small parameters for every registered workload; a new workload must add its own. */
static const struct {
  const char *workload;
  const char *const params[4];
} small[] = {
    {"pow", {"exp=20000", NULL}},
    {"fib", {"n=22", NULL}},
    {"http", {"requests=3", "delay_ms=5", "bytes=3000", NULL}},
    {"sleep", {"ms=5", NULL}},
    {"pingpong", {"rounds=200", NULL}},
    {"spawn", {"leaves=20", "fanout=5", NULL}},
    {"pipeline", {"stages=3", "items=200", "queue=4", NULL}},
    {"mixed", {"rounds=2", "cpu_us=100", "io_ms=2", NULL}},
    {"membw", {"mb=1", "passes=2", NULL}},
};

static const char *const *small_params(const cb_workload *w) {
  for (size_t k = 0; k < sizeof small / sizeof small[0]; k++)
    if (strcmp(small[k].workload, w->name) == 0) return small[k].params;
  cr_assert_fail("no test parameters for workload %s: add it to small[] in %s", w->name, __FILE__);
  return NULL;
}

static void expect_verified(const cb_model *m, const cb_workload *w, uint64_t tasks, uint64_t conc, const char *url) {
  inproc_run r;
  inproc_execute(&r, m, w, small_params(w), tasks, conc, url);
  if (expected_unsupported(m, w)) {
    cr_expect_eq(r.rc, -ENOTSUP, "%s/%s is listed as unsupported but returned %d: update unsupported[]", m->name,
                 w->name, r.rc);
    cr_expect_not(r.verdict.verified, "%s/%s: unsupported, yet verified", m->name, w->name);
    inproc_free(&r);
    return;
  }
  cr_expect_neq(r.rc, -ENOTSUP, "%s/%s: -ENOTSUP, and the pair is not listed as unsupported: %s", m->name, w->name,
                r.report.error);
  cr_expect_eq(r.rc, 0, "%s/%s: model returned %d (%s)", m->name, w->name, r.rc, r.report.error);
  cr_expect(r.verdict.verified, "%s/%s N=%llu C=%llu: ok %llu failed %llu wrong %llu, checksum %llx vs %llx: %s",
            m->name, w->name, (unsigned long long)tasks, (unsigned long long)conc,
            (unsigned long long)r.verdict.ok, (unsigned long long)r.verdict.failed,
            (unsigned long long)r.verdict.wrong, (unsigned long long)r.verdict.checksum,
            (unsigned long long)r.verdict.expected_checksum, r.report.error);
  cr_expect_eq(r.verdict.ok, tasks, "%s/%s", m->name, w->name);
  cr_expect_str_empty(r.report.error, "%s/%s", m->name, w->name);
  inproc_free(&r);
}

static void every_workload(const cb_model *m, uint64_t tasks, uint64_t conc, const char *url) {
  size_t n;
  const cb_workload *const *all = cb_workload_all(&n);
  for (size_t k = 0; k < n; k++)
    if (all[k]->kind != CB_KIND_SERVER) /* served, not run: test_serve, test_serve_models, test_serve_cell */
      expect_verified(m, all[k], tasks, conc, url);
}

Test(models, every_model_every_workload_verifies, .timeout = 180) {
  cb_server srv;
  inproc_start_delayd(&srv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  size_t n;
  const cb_model *const *all = cb_model_all(&n);
  for (size_t k = 0; k < n; k++) {
    if (!all[k]->run || all[k]->reference) continue; /* a reference (nginx) only serves */
    every_workload(all[k], 7, 0, srv.url); /* one unit per job */
    every_workload(all[k], 7, 3, srv.url); /* a pool smaller than N */
  }
  cb_server_stop(&srv);
}

Test(models, the_unsupported_list_names_real_models_and_workloads) {
  for (size_t k = 0; k < sizeof unsupported / sizeof unsupported[0]; k++) {
    cr_expect_not_null(cb_model_find(unsupported[k].model), "no model %s", unsupported[k].model);
    cr_expect_not_null(cb_workload_find(unsupported[k].workload), "no workload %s", unsupported[k].workload);
  }
}

static uint64_t wrong_expected(const cb_job_env *env, uint64_t i) {
  return cb_workload_fib.expected(env, i) + (i == 2);
}

Test(models, wrong_expected_value_fails_verification) {
  cb_workload bad = cb_workload_fib;
  bad.expected = wrong_expected;
  const char *const p[] = {"n=15", NULL};
  inproc_run r;
  inproc_execute(&r, &cb_model_threads, &bad, p, 5, 0, NULL);
  cr_expect_eq(r.rc, 0);
  cr_expect_not(r.verdict.verified);
  cr_expect_eq(r.verdict.wrong, 1);
  cr_expect_neq(r.verdict.checksum, r.verdict.expected_checksum);
  inproc_free(&r);
}

static int failing_job(const cb_job_env *env, uint64_t i, uint64_t *result, char err[CB_ERR_LEN]) {
  if (i == 1) {
    snprintf(err, CB_ERR_LEN, "deliberate failure");
    return -EIO;
  }
  *result = i;
  return 0;
}
static uint64_t index_expected(const cb_job_env *env, uint64_t i) { return i; }

Test(models, a_failed_job_is_reported_with_its_message) {
  cb_workload w = cb_workload_fib;
  w.job = failing_job;
  w.expected = index_expected;
  const cb_model *ms[] = {&cb_model_sync, &cb_model_threads, &cb_model_procs};
  for (size_t k = 0; k < 3; k++) {
    inproc_run r;
    inproc_execute(&r, ms[k], &w, NULL, 4, 0, NULL);
    cr_expect_not(r.verdict.verified, "%s", ms[k]->name);
    cr_expect_eq(r.verdict.failed, 1, "%s", ms[k]->name);
    cr_expect(strstr(r.report.error, "deliberate failure") != NULL, "%s: '%s'", ms[k]->name, r.report.error);
    inproc_free(&r);
  }
}

static int crashing_job(const cb_job_env *env, uint64_t i, uint64_t *result, char err[CB_ERR_LEN]) {
  if (i == 2) raise(SIGKILL);
  *result = i;
  return 0;
}

static void expect_no_children(void) {
  errno = 0;
  cr_expect_eq(waitpid(-1, NULL, WNOHANG), -1, "a child is left over");
  cr_expect_eq(errno, ECHILD);
}

Test(models, procs_reaps_every_child_even_after_a_crash) {
  cb_workload w = cb_workload_fib;
  w.job = crashing_job;
  w.expected = index_expected;
  for (uint64_t conc = 0; conc <= 2; conc += 2) {
    inproc_run r;
    inproc_execute(&r, &cb_model_procs, &w, NULL, 6, conc, NULL);
    cr_expect_not(r.verdict.verified);
    cr_expect_geq(r.verdict.failed, 1);
    cr_expect(strstr(r.report.error, "signal 9") != NULL, "error: '%s'", r.report.error);
    expect_no_children();
    inproc_free(&r);
  }
  const char *const p[] = {"n=10", NULL};
  inproc_run ok;
  inproc_execute(&ok, &cb_model_procs, &cb_workload_fib, p, 20, 0, NULL);
  cr_expect(ok.verdict.verified);
  cr_expect_eq(ok.report.created, 20);
  cr_expect_gt(ok.report.child_rss_sum_kb, ok.report.child_max_rss_kb);
  expect_no_children();
  inproc_free(&ok);
}

Test(models, threads_report_creation_failure_instead_of_crashing) {
  /* A process-count limit makes pthread_create fail with EAGAIN. Root ignores
   * RLIMIT_NPROC, so as root this test process becomes nobody first. */
  struct rlimit rl = {.rlim_cur = 40, .rlim_max = 40};
  cr_assert_eq(setrlimit(RLIMIT_NPROC, &rl), 0);
  if (geteuid() == 0) cr_assert_eq(setuid(65534), 0);
  const char *const p[] = {"ms=50", NULL};
  inproc_run r;
  inproc_execute(&r, &cb_model_threads, &cb_workload_sleep, p, 200, 0, NULL);
  cr_expect_eq(r.rc, -EAGAIN, "rc %d", r.rc);
  cr_expect(strstr(r.report.error, "pthread_create failed") != NULL, "error: '%s'", r.report.error);
  cr_expect_lt(r.report.created, 200);
  cr_expect_not(r.verdict.verified);
  inproc_free(&r);
}

/* ---- procs adds up the CPU time of every child it reaped ---- */

#define BURN_NS 50000000LL /* CPU time each job burns: 50 ms, however long that takes */

static int64_t thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Burns BURN_NS of its own CPU time (a busy machine only makes it take longer). */
static int cpu_burner(const cb_job_env *env, uint64_t i, uint64_t *result, char err[CB_ERR_LEN]) {
  volatile uint64_t x = 0;
  int64_t end = thread_cpu_ns() + BURN_NS;
  while (thread_cpu_ns() < end)
    for (int k = 0; k < 10000; k++) x += (uint64_t)k;
  *result = i;
  return 0;
}

/* Each of N jobs (in N processes, or C pool workers) used at least BURN_NS of CPU, so
 * the children's user + system time is at least N x BURN_NS: a model that kept only
 * the last child's usage reports about 1/N (or 1/C) of it. CPU time, not wall time. */
Test(models, procs_child_cpu_time_sums_every_child) {
  cb_workload w = cb_workload_fib;
  w.job = cpu_burner;
  w.expected = index_expected;
  const uint64_t n = 6, pools[] = {0, 2};
  for (size_t k = 0; k < sizeof pools / sizeof pools[0]; k++) {
    inproc_run r;
    inproc_execute(&r, &cb_model_procs, &w, NULL, n, pools[k], NULL);
    cr_assert_eq(r.rc, 0, "C=%llu: rc %d: %s", (unsigned long long)pools[k], r.rc, r.report.error);
    cr_assert(r.verdict.verified, "C=%llu: %s", (unsigned long long)pools[k], r.report.error);
    double cpu = r.report.child_user_s + r.report.child_sys_s, floor_s = 0.9 * (double)n * BURN_NS / 1e9;
    cr_expect_geq(cpu, floor_s, "C=%llu: children's CPU time %.3f s (user %.3f, sys %.3f), each of %llu jobs burnt %.3f s",
                  (unsigned long long)pools[k], cpu, r.report.child_user_s, r.report.child_sys_s,
                  (unsigned long long)n, BURN_NS / 1e9);
    expect_no_children();
    inproc_free(&r);
  }
}
