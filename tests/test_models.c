/* test_models.c — every model × workload gives the expected checksum; a wrong
 * expected value fails verification; models fail cleanly at resource limits and
 * procs leaves no zombie behind. */
#include <curl/curl.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtimes/models.h"
#include "tests/helpers/inproc.h"
#include "workloads/workloads.h"

TestSuite(models, .timeout = 120);

static void expect_verified(const cb_model *m, const char *wname, const char *const params[],
                            uint64_t tasks, uint64_t conc, const char *url) {
  const cb_workload *w = cb_workload_find(wname);
  cr_assert_not_null(w);
  inproc_run r;
  inproc_execute(&r, m, w, params, tasks, conc, url);
  if (r.rc == -ENOTSUP) { /* this model has no version of this workload (yet) */
    inproc_free(&r);
    return;
  }
  cr_expect_eq(r.rc, 0, "%s/%s: model returned %d (%s)", m->name, wname, r.rc, r.report.error);
  cr_expect(r.verdict.verified, "%s/%s N=%llu C=%llu: ok %llu failed %llu wrong %llu, checksum %llx vs %llx: %s",
            m->name, wname, (unsigned long long)tasks, (unsigned long long)conc,
            (unsigned long long)r.verdict.ok, (unsigned long long)r.verdict.failed,
            (unsigned long long)r.verdict.wrong, (unsigned long long)r.verdict.checksum,
            (unsigned long long)r.verdict.expected_checksum, r.report.error);
  cr_expect_eq(r.verdict.ok, tasks);
  cr_expect_str_empty(r.report.error);
  inproc_free(&r);
}

static void every_workload(const cb_model *m, uint64_t tasks, uint64_t conc, const char *url) {
  const char *const pow_p[] = {"exp=20000", NULL};
  const char *const fib_p[] = {"n=22", NULL};
  const char *const http_p[] = {"requests=3", "delay_ms=5", "bytes=3000", NULL};
  const char *const sleep_p[] = {"ms=5", NULL};
  expect_verified(m, "pow", pow_p, tasks, conc, url);
  expect_verified(m, "fib", fib_p, tasks, conc, url);
  expect_verified(m, "http", http_p, tasks, conc, url);
  expect_verified(m, "sleep", sleep_p, tasks, conc, url);
}

Test(models, every_model_every_workload_verifies) {
  cb_server srv;
  inproc_start_delayd(&srv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  size_t n;
  const cb_model *const *all = cb_model_all(&n);
  for (size_t k = 0; k < n; k++) {
    if (!all[k]->run) continue;
    every_workload(all[k], 7, 0, srv.url); /* one unit per job */
    every_workload(all[k], 7, 3, srv.url); /* a pool smaller than N */
  }
  cb_server_stop(&srv);
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
