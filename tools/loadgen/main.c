/* loadgen — the load generator of the server workloads (loadgen.h, README.md).
 *
 *   loadgen --connect HOST:PORT --proto http|echo --connections N
 *           [--rate R] [--duration S] [--warmup S] [--timeout-ms T]
 *           [--max-requests M] [--bytes B] [--path TARGET] [--seed S] [--allow-remote]
 *
 * Prints one JSON line. Exit codes (common/exit_codes.h): 0 verified, 1 not
 * verified (the JSON says why), 2 bad input (one line on stderr naming the flag),
 * 3 out of descriptors or memory, 130 stopped by SIGINT or SIGTERM (the JSON holds
 * what was measured so far and "interrupted": true).
 * With CONCBENCH_DIE_WITH_PARENT=1 in its environment (the harness sets it) it dies
 * with its parent. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/child.h"
#include "common/exit_codes.h"
#include "common/util.h"
#include "tools/loadgen/loadgen.h"

int main(int argc, char **argv) {
  const char *die = getenv("CONCBENCH_DIE_WITH_PARENT");
  if (die && strcmp(die, "1") == 0 && cb_die_with_parent(getppid()) != 0) return CB_EXIT_INTERRUPTED;
  signal(SIGPIPE, SIG_IGN); /* a write to a closed connection fails with EPIPE instead */
  cb_loadgen_opts o;
  if (cb_loadgen_parse_args(argc, argv, &o) != 0) return CB_EXIT_USAGE;
  cb_raise_fd_limit();
  cb_loadgen_result *r = calloc(1, sizeof *r);
  if (!r) {
    fprintf(stderr, "loadgen: out of memory\n");
    return CB_EXIT_RESOURCE;
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && o.connections + 16 > rl.rlim_cur) {
    cb_lat_hist_init(&r->corrected);
    cb_lat_hist_init(&r->uncorrected);
    r->out_of_resources = 1;
    snprintf(r->error, sizeof r->error, "%" PRIu32 " connections need more descriptors than the limit of %" PRIu64
             " (out of descriptors)", o.connections, (uint64_t)rl.rlim_cur);
  } else {
    cb_loadgen_run(&o, r);
  }
  cb_loadgen_print(&o, r);
  if (r->error[0]) fprintf(stderr, "loadgen: %s\n", r->error);
  int code = r->interrupted ? CB_EXIT_INTERRUPTED
             : r->out_of_resources ? CB_EXIT_RESOURCE
             : cb_loadgen_verified(r) ? CB_EXIT_OK : CB_EXIT_FAILED;
  free(r);
  return code;
}
