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
#include <sys/socket.h>

#include "runtimes/loop/fetch.h"
#include "runtimes/loop/model.h"
#include "workloads/body.h"
#include "workloads/http_easy.h"
#include "workloads/http_seed.h"
#include "workloads/workload.h"
#include "workloads/workloads.h"

enum { P_REQUESTS, P_DELAY_MS, P_BYTES };

static const cb_param_def http_params[] = {
    [P_REQUESTS] = {"requests", 4, 1, 1000, "URLs each job fetches, one after another"},
    [P_DELAY_MS] = {"delay_ms", 100, 0, 60000, "server-side delay of each response"},
    [P_BYTES] = {"bytes", 16384, 0, 16777216, "body size of each response"},
};

/* curl's receive buffer, in every model: its 16 KiB default takes two recv calls
 * and a poll in between for the default 16 KiB body plus headers. Every model's
 * handles also set CURLOPT_NOPROXY "*": delayd is on loopback, and an http_proxy
 * in the environment must not reroute (or slow) the benchmark. */
#define HTTP_RECV_BUFFER 65536L

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata) {
  cb_body_check_feed(userdata, data, size * nmemb);
  return size * nmemb;
}

/* Opens curl's sockets ourselves so that a failure to get one (EMFILE: the process
 * is out of descriptors) is known by its errno: that is a resource limit, not a
 * server that refused. */
static curl_socket_t open_socket(void *socket_errno, curlsocktype purpose, struct curl_sockaddr *a) {
  curl_socket_t fd = socket(a->family, a->socktype, a->protocol);
  if (fd == CURL_SOCKET_BAD) *(int *)socket_errno = errno;
  return fd;
}

/* The options of every job's handle, in both worlds; socket_errno receives the
 * errno of a socket curl could not open. */
static void set_job_options(CURL *h, const int64_t *v, int *socket_errno) {
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(v[P_DELAY_MS] + 30000));
  curl_easy_setopt(h, CURLOPT_BUFFERSIZE, HTTP_RECV_BUFFER);
  curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
  curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, socket_errno);
}

static void request_url(char url[256], const cb_job_env *env, uint64_t seed) {
  const int64_t *v = env->params->v;
  snprintf(url, 256, "%s/?ms=%" PRId64 "&bytes=%" PRId64 "&seed=%" PRIu64, env->server_url, v[P_DELAY_MS],
           v[P_BYTES], seed);
}

/* Contract: see http_easy.h. */
CURL *cb_http_job_handle(const cb_job_env *env, cb_body_check *check, int *socket_errno) {
  CURL *h = curl_easy_init();
  if (!h) return NULL;
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, check);
  *socket_errno = 0;
  set_job_options(h, env->params->v, socket_errno);
  return h;
}

/* Contract: see http_easy.h. */
uint64_t cb_http_job_request(CURL *h, const cb_job_env *env, uint64_t i, uint64_t k, char url[256]) {
  uint64_t seed = cb_http_request_seed(i, k, (uint64_t)env->params->v[P_REQUESTS]);
  request_url(url, env, seed);
  curl_easy_setopt(h, CURLOPT_URL, url);
  return seed;
}

/* The OS error behind a failed transfer: the socket curl could not open, else
 * the last one curl saw. */
static long transfer_errno(CURL *h, int socket_errno) {
  long os_errno = socket_errno;
  if (!os_errno) curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
  return os_errno;
}

/* Out of descriptors: a resource limit, not a server that refused. */
static int out_of_descriptors(long os_errno) { return os_errno == EMFILE || os_errno == ENFILE; }

/* "GET url: what (os error)" into err. */
static void describe_failure(char err[CB_ERR_LEN], const char *url, const char *what, long os_errno) {
  snprintf(err, CB_ERR_LEN, "GET %.100s: %s%s%s%s", url, what, os_errno ? " (" : "",
           os_errno ? strerror((int)os_errno) : "", os_errno ? ")" : "");
}

