/* delayd.h — the loopback latency server (HTTP/1.1 on libuv).
 *
 * GET /?ms=D&bytes=B&seed=S answers after D ms with B bytes of cb_body_fill(S).
 * Keep-alive and pipelining; a malformed request gets 400 and the connection is
 * closed. It binds loopback addresses only. */
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

typedef struct cb_delayd_options {
  const char *host; /* must be a loopback address: 127.0.0.0/8 or ::1 */
  int port;         /* 0 = pick a free port */
  int spin_us;      /* 0 = block in epoll as soon as nothing is ready */
} cb_delayd_options;

/* 1 if host is a literal loopback address (127.0.0.0/8, ::1) or "localhost". */
int cb_is_loopback_host(const char *host);

/* Runs the server until SIGINT or SIGTERM. Once listening, prints
 * "http://HOST:PORT\n" to stdout and flushes. Returns 0 after a clean stop,
 * a negative errno when it could not start (with a one-line message on stderr). */
int cb_delayd_serve(const cb_delayd_options *opt);

#endif
