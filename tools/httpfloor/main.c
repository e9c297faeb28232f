/* httpfloor — the floor under `concbench run --workload http`: the same N jobs ×
 * K sequential GETs of the same delayd URLs, with the least client work there is
 * (http_floor.h: raw sockets, one thread, epoll). What it takes beyond
 * the ideal K × delay is what connection setup and the kernel's loopback work
 * cost on this machine, which no model can avoid.
 *
 *   httpfloor [--tasks N] [--requests K] [--delay-ms D] [--bytes B]
 *             [--server URL] [--timeout-s T]
 *
 * Starts its own delayd unless --server names one (loopback only). Prints one
 * JSON line; wall_s is null unless every body and the checksum verified. Exit
 * codes as `concbench run`: 0 verified, 1 failed or unverified, 2 bad input (one
 * line on stderr naming the argument), 3 out of descriptors. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/run/cell.h"
#include "common/check.h"
#include "tools/httpfloor/http_floor.h"
#include "harness/run/server_child.h"
#include "common/util.h"
#include "workloads/workloads.h"

#define MAX_TASKS 20000

static const char PROG[] = "httpfloor";

/* An integer option; requests, delay and bytes take the http workload's own
 * default and bounds, so the floor always asks what the workload may ask. */
typedef struct int_opt {
  const char *flag, *param;
  int64_t val, min, max;
} int_opt;

enum { O_TASKS, O_REQUESTS, O_DELAY_MS, O_BYTES, O_TIMEOUT_S, O_COUNT };

static void take_workload_bounds(int_opt *o) {
  for (int k = 0; k < cb_workload_http.nparams; k++) {
    const cb_param_def *p = &cb_workload_http.params[k];
    if (strcmp(p->name, o->param) == 0) {
      o->val = p->def;
      o->min = p->min;
      o->max = p->max;
      return;
    }
  }
  CB_CHECK(!"http workload parameter missing");
}

static const char *parse_args(int argc, char **argv, int_opt *opts) {
  const char *server = NULL;
  for (int k = 1; k < argc; k += 2) {
    const char *flag = argv[k], *val = k + 1 < argc ? argv[k + 1] : NULL;
    if (strcmp(flag, "--server") == 0) {
      if (!val) cb_usage_exit(PROG, "--server: needs a URL http://HOST:PORT with a loopback HOST");
      server = val;
      continue;
    }
    int_opt *o = NULL;
    for (int j = 0; j < O_COUNT && !o; j++)
      if (strcmp(flag, opts[j].flag) == 0) o = &opts[j];
    if (!o)
      cb_usage_exit(PROG, "unknown option '%s'; allowed: --tasks N --requests K --delay-ms D --bytes B --server URL --timeout-s T",
            flag);
    if (!val || cb_parse_int(val, o->min, o->max, &o->val) != 0)
      cb_usage_exit(PROG, "%s: must be an integer from %" PRId64 " to %" PRId64, flag, o->min, o->max);
  }
  return server;
}

static json_t *hex64(uint64_t x) {
  char b[24];
  snprintf(b, sizeof b, "%016" PRIx64, x);
  return json_string(b);
}

static void print_json(const int_opt *opts, const cb_http_floor_result *r) {
  json_t *o = json_object();
  json_object_set_new(o, "tool", json_string("httpfloor"));
  json_object_set_new(o, "tasks", json_integer(opts[O_TASKS].val));
  json_object_set_new(o, "requests", json_integer(opts[O_REQUESTS].val));
  json_object_set_new(o, "delay_ms", json_integer(opts[O_DELAY_MS].val));
  json_object_set_new(o, "bytes", json_integer(opts[O_BYTES].val));
  json_object_set_new(o, "wall_s", r->verified ? json_real(r->wall_s) : json_null());
  /* K × D × ceil(N / C) with C = N: every job is in flight at once. */
  json_object_set_new(o, "ideal_s", json_real(opts[O_REQUESTS].val * opts[O_DELAY_MS].val / 1000.0));
  json_object_set_new(o, "connect_phase_s", r->verified ? json_real(r->connect_phase_s) : json_null());
  json_object_set_new(o, "user_s", json_real(r->user_s));
  json_object_set_new(o, "sys_s", json_real(r->sys_s));
  json_object_set_new(o, "verified", json_boolean(r->verified));
  json_object_set_new(o, "checksum", hex64(r->checksum));
  json_object_set_new(o, "expected_checksum", hex64(r->expected_checksum));
  json_object_set_new(o, "error", r->error[0] ? json_string(r->error) : json_null());
  char *line = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
  CB_CHECK(line != NULL);
  printf("%s\n", line);
  fflush(stdout);
  free(line);
  json_decref(o);
}

int main(int argc, char **argv) {
  int_opt opts[O_COUNT] = {
      [O_TASKS] = {"--tasks", NULL, 1000, 1, MAX_TASKS},
      [O_REQUESTS] = {"--requests", "requests"},
      [O_DELAY_MS] = {"--delay-ms", "delay_ms"},
      [O_BYTES] = {"--bytes", "bytes"},
      [O_TIMEOUT_S] = {"--timeout-s", NULL, 60, 1, 3600},
  };
  for (int j = 0; j < O_COUNT; j++)
    if (opts[j].param) take_workload_bounds(&opts[j]);
  const char *server_url = parse_args(argc, argv, opts);

  cb_raise_fd_limit();
  char err[512];
  cb_server server = {0};
  int rc = server_url ? cb_server_use(&server, server_url, err, sizeof err) : cb_server_start(&server, err, sizeof err);
  if (rc != 0) cb_usage_exit(PROG, "%s", err);
  cb_http_floor_opts fo = {
      .host = server.url + strlen("http://"),
      .tasks = (uint64_t)opts[O_TASKS].val,
      .requests = (uint64_t)opts[O_REQUESTS].val,
      .delay_ms = (uint64_t)opts[O_DELAY_MS].val,
      .bytes = (uint64_t)opts[O_BYTES].val,
      .timeout_s = (double)opts[O_TIMEOUT_S].val,
  };
  if (cb_server_addr(&server, &fo.addr, &fo.addrlen) != 0) {
    cb_server_stop(&server);
    cb_usage_exit(PROG, "--server: cannot resolve %s", server.url);
  }

  cb_http_floor_result r;
  cb_http_floor_run(&fo, &r);
  cb_server_stop(&server);

  print_json(opts, &r);
  if (r.error[0]) fprintf(stderr, "httpfloor: %s\n", r.error);
  if (r.err == -EMFILE || r.err == -ENFILE) return CB_EXIT_RESOURCE;
  return r.verified ? CB_EXIT_OK : CB_EXIT_FAILED;
}
