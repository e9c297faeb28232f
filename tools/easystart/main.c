/* easystart — what the http workload's unchanged job costs before its first wait,
 * with no runtime around it: for each of N jobs, in a row on one thread, the job's
 * easy handle (workloads/http_easy.h) and the private multi handle that
 * curl_easy_perform builds, driven the way curl_easy_perform drives it (poll,
 * perform) until the job's first request is written. Every job is then in the
 * state in which an M:1 runtime (green) would park it.
 *
 * first_runs_s, the time for all N, is therefore the least time any M:1 runtime
 * can take to get N such jobs going on this machine; compare it with a model's
 * `last_start_s` (concbench run, all jobs in flight). It counts only if every
 * job's request went out (curl's CURLINFO_REQUEST_SIZE > 0); no response is read.
 *
 *   easystart [--tasks N] [--server URL]
 *
 * Starts its own delayd unless --server names one (loopback only). Prints one
 * JSON line. Exit codes as `concbench run`: 0 every request sent, 1 a job failed,
 * 2 bad input (one line on stderr naming the argument), 3 out of descriptors. */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/run/cell.h"
#include "common/check.h"
#include "harness/run/server_child.h"
#include "common/util.h"
#include "workloads/http_easy.h"
#include "workloads/workloads.h"

#define MAX_TASKS 20000
#define TIMEOUT_S 30

static const char PROG[] = "easystart";

typedef struct job {
  CURL *easy;
  CURLM *multi;
  cb_body_check check;
  int socket_errno;
} job;

/* Job i's first steps, as curl_easy_perform takes them, until its first request
 * is written. 0, or a negative errno with err filled. */
static int first_run(const cb_job_env *env, uint64_t i, job *j, int64_t deadline_ns, char err[CB_ERR_LEN]) {
  char url[256];
  errno = 0;
  j->easy = cb_http_job_handle(env, &j->check, &j->socket_errno);
  j->multi = j->easy ? curl_multi_init() : NULL; /* fails on socketpair's EMFILE too */
  if (!j->multi) {
    int e = errno == EMFILE || errno == ENFILE ? errno : ENOMEM;
    snprintf(err, CB_ERR_LEN, "job %" PRIu64 ": cannot make its curl handles: %s", i, strerror(e));
    return -e;
  }
  cb_body_check_init(&j->check, cb_http_job_request(j->easy, env, i, 0, url));
  curl_multi_add_handle(j->multi, j->easy);
  long sent = 0;
  while (sent == 0) {
    int running = 0, queued;
    curl_multi_poll(j->multi, NULL, 0, 0, NULL);
    curl_multi_perform(j->multi, &running);
    curl_easy_getinfo(j->easy, CURLINFO_REQUEST_SIZE, &sent);
    CURLMsg *m = curl_multi_info_read(j->multi, &queued);
    if (sent == 0 && m && m->msg == CURLMSG_DONE) {
      int e = j->socket_errno;
      snprintf(err, CB_ERR_LEN, "GET %.100s: %s%s%s", url, curl_easy_strerror(m->data.result), e ? ": " : "",
               e ? strerror(e) : "");
      return e == EMFILE || e == ENFILE ? -e : -EIO;
    }
    if (sent == 0 && cb_now_ns() > deadline_ns) {
      snprintf(err, CB_ERR_LEN, "GET %.100s: request not written within %d s", url, TIMEOUT_S);
      return -ETIMEDOUT;
    }
  }
  return 0;
}

static void release(job *j) {
  if (j->multi && j->easy) curl_multi_remove_handle(j->multi, j->easy);
  if (j->easy) curl_easy_cleanup(j->easy);
  if (j->multi) curl_multi_cleanup(j->multi);
}

int main(int argc, char **argv) {
  int64_t tasks = 1000;
  const char *server_url = NULL;
  for (int k = 1; k < argc; k += 2) {
    const char *val = k + 1 < argc ? argv[k + 1] : NULL;
    if (strcmp(argv[k], "--tasks") == 0) {
      if (!val || cb_parse_int(val, 1, MAX_TASKS, &tasks) != 0)
        cb_usage_exit(PROG, "--tasks: must be an integer from 1 to %d", MAX_TASKS);
    } else if (strcmp(argv[k], "--server") == 0) {
      if (!val) cb_usage_exit(PROG, "--server: needs a URL http://HOST:PORT with a loopback HOST");
      server_url = val;
    } else {
      cb_usage_exit(PROG, "unknown option '%s'; allowed: --tasks N --server URL", argv[k]);
    }
  }

  cb_raise_fd_limit();
  char err[512];
  cb_server server = {0};
  int rc = server_url ? cb_server_use(&server, server_url, err, sizeof err) : cb_server_start(&server, err, sizeof err);
  if (rc != 0) cb_usage_exit(PROG, "%s", err);
  CB_CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
  cb_params params;
  for (int k = 0; k < cb_workload_http.nparams; k++) params.v[k] = cb_workload_http.params[k].def;
  cb_job_env env = {.workload = &cb_workload_http, .params = &params, .server_url = server.url};
  job *jobs = calloc((size_t)tasks, sizeof *jobs);
  CB_CHECK(jobs != NULL);

  char job_err[CB_ERR_LEN] = "";
  int64_t t0 = cb_now_ns(), deadline = t0 + (int64_t)TIMEOUT_S * 1000000000;
  uint64_t sent = 0;
  for (; sent < (uint64_t)tasks && rc == 0; sent += rc == 0) rc = first_run(&env, sent, &jobs[sent], deadline, job_err);
  int64_t t1 = cb_now_ns();
  for (int64_t i = 0; i < tasks; i++) release(&jobs[i]);
  free(jobs);
  cb_server_stop(&server);

  json_t *o = json_object();
  json_object_set_new(o, "tool", json_string("easystart"));
  json_object_set_new(o, "tasks", json_integer(tasks));
  json_object_set_new(o, "jobs_sent", json_integer((json_int_t)sent));
  json_object_set_new(o, "first_runs_s", rc == 0 ? json_real((t1 - t0) / 1e9) : json_null());
  json_object_set_new(o, "us_per_job", rc == 0 ? json_real((t1 - t0) / 1e3 / (double)tasks) : json_null());
  json_object_set_new(o, "error", job_err[0] ? json_string(job_err) : json_null());
  char *line = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
  CB_CHECK(line != NULL);
  printf("%s\n", line);
  free(line);
  json_decref(o);
  curl_global_cleanup();
  if (job_err[0]) fprintf(stderr, "easystart: %s\n", job_err);
  if (rc == -EMFILE || rc == -ENFILE) return CB_EXIT_RESOURCE;
  return rc == 0 ? CB_EXIT_OK : CB_EXIT_FAILED;
}
