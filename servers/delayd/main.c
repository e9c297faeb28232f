/* delayd — the loopback latency server; see delayd.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "servers/delayd/delayd.h"
#include "common/util.h"

static void usage_error(const char *what) {
  fprintf(stderr, "delayd: %s\n", what);
  exit(2);
}

/* A positive integer flag value up to max, or one line and exit 2. */
static int flag_int(const char *v, const char *flag, int64_t max, const char *unit) {
  int64_t x;
  if (cb_parse_int(v, 1, max, &x) != 0) {
    fprintf(stderr, "delayd: %s: must be an integer from 1 to %" PRId64 " (%s), got '%s'\n", flag, max, unit, v);
    exit(2);
  }
  return (int)x;
}

int main(int argc, char **argv) {
  cb_delayd_options opt = {.host = "127.0.0.1", .port = 0, .spin_us = CB_DELAYD_SPIN_US_DEFAULT};
  for (int k = 1; k < argc; k++) {
    if (strcmp(argv[k], "--host") == 0 && k + 1 < argc) {
      opt.host = argv[++k];
    } else if (strcmp(argv[k], "--port") == 0 && k + 1 < argc) {
      int64_t port;
      if (cb_parse_int(argv[++k], 0, 65535, &port) != 0)
        usage_error("--port: must be an integer from 0 to 65535");
      opt.port = (int)port;
    } else if (strcmp(argv[k], "--spin-us") == 0 && k + 1 < argc) {
      int64_t us;
      if (cb_parse_int(argv[++k], 0, CB_DELAYD_SPIN_US_MAX, &us) != 0)
        usage_error("--spin-us: must be an integer from 0 to 100000 (microseconds)");
      opt.spin_us = (int)us;
    } else if (strcmp(argv[k], "--header-timeout-ms") == 0 && k + 1 < argc) {
      opt.header_timeout_ms = flag_int(argv[++k], "--header-timeout-ms", CB_DELAYD_TIMEOUT_MS_MAX, "milliseconds");
    } else if (strcmp(argv[k], "--idle-timeout-ms") == 0 && k + 1 < argc) {
      opt.idle_timeout_ms = flag_int(argv[++k], "--idle-timeout-ms", CB_DELAYD_TIMEOUT_MS_MAX, "milliseconds");
    } else if (strcmp(argv[k], "--max-conns") == 0 && k + 1 < argc) {
      opt.max_conns = flag_int(argv[++k], "--max-conns", CB_DELAYD_MAX_CONNS_MAX, "connections");
    } else if (strcmp(argv[k], "--help") == 0) {
      printf("usage: delayd [--host 127.0.0.1] [--port 0] [--spin-us %d] [--header-timeout-ms %d]\n"
             "              [--idle-timeout-ms %d] [--max-conns %d]\n"
             "GET /?ms=D&bytes=B&seed=S answers after D ms (<= %d) with B bytes (<= %d)\n"
             "--spin-us: poll without sleeping this long after the last event (0 = never)\n"
             "--header-timeout-ms: a request's head must arrive within this of its first byte\n"
             "--idle-timeout-ms: close a connection with no request or write in progress this long\n"
             "--max-conns: refuse (503, closed) connections beyond this many open ones\n",
             CB_DELAYD_SPIN_US_DEFAULT, CB_DELAYD_HEADER_TIMEOUT_MS_DEFAULT, CB_DELAYD_IDLE_TIMEOUT_MS_DEFAULT,
             CB_DELAYD_MAX_CONNS_DEFAULT, CB_DELAYD_MAX_MS, CB_DELAYD_MAX_BYTES);
      return 0;
    } else {
      fprintf(stderr, "delayd: unknown argument '%s'; allowed: --host ADDR, --port N, --spin-us N, --header-timeout-ms N, --idle-timeout-ms N, --max-conns N\n", argv[k]);
      return 2;
    }
  }
  if (!cb_is_loopback_host(opt.host))
    usage_error("--host: only loopback addresses are allowed (127.0.0.0/8, ::1, localhost)");
  return cb_delayd_serve(&opt) == 0 ? 0 : 1;
}
