/* args.c — the command line of bin/loadgen into cb_loadgen_opts (see loadgen.h and
 * README.md). Every bad value gets one line naming its flag and what is allowed. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "servers/delayd/delayd.h"
#include "tools/loadgen/loadgen.h"

static const char PROG[] = "loadgen";

static const char ALLOWED[] = "--connect HOST:PORT --proto http|echo --connections N [--rate R] [--duration S] "
                              "[--warmup S] [--timeout-ms T] [--max-requests M] [--bytes B] [--path TARGET] "
                              "[--seed S] [--allow-remote]";

/* Decimal seconds ("2", "0.25", at most 9 decimals) into ns within [min_ns, max_ns]. */
static int parse_seconds(const char *s, int64_t min_ns, int64_t max_ns, int64_t *out) {
  if (!s || *s < '0' || *s > '9') return -EINVAL;
  int64_t whole = 0, frac = 0, scale = 1000000000;
  const char *p = s;
  for (; *p >= '0' && *p <= '9'; p++) {
    whole = whole * 10 + (*p - '0');
    if (whole > 1000000) return -ERANGE;
  }
  if (*p == '.') {
    p++;
    if (*p < '0' || *p > '9') return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
      if (scale == 1) return -EINVAL; /* below a nanosecond */
      scale /= 10;
      frac += (*p - '0') * scale;
    }
  }
  if (*p) return -EINVAL;
  int64_t ns = whole * 1000000000 + frac;
  if (ns < min_ns || ns > max_ns) return -ERANGE;
  *out = ns;
  return 0;
}

/* HOST:PORT or [V6]:PORT into addr; loopback only unless allow_remote. */
static int parse_connect(const char *v, int allow_remote, cb_loadgen_opts *o) {
  const char *what = "--connect: must be HOST:PORT (or [IPV6]:PORT) with PORT from 1 to 65535";
  if (strlen(v) >= sizeof o->connect) return cb_usage_error(PROG, "%s, at most %zu characters", what, sizeof o->connect - 1);
  char host[300];
  const char *colon = strrchr(v, ':');
  if (!colon || colon == v) return cb_usage_error(PROG, "%s, got '%s'", what, v);
  size_t hl = (size_t)(colon - v);
  if (v[0] == '[') {
    if (hl < 3 || v[hl - 1] != ']') return cb_usage_error(PROG, "%s, got '%s'", what, v);
    memcpy(host, v + 1, hl - 2);
    host[hl - 2] = '\0';
  } else {
    memcpy(host, v, hl);
    host[hl] = '\0';
    if (strchr(host, ':')) return cb_usage_error(PROG, "%s (an IPv6 address in brackets), got '%s'", what, v);
  }
  int64_t port;
  if (cb_parse_int(colon + 1, 1, 65535, &port) != 0) return cb_usage_error(PROG, "%s, got '%s'", what, v);
  if (!allow_remote && !cb_is_loopback_host(host))
    return cb_usage_error(PROG, "--connect: HOST must be a loopback address (127.0.0.0/8, ::1, localhost) "
                                "unless --allow-remote is given, got '%s'", host);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
  char portstr[8];
  snprintf(portstr, sizeof portstr, "%d", (int)port);
  int rc = getaddrinfo(host, portstr, &hints, &res);
  if (rc != 0 || !res) return cb_usage_error(PROG, "--connect: cannot resolve '%s': %s", host, gai_strerror(rc));
  memcpy(&o->addr, res->ai_addr, res->ai_addrlen);
  o->addrlen = res->ai_addrlen;
  freeaddrinfo(res);
  snprintf(o->connect, sizeof o->connect, "%s", v);
  return 0;
}

static int check_path(const char *v) {
  size_t n = strlen(v);
  int ok = n >= 1 && n <= CB_LOADGEN_MAX_PATH && v[0] == '/';
  for (size_t k = 0; ok && k < n; k++)
    if ((unsigned char)v[k] <= 0x20 || v[k] == 0x7f) ok = 0;
  return ok ? 0 : cb_usage_error(PROG, "--path: must start with '/' and hold no spaces or control characters, at most %d bytes",
                                 CB_LOADGEN_MAX_PATH);
}

