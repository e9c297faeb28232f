/* delayd.h — the loopback latency server (HTTP/1.1 on libuv).
 *
 * GET /?ms=D&bytes=B&seed=S answers after D ms with B bytes of cb_body_fill(S).
 * Keep-alive and pipelining (libhttp-parser; bare LF line ends are accepted). A
 * malformed request gets 400, a target over 4 KiB 414, a head over 8 KiB 431; then
 * the server half-closes and the connection ends. It binds loopback addresses only.
 * Bodies are generated as they are written: memory does not grow with their size. */
#ifndef CB_DELAYD_H
#define CB_DELAYD_H

#include <stdint.h>

#define CB_DELAYD_MAX_MS 600000
#define CB_DELAYD_MAX_BYTES (64 * 1024 * 1024)

/* After its last event the server polls without sleeping for this long (the default
 * of the delayd program) before it blocks in epoll. Waking a blocked process costs
 * the waker an inter-processor interrupt and the sleeper its wake-up latency, both
 * large on a VM (tens of µs here); a client that sends one request every 50-100 µs
 * would otherwise pay them on every request, and the latency server would add a
 * cost of its own to what is measured. Go's scheduler spins before parking for the
 * same reason. Bounded: an idle server sleeps after one spin. Each turn of the spin
 * yields the core (sched_yield), so a client with runnable threads there (threads,
 * procs) loses no CPU to it. */
#define CB_DELAYD_SPIN_US_DEFAULT 200
#define CB_DELAYD_SPIN_US_MAX 100000

/* Bounds on what clients may hold (flags of the delayd program; 0 in the options
 * means the default). A request's head must be complete within the header timeout
 * of its first byte; a connection with no request in progress, or whose client has
 * taken nothing of a pending write, is closed after the idle timeout (no workload
 * comes near either: the longest delay is CB_DELAYD_MAX_MS). Over max_conns open
 * connections a new one gets 503 and is closed, with one line on stderr; at the
 * descriptor limit (which delayd raises as far as it may) a new one waits in the
 * listen backlog until one closes, so a low limit slows clients but fails none. */
#define CB_DELAYD_HEADER_TIMEOUT_MS_DEFAULT 60000
#define CB_DELAYD_IDLE_TIMEOUT_MS_DEFAULT 600000
#define CB_DELAYD_TIMEOUT_MS_MAX 3600000
#define CB_DELAYD_MAX_CONNS_DEFAULT 65536
#define CB_DELAYD_MAX_CONNS_MAX 1000000

typedef struct cb_delayd_options {
  const char *host; /* must be a loopback address: 127.0.0.0/8 or ::1 */
  int port;         /* 0 = pick a free port */
  int spin_us;      /* 0 = block in epoll as soon as nothing is ready */
  int header_timeout_ms, idle_timeout_ms; /* 0 = the defaults above */
  int max_conns;                          /* 0 = CB_DELAYD_MAX_CONNS_DEFAULT */
} cb_delayd_options;

/* 1 if host is a literal loopback address (127.0.0.0/8, ::1) or "localhost". */
int cb_is_loopback_host(const char *host);

/* Runs the server until SIGINT or SIGTERM. Once listening, prints
 * "http://HOST:PORT\n" to stdout and flushes. Returns 0 after a clean stop,
 * a negative errno when it could not start (with a one-line message on stderr). */
int cb_delayd_serve(const cb_delayd_options *opt);

#endif
