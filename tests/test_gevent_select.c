/* test_gevent_select.c — gevent's select/poll behaviours (test__select.py TestSelect,
 * TestSelectRead, TestPollRead, TestSelectTypes, TestPossibleCrashes;
 * test__monkey_select.py) ported to the hooked select, poll and epoll_wait of green
 * threads (runtimes/green/CONFORMANCE.md). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "tests/helpers/gevent_port.h"

TestSuite(gevent_select, .timeout = 30);

/* gevent.testing.timing.AbstractGenericWaitTestCase.test_returns_none_after_timeout:
 * wait(0.2) returns after at least 0.2 s (gevent: within [0.1, 0.31] s); here: at least
 * 0.2 s, with nothing ready, and a bystander ran meanwhile. */
struct waitcase {
  gp_bystander *b;
  int kind; /* 0 select no fds, 1 select pipe, 2 poll pipe, 3 epoll_wait pipe, 4 select socket (1 ms) */
  int r;
  int64_t took, want;
};
static void wait_fn(void *p) {
  struct waitcase *w = p;
  int pv[2];
  cr_assert_eq(pipe(pv), 0);
  int64_t t0 = gp_now_ns();
  w->b->in_call = 1;
  if (w->kind == 0) {
    struct timeval tv = gp_tv_ms(200);
    w->r = select(0, NULL, NULL, NULL, &tv);
  } else if (w->kind == 1) {
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(pv[0], &rd);
    struct timeval tv = gp_tv_ms(200);
    w->r = select(pv[0] + 1, &rd, NULL, NULL, &tv);
  } else if (w->kind == 2) {
    struct pollfd pfd = {.fd = pv[0], .events = POLLIN};
    w->r = poll(&pfd, 1, 200);
  } else if (w->kind == 3) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    cr_assert_geq(ep, 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = pv[0]}, out[4];
    cr_assert_eq(epoll_ctl(ep, EPOLL_CTL_ADD, pv[0], &ev), 0);
    w->r = epoll_wait(ep, out, 4, 200);
    close(ep);
  } else {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fd, &rd);
    struct timeval tv = gp_tv_ms(1); /* TestSelectTypes: 0.001 */
    w->r = select(fd + 1, &rd, NULL, NULL, &tv);
    close(fd);
  }
  w->b->in_call = 0;
  w->took = gp_now_ns() - t0;
  w->b->done = 1;
  close(pv[0]), close(pv[1]);
}
static void wait_case(int kind, int64_t want_ns) {
  gp_bystander b = {0};
  struct waitcase w = {.b = &b, .kind = kind, .r = -2};
  gp_run(wait_fn, &w, &b);
  cr_expect_eq(w.r, 0, "returned %d (%s)", w.r, strerror(errno));
  cr_expect_geq(w.took, want_ns, "returned after %lld ns", (long long)w.took);
  cr_expect_gt(b.turns_during, 0, "the wait blocked the scheduler");
}
Test(gevent_select, TestSelect_test_returns_none_after_timeout) { wait_case(0, 200000000); }
Test(gevent_select, TestSelectRead_test_returns_none_after_timeout) { wait_case(1, 200000000); }
Test(gevent_select, TestPollRead_test_returns_none_after_timeout) { wait_case(2, 200000000); }
/* test__monkey_select.py test_epoll_removed: gevent removes select.epoll when it
 * patches, since a patched program must not block in it. Here epoll_wait is made
 * cooperative instead (CONFORMANCE.md): the same wait through an epoll set. */
Test(gevent_select, test_epoll_removed_epoll_wait_is_cooperative) { wait_case(3, 200000000); }
/* TestSelectTypes.test_int: select on a socket's fd with a 1 ms timeout */
Test(gevent_select, TestSelectTypes_test_int) {
  gp_bystander b = {0};
  struct waitcase w = {.b = &b, .kind = 4, .r = -2};
  gp_run(wait_fn, &w, &b);
  cr_expect_geq(w.r, 0); /* an unconnected TCP socket may report itself ready (HUP) */
  if (w.r == 0) cr_expect_geq(w.took, 1000000);
}

