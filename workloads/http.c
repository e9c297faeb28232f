/* http.c — the seeds' io_bound: each job fetches `requests` URLs one after another
 * from delayd with libcurl's easy interface (one handle per job, so the requests of
 * a job reuse one keep-alive connection, like a simple client would). Every body is
 * checked byte for byte against the seed it was asked for while it streams in; the
 * job's result is a digest of the bodies, the expected one is recomputed locally. */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "workloads/body.h"
#include "workloads/workload.h"
#include "workloads/workloads.h"

enum { P_REQUESTS, P_DELAY_MS, P_BYTES };

static const cb_param_def http_params[] = {
    [P_REQUESTS] = {"requests", 4, 1, 1000, "URLs each job fetches, one after another"},
    [P_DELAY_MS] = {"delay_ms", 100, 0, 60000, "server-side delay of each response"},
    [P_BYTES] = {"bytes", 16384, 0, 16777216, "body size of each response"},
};

static uint64_t request_seed(uint64_t job, uint64_t k, uint64_t per_job) { return job * per_job + k + 1; }

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata) {
  cb_body_check_feed(userdata, data, size * nmemb);
  return size * nmemb;
}

static uint64_t combine(uint64_t acc, uint64_t digest) { return cb_mix64(acc ^ digest); }

static int http_job(const cb_job_env *env, uint64_t i, uint64_t *result, char err[CB_ERR_LEN]) {
  const int64_t *v = env->params->v;
  CURL *h = curl_easy_init();
  if (!h) {
    snprintf(err, CB_ERR_LEN, "curl_easy_init failed");
    return -ENOMEM;
  }
  char url[256];
  cb_body_check check;
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &check);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(v[P_DELAY_MS] + 30000));
  uint64_t acc = 0;
  int rc = 0;
  for (int64_t k = 0; k < v[P_REQUESTS] && rc == 0; k++) {
    uint64_t seed = request_seed(i, (uint64_t)k, (uint64_t)v[P_REQUESTS]);
    snprintf(url, sizeof url, "%s/?ms=%" PRId64 "&bytes=%" PRId64 "&seed=%" PRIu64, env->server_url,
             v[P_DELAY_MS], v[P_BYTES], seed);
    curl_easy_setopt(h, CURLOPT_URL, url);
    cb_body_check_init(&check, seed);
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
      snprintf(err, CB_ERR_LEN, "GET %.100s: %s", url, curl_easy_strerror(cc));
      rc = -EIO;
    } else if (status != 200) {
      snprintf(err, CB_ERR_LEN, "GET %.100s: HTTP status %ld", url, status);
      rc = -EPROTO;
    } else if (!check.ok || check.offset != (uint64_t)v[P_BYTES]) {
      snprintf(err, CB_ERR_LEN, "GET %.100s: body wrong (%" PRIu64 " bytes, %s)", url, check.offset,
               check.ok ? "content ok" : "content differs");
      rc = -EBADMSG;
    } else {
      acc = combine(acc, check.digest);
    }
  }
  curl_easy_cleanup(h);
  *result = acc;
  return rc;
}

static uint64_t http_expected(const cb_job_env *env, uint64_t i) {
  const int64_t *v = env->params->v;
  uint64_t acc = 0;
  for (int64_t k = 0; k < v[P_REQUESTS]; k++)
    acc = combine(acc, cb_body_digest(request_seed(i, (uint64_t)k, (uint64_t)v[P_REQUESTS]),
                                      (uint64_t)v[P_BYTES]));
  return acc;
}

static double http_wait_s(const cb_job_env *env) { return env->params->v[P_REQUESTS] * env->params->v[P_DELAY_MS] / 1000.0; }

const cb_workload cb_workload_http = {
    .name = "http",
    .kind = CB_KIND_IO,
    .summary = "each job GETs `requests` delayd URLs one after another (libcurl easy), bodies verified",
    .params = http_params,
    .nparams = sizeof http_params / sizeof http_params[0],
    .needs_server = 1,
    .job = http_job,
    .expected = http_expected,
    .wait_s = http_wait_s,
};
