/* cell.c — runs one cell: prepares the workload (and delayd when it needs one),
 * times the model's job phase, verifies every job, prints one JSON object. A
 * server workload's cell continues in serve_cell.c. */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness/run/cell.h"
#include "harness/run/cell_int.h"
#include "common/check.h"
#include "common/child.h"
#include "harness/run/server_child.h"
#include "common/util.h"

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* {p50, p90, p99, max} of the durations of completed jobs, in ms. */
static json_t *latency_json(const cb_job_record *jobs, uint64_t n) {
  int64_t *d = malloc((n ? n : 1) * sizeof *d);
  CB_CHECK(d != NULL);
  uint64_t m = 0;
  for (uint64_t i = 0; i < n; i++)
    if (jobs[i].done) d[m++] = jobs[i].end_ns - jobs[i].start_ns;
  json_t *o = json_object();
  if (m > 0) {
    qsort(d, m, sizeof *d, cmp_i64);
    const struct { const char *k; double q; } qs[] = {{"p50", .50}, {"p90", .90}, {"p99", .99}};
    for (size_t k = 0; k < 3; k++) {
      uint64_t idx = (uint64_t)(qs[k].q * (double)(m - 1) + 0.5);
      json_object_set_new(o, qs[k].k, json_real(d[idx] / 1e6));
    }
    json_object_set_new(o, "max", json_real(d[m - 1] / 1e6));
  }
  free(d);
  return o;
}

/* Seconds from t0 (the start of the job phase) until the last job began: with every
 * job in flight at once, what the model took to get them all going; with fewer
 * workers than jobs it includes the queueing. */
static double last_start_s(const cb_job_record *jobs, uint64_t n, int64_t t0) {
  int64_t last = t0;
  for (uint64_t i = 0; i < n; i++)
    if (jobs[i].start_ns > last) last = jobs[i].start_ns;
  return (double)(last - t0) / 1e9;
}

/* A job that failed for want of descriptors, memory or processes means the model
 * gave out at this size, not that it computed a wrong answer. */
static int jobs_hit_resource_limit(const cb_job_record *jobs, uint64_t n) {
  for (uint64_t i = 0; i < n; i++) {
    int st = jobs[i].status;
    if (jobs[i].done && (st == -EMFILE || st == -ENFILE || st == -ENOMEM || st == -EAGAIN)) return 1;
  }
  return 0;
}

/* Keys reach the record only through the list of record.h. */
static void set(json_t *o, cb_run_key k, json_t *value) { cb_run_record_set(o, k, value); }