int cb_loadgen_parse_args(int argc, char **argv, cb_loadgen_opts *o) {
  memset(o, 0, sizeof *o);
  o->duration_ns = INT64_C(2000000000);
  o->timeout_ns = INT64_C(2000000000);
  o->max_requests = 100000000;
  o->bytes = 1024;
  o->seed = 1;
  strcpy(o->path, "/");
  const char *connect = NULL, *proto = NULL, *bytes = NULL;
  int allow_remote = 0, have_conns = 0;
  for (int k = 1; k < argc; k++) {
    const char *f = argv[k];
    if (strcmp(f, "--allow-remote") == 0) {
      allow_remote = 1;
      continue;
    }
    static const char *const with_value[] = {"--connect", "--proto", "--connections", "--rate", "--duration",
                                             "--warmup", "--timeout-ms", "--max-requests", "--bytes", "--path",
                                             "--seed", NULL};
    int known = 0;
    for (int j = 0; with_value[j] && !known; j++) known = strcmp(f, with_value[j]) == 0;
    if (!known) return cb_usage_error(PROG, "unknown option '%s'; allowed: %s", f, ALLOWED);
    const char *v = k + 1 < argc ? argv[++k] : NULL;
    int64_t x;
    if (strcmp(f, "--connect") == 0) {
      if (!v) return cb_usage_error(PROG, "--connect: needs HOST:PORT");
      connect = v;
    } else if (strcmp(f, "--proto") == 0) {
      if (!v || (strcmp(v, "http") != 0 && strcmp(v, "echo") != 0))
        return cb_usage_error(PROG, "--proto: must be http or echo");
      proto = v;
    } else if (strcmp(f, "--connections") == 0) {
      if (cb_parse_int(v, 1, CB_LOADGEN_MAX_CONNS, &x) != 0)
        return cb_usage_error(PROG, "--connections: must be an integer from 1 to %d", CB_LOADGEN_MAX_CONNS);
      o->connections = (uint32_t)x;
      have_conns = 1;
    } else if (strcmp(f, "--rate") == 0) {
      if (cb_parse_int(v, 0, CB_LOADGEN_MAX_RATE, &x) != 0)
        return cb_usage_error(PROG, "--rate: must be an integer from 0 (closed loop) to %d requests/s", CB_LOADGEN_MAX_RATE);
      o->rate = (uint64_t)x;
    } else if (strcmp(f, "--duration") == 0) {
      if (parse_seconds(v, INT64_C(10000000), INT64_C(1000000000) * CB_LOADGEN_MAX_DURATION_S, &o->duration_ns) != 0)
        return cb_usage_error(PROG, "--duration: must be seconds from 0.01 to %d (decimals allowed)", CB_LOADGEN_MAX_DURATION_S);
    } else if (strcmp(f, "--warmup") == 0) {
      if (parse_seconds(v, 0, INT64_C(1000000000) * CB_LOADGEN_MAX_DURATION_S, &o->warmup_ns) != 0)
        return cb_usage_error(PROG, "--warmup: must be seconds from 0 to %d (decimals allowed)", CB_LOADGEN_MAX_DURATION_S);
    } else if (strcmp(f, "--timeout-ms") == 0) {
      if (cb_parse_int(v, 1, CB_LOADGEN_MAX_TIMEOUT_MS, &x) != 0)
        return cb_usage_error(PROG, "--timeout-ms: must be an integer from 1 to %d", CB_LOADGEN_MAX_TIMEOUT_MS);
      o->timeout_ns = x * 1000000;
    } else if (strcmp(f, "--max-requests") == 0) {
      if (cb_parse_int(v, 1, CB_LOADGEN_MAX_REQUESTS, &x) != 0)
        return cb_usage_error(PROG, "--max-requests: must be an integer from 1 to %" PRId64, CB_LOADGEN_MAX_REQUESTS);
      o->max_requests = (uint64_t)x;
    } else if (strcmp(f, "--bytes") == 0) {
      if (cb_parse_int(v, 0, CB_LOADGEN_MAX_BYTES, &x) != 0)
        return cb_usage_error(PROG, "--bytes: must be an integer from 0 (http) or 1 (echo) to %d", CB_LOADGEN_MAX_BYTES);
      o->bytes = (uint64_t)x;
      bytes = v;
    } else if (strcmp(f, "--path") == 0) {
      if (!v) return cb_usage_error(PROG, "--path: needs a request target starting with '/'");
      if (check_path(v) != 0) return -EINVAL;
      snprintf(o->path, sizeof o->path, "%s", v);
    } else if (strcmp(f, "--seed") == 0) {
      if (cb_parse_int(v, 0, INT64_MAX, &x) != 0)
        return cb_usage_error(PROG, "--seed: must be an integer from 0 to %" PRId64, INT64_MAX);
      o->seed = (uint64_t)x;
    }
  }
  if (!connect) return cb_usage_error(PROG, "--connect: required, HOST:PORT of the server");
  if (!proto) return cb_usage_error(PROG, "--proto: required, http or echo");
  if (!have_conns) return cb_usage_error(PROG, "--connections: required, an integer from 1 to %d", CB_LOADGEN_MAX_CONNS);
  o->proto = strcmp(proto, "http") == 0 ? CB_LOADGEN_HTTP : CB_LOADGEN_ECHO;
  if (o->proto == CB_LOADGEN_ECHO && o->bytes == 0)
    return cb_usage_error(PROG, "--bytes: must be an integer from 1 to %d with --proto echo (got %s)", CB_LOADGEN_MAX_BYTES,
                          bytes ? bytes : "0");
  return parse_connect(connect, allow_remote, o);
}