/* epoll_wait returns the events that arrive while it is parked */
struct epready {
  int ep, pv[2], r;
  struct epoll_event out[4];
};
static void ep_waiter(void *p) {
  struct epready *t = p;
  t->r = epoll_wait(t->ep, t->out, 4, -1);
}
static void ep_writer(void *p) {
  struct epready *t = p;
  usleep(20000);
  cr_assert_eq(write(t->pv[1], "x", 1), 1);
}
Test(gevent_select, epoll_wait_wakes_on_an_event) {
  struct epready t = {0};
  cr_assert_eq(pipe(t.pv), 0);
  t.ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 77};
  cr_assert_eq(epoll_ctl(t.ep, EPOLL_CTL_ADD, t.pv[0], &ev), 0);
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  cr_assert_eq(cb_green_spawn(s, ep_writer, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, ep_waiter, &t, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(t.r, 1);
  cr_expect_eq(t.out[0].data.u32, 77u);
  cr_expect(t.out[0].events & EPOLLIN);
  cb_green_sched_free(s);
  close(t.ep), close(t.pv[0]), close(t.pv[1]);
}

/* ---- TestSelectRead.test_errno: select on a closed fd fails with EBADF ---- */
static void select_closed(void *p) {
  int *err = p;
  int pv[2];
  cr_assert_eq(pipe(pv), 0);
  close(pv[0]);
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(pv[0], &rd);
  struct timeval tv = {0, 0};
  errno = 0;
  cr_expect_eq(select(pv[0] + 1, &rd, NULL, NULL, &tv), -1);
  *err = errno;
  close(pv[1]);
}
Test(gevent_select, TestSelectRead_test_errno) {
  int err = 0;
  gp_run(select_closed, &err, NULL);
  cr_expect_eq(err, EBADF);
}

/* ---- TestPollRead.test_poll_invalid (skipped by gevent itself on libuv): a closed fd
 * polled is reported POLLNVAL, as the kernel reports it ---- */
static void poll_closed(void *p) {
  short *re = p;
  int pv[2];
  cr_assert_eq(pipe(pv), 0);
  close(pv[0]);
  struct pollfd pfd = {.fd = pv[0], .events = POLLIN};
  cr_expect_eq(poll(&pfd, 1, 100), 1);
  *re = pfd.revents;
  close(pv[1]);
}
Test(gevent_select, TestPollRead_test_poll_invalid) {
  short re = 0;
  gp_run(poll_closed, &re, NULL);
  cr_expect_eq(re, POLLNVAL);
}

/* ---- TestPossibleCrashes: an fd closed while (or before) a green thread selects or
 * polls on it. gevent's concern: libuv must not abort on the stale watcher. Here the
 * close() hook wakes the parked waiter, which then sees the closed fd as the kernel
 * reports it (select: EBADF, poll: POLLNVAL); nothing crashes or hangs. ---- */
struct closing {
  int fd, r, err;
  short revents;
  int use_poll;
};
static void closing_selector(void *p) {
  struct closing *c = p;
  errno = 0;
  if (c->use_poll) {
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    c->r = poll(&pfd, 1, 5000);
    c->revents = pfd.revents;
  } else {
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(c->fd, &rd);
    struct timeval tv = {5, 0};
    c->r = select(c->fd + 1, &rd, NULL, NULL, &tv);
  }
  c->err = errno;
}
static void closing_closer(void *p) {
  struct closing *c = p;
  usleep(10000);
  close(c->fd);
}
static void closing_case(int use_poll, int before) {
  cb_green_sched *s; /* first: its loop's fds must not take the closed number */
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  struct closing c = {.fd = socket(AF_INET, SOCK_STREAM, 0), .use_poll = use_poll};
  /* an unconnected socket is readable at once (POLLHUP); a listening one is not */
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  cr_assert_eq(bind(c.fd, (struct sockaddr *)&a, sizeof a), 0);
  cr_assert_eq(listen(c.fd, 1), 0);
  if (before) close(c.fd);
  if (!before) cr_assert_eq(cb_green_spawn(s, closing_closer, &c, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, closing_selector, &c, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  if (use_poll) {
    cr_expect_eq(c.r, 1);
    cr_expect_eq(c.revents, POLLNVAL);
  } else {
    cr_expect_eq(c.r, -1);
    cr_expect_eq(c.err, EBADF);
  }
  cb_green_sched_free(s);
}
Test(gevent_select, TestPossibleCrashes_test_closing_object_while_selecting) { closing_case(0, 0); }
Test(gevent_select, TestPossibleCrashes_test_closing_fd_before_selecting) { closing_case(0, 1); }
Test(gevent_select, TestPossibleCrashes_test_closing_object_while_polling) { closing_case(1, 0); }

/* ---- select and poll with a zero timeout never park; a ready fd is reported at once
 * (gevent: select with timeout 0 is a non-blocking check) ---- */
static void zero_timeouts(void *p) {
  int *turns = p;
  int pv[2];
  cr_assert_eq(pipe(pv), 0);
  cr_assert_eq(write(pv[1], "x", 1), 1);
  cb_green *me = cb_green_self();
  (void)me;
  struct pollfd pfd[2] = {{.fd = pv[0], .events = POLLIN}, {.fd = pv[1], .events = POLLIN}};
  cr_expect_eq(poll(pfd, 2, 0), 1);
  cr_expect_eq(pfd[0].revents, POLLIN);
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(pv[1], &rd);
  struct timeval tv = {0, 0};
  cr_expect_eq(select(pv[1] + 1, &rd, NULL, NULL, &tv), 0);
  *turns = 1;
  close(pv[0]), close(pv[1]);
}
static void zero_other(void *p) {
  int *turns = p;
  cr_expect_eq(*turns, 1, "a zero-timeout poll or select parked");
}
Test(gevent_select, select_and_poll_with_timeout_zero_do_not_park) {
  int turns = 0;
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  cr_assert_eq(cb_green_spawn(s, zero_other, &turns, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, zero_timeouts, &turns, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cb_green_sched_free(s);
}

/* ---- select and poll with sub-millisecond timeouts: poll's grain is the
 * millisecond; select's microsecond timeout ends after at least what was asked ---- */
static void select_subms(void *p) {
  int64_t *took = p;
  int pv[2];
  cr_assert_eq(pipe(pv), 0);
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(pv[0], &rd);
  struct timeval tv = {0, 300};
  int64_t t0 = gp_now_ns();
  cr_expect_eq(select(pv[0] + 1, &rd, NULL, NULL, &tv), 0);
  *took = gp_now_ns() - t0;
  cr_expect_eq(tv.tv_sec, 0);
  cr_expect_eq(tv.tv_usec, 0); /* Linux: the time left */
  close(pv[0]), close(pv[1]);
}
Test(gevent_select, select_sub_millisecond_timeout) {
  int64_t took = 0;
  gp_run(select_subms, &took, NULL);
  cr_expect_geq(took, 300000);
}

/* ---- ppoll and pselect (the timespec forms) park like poll and select, with their
 * nanosecond timeouts ---- */
struct pp {
  gp_bystander *b;
  int rp, rs;
  int64_t took_p, took_s;
};
static void pp_fn(void *p) {
  struct pp *t = p;
  int pv[2];
  cr_assert_eq(pipe(pv), 0);
  struct pollfd pfd = {.fd = pv[0], .events = POLLIN};
  struct timespec ts = {0, 50000000};
  t->b->in_call = 1;
  int64_t t0 = gp_now_ns();
  t->rp = ppoll(&pfd, 1, &ts, NULL);
  t->took_p = gp_now_ns() - t0;
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(pv[0], &rd);
  t0 = gp_now_ns();
  t->rs = pselect(pv[0] + 1, &rd, NULL, NULL, &ts, NULL);
  t->took_s = gp_now_ns() - t0;
  t->b->in_call = 0;
  t->b->done = 1;
  cr_expect_eq(ts.tv_nsec, 50000000); /* pselect leaves it alone */
  close(pv[0]), close(pv[1]);
}
Test(gevent_select, ppoll_and_pselect_are_cooperative) {
  gp_bystander b = {0};
  struct pp t = {.b = &b, .rp = -2, .rs = -2};
  gp_run(pp_fn, &t, &b);
  cr_expect_eq(t.rp, 0);
  cr_expect_eq(t.rs, 0);
  cr_expect_geq(t.took_p, 50000000);
  cr_expect_geq(t.took_s, 50000000);
  cr_expect_gt(b.turns_during, 0);
}