static int http_job(const cb_job_env *env, uint64_t i, uint64_t *result, char err[CB_ERR_LEN]) {
  const int64_t *v = env->params->v;
  cb_body_check check;
  int socket_errno;
  CURL *h = cb_http_job_handle(env, &check, &socket_errno);
  if (!h) {
    snprintf(err, CB_ERR_LEN, "curl_easy_init failed");
    return -ENOMEM;
  }
  char url[256];
  uint64_t acc = 0;
  int rc = 0;
  for (int64_t k = 0; k < v[P_REQUESTS] && rc == 0; k++) {
    cb_body_check_init(&check, cb_http_job_request(h, env, i, (uint64_t)k, url));
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
      long os_errno = transfer_errno(h, socket_errno);
      describe_failure(err, url, curl_easy_strerror(cc), os_errno);
      rc = out_of_descriptors(os_errno) ? -(int)os_errno : -EIO;
    } else if (status != 200) {
      snprintf(err, CB_ERR_LEN, "GET %.100s: HTTP status %ld", url, status);
      rc = -EPROTO;
    } else if (!check.ok || check.offset != (uint64_t)v[P_BYTES]) {
      snprintf(err, CB_ERR_LEN, "GET %.100s: body wrong (%" PRIu64 " bytes, %s)", url, check.offset,
               check.ok ? "content ok" : "content differs");
      rc = -EBADMSG;
    } else {
      acc = cb_http_combine(acc, check.digest);
    }
  }
  curl_easy_cleanup(h);
  *result = acc;
  return rc;
}

/* ---- async world (loop model): the same K fetches awaited one after another on
 * the loop's shared curl multi handle; bodies verified as they stream in ---- */
typedef struct http_frame {
  cb_async_frame base;
  cb_fetch fetch;
  cb_body_check check;
  int64_t k;
  uint64_t acc;
  cb_err e;
  int socket_errno; /* errno of a socket curl could not open (open_socket) */
  char url[256];
  char msg[CB_ERR_LEN]; /* the job's error: read by the model before the frame dies */
} http_frame;

static int on_chunk(void *arg, const char *data, size_t len) {
  cb_body_check_feed(arg, data, len);
  return 0;
}

static int http_co(cb_task *task, void *vf) {
  http_frame *f = vf;
  const int64_t *v = f->base.env->params->v;
  int rc;
  CB_CO_BEGIN(task, &f->base);
  rc = cb_fetch_init(&f->fetch, cb_task_loop(task));
  if (rc) CB_RAISE(rc, "cannot make a curl handle");
  set_job_options(f->fetch.xfer.easy, v, &f->socket_errno);
  for (f->k = 0; f->k < v[P_REQUESTS]; f->k++) {
    {
      uint64_t seed = cb_http_request_seed(f->base.i, (uint64_t)f->k, (uint64_t)v[P_REQUESTS]);
      request_url(f->url, f->base.env, seed);
      cb_body_check_init(&f->check, seed);
    }
    /* The job's last request closes its connection, as the other models' jobs
     * close theirs with their easy handle, instead of leaving it to the
     * multi handle's cleanup after the last job. */
    curl_easy_setopt(f->fetch.xfer.easy, CURLOPT_FORBID_REUSE, f->k + 1 == v[P_REQUESTS] ? 1L : 0L);
    rc = cb_fetch_start(&f->fetch, f->url, on_chunk, &f->check);
    if (rc) f->e = (cb_err){rc, "cannot start a fetch"};
    else CB_AWAIT_TRY(&f->fetch.fut, f->e);
    if (f->e.code != 0 && f->e.code != -ECANCELED) { /* the fetch failed: say which, and why */
      long os_errno = transfer_errno(f->fetch.xfer.easy, f->socket_errno);
      describe_failure(f->msg, f->url, f->e.msg, os_errno);
      if (out_of_descriptors(os_errno)) f->e.code = -(int)os_errno;
      f->e.msg = f->msg;
    }
    if (f->e.code == 0 && cb_future_result(&f->fetch.fut).i != 200) f->e = (cb_err){-EPROTO, "HTTP status is not 200"};
    if (f->e.code == 0 && (!f->check.ok || f->check.offset != (uint64_t)v[P_BYTES]))
      f->e = (cb_err){-EBADMSG, "body differs from the one asked for"};
    if (f->e.code) {
      cb_fetch_free(&f->fetch);
      CB_RAISE_ERR(f->e);
    }
    f->acc = cb_http_combine(f->acc, f->check.digest);
  }
  cb_fetch_free(&f->fetch);
  CB_RETURN((cb_val){.u = f->acc});
  CB_CO_END();
}

static const struct cb_async_job http_async = {.fn = http_co, .frame_size = sizeof(http_frame)};
/* ---- end of the async world ---- */

static uint64_t http_expected(const cb_job_env *env, uint64_t i) {
  const int64_t *v = env->params->v;
  uint64_t acc = 0;
  for (int64_t k = 0; k < v[P_REQUESTS]; k++)
    acc = cb_http_combine(acc, cb_body_digest(cb_http_request_seed(i, (uint64_t)k, (uint64_t)v[P_REQUESTS]),
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
    .async = &http_async,
};
