/* delayd — the loopback latency server; see delayd.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "servers/delayd/delayd.h"
#include "common/util.h"

static void usage_error(const char *what) {
  fprintf(stderr, "delayd: %s\n", what);
  exit(2);
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
    } else if (strcmp(argv[k], "--help") == 0) {
      printf("usage: delayd [--host 127.0.0.1] [--port 0] [--spin-us %d]\n"
             "GET /?ms=D&bytes=B&seed=S answers after D ms (<= %d) with B bytes (<= %d)\n"
             "--spin-us: poll without sleeping this long after the last event (0 = never)\n",
             CB_DELAYD_SPIN_US_DEFAULT, CB_DELAYD_MAX_MS, CB_DELAYD_MAX_BYTES);
      return 0;
    } else {
      fprintf(stderr, "delayd: unknown argument '%s'; allowed: --host ADDR, --port N, --spin-us N\n", argv[k]);
      return 2;
    }
  }
  if (!cb_is_loopback_host(opt.host))
    usage_error("--host: only loopback addresses are allowed (127.0.0.0/8, ::1, localhost)");
  return cb_delayd_serve(&opt) == 0 ? 0 : 1;
}