int cb_cell_run(const cb_cell *cell) {
  const cb_workload *w = cell->workload;
  char err[CB_ERR_LEN + 128] = "";
  cb_server server = {0};
  cb_job_env env = {.workload = w, .params = &cell->params};
  cb__cell_guard();
  cb_raise_fd_limit();
  if (w->needs_server) {
    int rc = cell->server ? cb_server_use(&server, cell->server, err, sizeof err)
                          : cb_server_start(&server, err, sizeof err);
    if (rc != 0) {
      fprintf(stderr, "concbench run: %s\n", err);
      return CB_EXIT_USAGE;
    }
    env.server_url = server.url;
    CB_CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == 0);
  }
  if (w->prepare && w->prepare(&env, err) != 0) {
    fprintf(stderr, "concbench run: workload %s: %s\n", w->name, err);
    cb_server_stop(&server);
    return CB_EXIT_USAGE;
  }

  if (w->kind == CB_KIND_SERVER) {
    int code = cell->listen ? cb__serve_only_run(cell, &env) : cb__serve_cell_run(cell, &env);
    cb_server_stop(&server);
    if (w->release) w->release(&env);
    return code;
  }

  cb_run_spec spec = {.workload = w, .env = &env, .tasks = cell->tasks,
                      .concurrency = cell->concurrency, .stack_size = cell->stack_size,
                      .model_params = cell->model_params};
  cb_run_report report = {0};
  report.jobs = calloc(cell->tasks, sizeof *report.jobs);
  CB_CHECK(report.jobs != NULL);

  struct rusage ru0, ru1;
  getrusage(RUSAGE_SELF, &ru0);
  int64_t t0 = cb_now_ns();
  /* A peer runs the whole cell itself, run_custom's part included. */
  int rc = w->run_custom && !cell->model->peer ? w->run_custom(cell->model, &spec, &report)
                                               : cell->model->run(&spec, &report);
  int64_t t1 = cb_now_ns();
  getrusage(RUSAGE_SELF, &ru1);
  cb_server_stop(&server);
  if (report.phase_end_ns > 0) { /* a peer timed its own job phase: that is the one */
    cb_report_extra(&report, "startup_s", (double)(report.phase_start_ns - t0) / 1e9);
    t0 = report.phase_start_ns, t1 = report.phase_end_ns;
  }

  if (rc == -ENOTSUP) {
    fprintf(stderr, "concbench run: --model: workload %s has no version for model %s\n", w->name,
            cell->model->name);
    free(report.jobs);
    if (w->release) w->release(&env);
    return CB_EXIT_UNSUPPORTED;
  }
  if (rc == -ERANGE) { /* a size beyond the model: the report names the parameter */
    fprintf(stderr, "concbench run: %s\n", report.error);
    free(report.jobs);
    if (w->release) w->release(&env);
    return CB_EXIT_USAGE;
  }
  /* The model says what it ran with (e.g. 1 for sync, min(C, N) for a pool). */
  CB_CHECK(report.concurrency > 0);

  cb_verdict v;
  cb_verify(&spec, report.jobs, &v);
  int ok = v.verified && rc == 0;
  int code = rc != 0 || jobs_hit_resource_limit(report.jobs, cell->tasks) ? CB_EXIT_RESOURCE
             : v.verified                                                   ? CB_EXIT_OK
                                                                            : CB_EXIT_FAILED;
  cb_class cls = code == CB_EXIT_RESOURCE ? CB_CLASS_RESOURCE_LIMIT
                 : code == CB_EXIT_OK     ? CB_CLASS_OK
                 : v.wrong > 0            ? CB_CLASS_WRONG_RESULT
                                          : CB_CLASS_JOB_FAILED;
  if (v.wrong > 0 && !report.error[0])
    snprintf(report.error, sizeof report.error, "%" PRIu64 " job(s) returned a wrong result", v.wrong);

  /* The keys in the order record.h lists them, per-operation figures before error. */
  json_t *o = json_object();
  long self_rss = ru1.ru_maxrss;
  set(o, CB_KEY_model, json_string(cell->model->name));
  set(o, CB_KEY_workload, json_string(w->name));
  set(o, CB_KEY_kind, json_string(cb_kind_name(w->kind)));
  set(o, CB_KEY_tasks, json_integer((json_int_t)cell->tasks));
  set(o, CB_KEY_concurrency, json_integer((json_int_t)report.concurrency));
  set(o, CB_KEY_params, cb__params_json(w, &cell->params));
  /* A run that did not verify prints no speed: only how long it took to fail. */
  set(o, CB_KEY_wall_s, ok ? json_real((t1 - t0) / 1e9) : json_null());
  if (!ok) set(o, CB_KEY_failed_after_s, json_real((t1 - t0) / 1e9));
  set(o, CB_KEY_last_start_s, ok ? json_real(last_start_s(report.jobs, cell->tasks, t0)) : json_null());
  set(o, CB_KEY_user_s, json_real(cb__tv_s(ru1.ru_utime) - cb__tv_s(ru0.ru_utime) + report.child_user_s));
  set(o, CB_KEY_sys_s, json_real(cb__tv_s(ru1.ru_stime) - cb__tv_s(ru0.ru_stime) + report.child_sys_s));
  set(o, CB_KEY_max_rss_kb, json_integer(self_rss > report.child_max_rss_kb ? self_rss : report.child_max_rss_kb));
  set(o, CB_KEY_tree_rss_kb, json_integer(self_rss + report.child_rss_sum_kb));
  set(o, CB_KEY_ctx_voluntary, json_integer(ru1.ru_nvcsw - ru0.ru_nvcsw + report.child_ctx_voluntary));
  set(o, CB_KEY_ctx_involuntary, json_integer(ru1.ru_nivcsw - ru0.ru_nivcsw + report.child_ctx_involuntary));
  set(o, CB_KEY_created, json_integer((json_int_t)report.created));
  set(o, CB_KEY_created_kind, json_string(report.created_kind ? report.created_kind : ""));
  set(o, CB_KEY_jobs_ok, json_integer((json_int_t)v.ok));
  set(o, CB_KEY_jobs_failed, json_integer((json_int_t)v.failed));
  set(o, CB_KEY_jobs_wrong, json_integer((json_int_t)v.wrong));
  set(o, CB_KEY_latency_ms, latency_json(report.jobs, cell->tasks));
  set(o, CB_KEY_checksum, cb__hex64(v.checksum));
  set(o, CB_KEY_expected_checksum, cb__hex64(v.expected_checksum));
  set(o, CB_KEY_verified, json_boolean(v.verified));
  const char *extra[CB_MAX_EXTRA];
  for (int k = 0; k < report.nextra; k++) {
    extra[k] = report.extra[k].key;
    json_object_set_new(o, extra[k], ok ? json_real(report.extra[k].value) : json_null());
  }
  set(o, CB_KEY_error, report.error[0] ? json_string(report.error) : json_null());
  set(o, CB_KEY_error_class, json_string(cb_class_name(cls)));
  char why[160];
  if (cb_run_record_check(o, ok ? 0 : CB_RECORD_FAILED, extra, report.nextra, why, sizeof why) != 0) {
    fprintf(stderr, "concbench run: the record disagrees with record.h: %s\n", why);
    CB_CHECK(!"run record as listed in harness/run/record.h");
  }
  cb__cell_emit(cell, o);
  json_decref(o);
  if (report.error[0]) fprintf(stderr, "concbench run: %s\n", report.error);
  free(report.jobs);
  if (w->release) w->release(&env);
  return code;
}
