/* gevent_port.h — shared pieces of the ports of gevent's tests (tests/test_gevent_*.c,
 * runtimes/green/CONFORMANCE.md). gevent's tests time a wait against bounds; here a
 * wait is checked to last at least what was asked, to end at all (Criterion's
 * timeout), and to have let other green threads run meanwhile (a bystander counts
 * its turns while the call is in progress), never against a tight upper bound. */
#ifndef CB_TESTS_GEVENT_PORT_H
#define CB_TESTS_GEVENT_PORT_H

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "runtimes/green/green.h"

static inline int64_t gp_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A green thread that, until *done, takes turns (1 ms sleeps) and counts those it
 * took while *in_call was set. */
typedef struct gp_bystander {
  volatile int in_call, done;
  int turns_during;
} gp_bystander;

static inline void gp_bystander_fn(void *p) {
  gp_bystander *b = p;
  while (!b->done) {
    if (b->in_call) b->turns_during++;
    usleep(1000);
  }
}

/* Runs fn(arg) in a green thread, with b (if any) as a bystander beside it; fn must
 * set b->done when it ends. Asserts the scheduler ended normally. */
static inline void gp_run(void (*fn)(void *), void *arg, gp_bystander *b) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  if (b) cr_assert_eq(cb_green_spawn(s, gp_bystander_fn, b, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, fn, arg, NULL), 0); /* runs first (child first) */
  cr_assert_eq(cb_green_sched_run(s), 0);
  cb_green_sched_free(s);
}

/* A listening TCP socket on 127.0.0.1, any port; *addr is where to connect. */
static inline int gp_listener(struct sockaddr_in *addr, int backlog) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert_geq(fd, 0);
  *addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof *addr;
  cr_assert_eq(bind(fd, (struct sockaddr *)addr, sizeof *addr), 0);
  cr_assert_eq(listen(fd, backlog), 0);
  cr_assert_eq(getsockname(fd, (struct sockaddr *)addr, &len), 0);
  return fd;
}

/* A port on 127.0.0.1 nothing listens on (bound, then closed). */
static inline struct sockaddr_in gp_unused_port(void) {
  struct sockaddr_in a;
  int fd = gp_listener(&a, 1);
  close(fd);
  return a;
}

static inline struct timeval gp_tv_ms(int ms) { return (struct timeval){ms / 1000, (ms % 1000) * 1000}; }

#endif
