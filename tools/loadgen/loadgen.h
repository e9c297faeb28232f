/* loadgen.h — bin/loadgen, the load generator for the server workloads
 * (tools/loadgen/README.md): N keep-alive connections to one server, HTTP GETs or
 * echo messages, closed loop (each connection sends its next request when its reply
 * has come) or open loop (a constant offered rate; latency measured from when each
 * request should have been sent, as wrk2 does). Every reply is checked byte for byte.
 *
 * The parts: args.c (the command line into cb_loadgen_opts), run.c (the loop, the
 * phases, timeouts, signals), conn.c (one connection: connect, send, read, check),
 * schedule.c (open-loop intended times and the ticker), hist.c (the latency
 * histogram), report.c (the JSON record), main.c (glue and exit codes). */
#ifndef CB_LOADGEN_H
#define CB_LOADGEN_H

#include <stdint.h>
#include <sys/socket.h>

#include "tools/loadgen/hist.h"

#define CB_LOADGEN_MAX_CONNS 100000
#define CB_LOADGEN_MAX_RATE 10000000
#define CB_LOADGEN_MAX_BYTES (64 * 1024 * 1024)
#define CB_LOADGEN_MAX_PATH 2048
#define CB_LOADGEN_MAX_DURATION_S 3600
#define CB_LOADGEN_MAX_TIMEOUT_MS 600000
#define CB_LOADGEN_MAX_REQUESTS INT64_C(1000000000000)

typedef enum { CB_LOADGEN_HTTP, CB_LOADGEN_ECHO } cb_loadgen_proto;

typedef struct cb_loadgen_opts {
  char connect[300];          /* as given: "HOST:PORT" (also the Host header) */
  struct sockaddr_storage addr;
  socklen_t addrlen;
  cb_loadgen_proto proto;
  uint32_t connections;
  uint64_t rate;              /* requests/s over all connections; 0: closed loop */
  int64_t duration_ns, warmup_ns, timeout_ns;
  uint64_t max_requests;
  uint64_t bytes;             /* body (http) or message (echo) bytes */
  char path[CB_LOADGEN_MAX_PATH + 1];
  uint64_t seed;
} cb_loadgen_opts;

typedef struct cb_loadgen_result {
  uint32_t connected;         /* open when the window started */
  double duration_s;          /* the window actually measured */
  uint64_t requests;          /* checked OK, sent (closed) or intended (open) in the window and answered in it */
  uint64_t bytes;             /* their body / message bytes */
  uint64_t errors, timeouts, wrong, reconnects, unsent;
  uint64_t total_sent, total_ok, total_checked;
  uint64_t checksum, expected_checksum;
  double generator_cpu;       /* CPU seconds during the window / duration_s */
  int interrupted;            /* stopped by SIGINT or SIGTERM */
  int out_of_resources;       /* descriptors or memory ran out */
  cb_lat_hist corrected;      /* from the intended time (open loop); from the send (closed) */
  cb_lat_hist uncorrected;    /* from the actual send */
  char error[256];            /* the first problem, one line; empty if none */
} cb_loadgen_result;

/* Parses argv into o (defaults first). 0, or -EINVAL after one line on stderr
 * ("loadgen: --NAME: what is allowed"). Resolves --connect (loopback only unless
 * --allow-remote). */
int cb_loadgen_parse_args(int argc, char **argv, cb_loadgen_opts *o);

/* Runs the load and fills r (r is large: allocate it). Returns 0; failures are in r. */
int cb_loadgen_run(const cb_loadgen_opts *o, cb_loadgen_result *r);

/* 1 iff the run verified: total_ok > 0, no error, timeout or wrong reply, and
 * every request sent got its reply. */
int cb_loadgen_verified(const cb_loadgen_result *r);

/* Prints the record as one compact JSON line on stdout. */
void cb_loadgen_print(const cb_loadgen_opts *o, const cb_loadgen_result *r);

#endif
