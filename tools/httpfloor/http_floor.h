/* http_floor.h — the least client work for the http workload's pattern, as a
 * measured floor under every model's figure (bin/httpfloor).
 *
 * N jobs, each one TCP connection opened with a non-blocking connect and K
 * sequential HTTP/1.1 keep-alive GETs of the URLs the workload asks for
 * (workloads/http_seed.h), driven by one thread on a level-triggered epoll; no
 * per-request allocation, no timers, no library between us and the sockets.
 * Every body is checked byte for byte (cb_body_check) as it streams in and job
 * results are folded exactly as workloads/http.c and `concbench run` fold them,
 * so the checksum can be compared with a model's. */
#ifndef CB_HTTP_FLOOR_H
#define CB_HTTP_FLOOR_H

#include <stdint.h>
#include <sys/socket.h>

typedef struct cb_http_floor_opts {
  struct sockaddr_storage addr; /* the server (delayd), loopback */
  socklen_t addrlen;
  const char *host;             /* Host header value, "HOST:PORT" */
  uint64_t tasks;               /* N jobs = N connections, all in flight */
  uint64_t requests;            /* K GETs per connection, one after another */
  uint64_t delay_ms, bytes;     /* what each GET asks delayd for */
  double timeout_s;             /* the whole run, connects included */
} cb_http_floor_opts;

typedef struct cb_http_floor_result {
  double wall_s;          /* first socket() to the last response verified */
  double connect_phase_s; /* first socket() to the last connection's first request written */
  double user_s, sys_s;   /* this process's CPU time over the same phase */
  uint64_t jobs_done;     /* jobs whose K responses all arrived and verified */
  uint64_t checksum;      /* Σ cb_verify_fold(i, result of job i) over jobs_done */
  uint64_t expected_checksum;
  int verified;           /* every job done with its expected result */
  int err;                /* 0, or the first failure's negative errno (-EMFILE, -ETIMEDOUT...) */
  char error[256];        /* the first failure, one line; empty if none */
} cb_http_floor_result;

/* Runs the N×K fetches, then computes the expected checksum (outside the timed
 * phase). Stops at the first failure or when timeout_s has passed. Every
 * descriptor it opened is closed on return. Returns r->err. */
int cb_http_floor_run(const cb_http_floor_opts *o, cb_http_floor_result *r);

#endif
