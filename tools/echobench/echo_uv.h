/* echo_uv.h — the echo benchmark's plain-libuv parts: the baseline echo server
 * written directly on libuv callbacks, and the bounded load client (N
 * connections doing fixed-size round trips on loopback, each echoed message
 * checked byte for byte). The loop-streams server it is compared with lives in
 * echobench_main.c. */
#ifndef CB_ECHO_UV_H
#define CB_ECHO_UV_H

#include <stdint.h>

typedef struct cb_echo_load_opts {
  int port;           /* on 127.0.0.1 */
  int conns;          /* connections, each with one message in flight */
  int size;           /* bytes per message */
  uint64_t count;     /* stop after this many round trips in total ... */
  double seconds;     /* ... or after this long, whichever comes first */
} cb_echo_load_opts;

typedef struct cb_echo_load_result {
  uint64_t round_trips;
  uint64_t bad;   /* echoed bytes that differed from what was sent */
  double seconds; /* from the first connect to the last round trip */
  int err;        /* first connection error, 0 if none */
} cb_echo_load_result;

/* Runs the load on a private uv loop in the calling thread. 0 or negative errno. */
int cb_echo_load(const cb_echo_load_opts *o, cb_echo_load_result *r);

/* The baseline server on its own thread and uv loop, bound to 127.0.0.1:0. */
typedef struct cb_echo_uv_server cb_echo_uv_server;
/* Starts it; returns NULL on failure. *port receives the bound port. */
cb_echo_uv_server *cb_echo_uv_server_start(int *port);
/* Stops it, joins its thread, frees it. */
void cb_echo_uv_server_stop(cb_echo_uv_server *s);

#endif
