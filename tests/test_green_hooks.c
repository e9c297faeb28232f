/* test_green_hooks.c — blocking calls are cooperative inside green threads and plain
 * libc everywhere else. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "runtimes/green/green.h"

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static cb_green_sched *new_sched(void) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  return s;
}

Test(green_hooks, hooks_are_linked_in) {
  /* the program's read/write/poll must be ours, not libc's, or nothing is hooked */
  void *libc_write = dlsym(RTLD_NEXT, "write");
  cr_assert_not_null(libc_write);
  cr_expect_neq((void *)write, libc_write);
  cr_expect_neq((void *)poll, dlsym(RTLD_NEXT, "poll"));
  cr_expect_neq((void *)nanosleep, dlsym(RTLD_NEXT, "nanosleep"));
}

struct sockpair_test {
  int sv[2];
  int ticks_while_blocked;
  int reader_done;
  char got[16];
  ssize_t n;
  int flags_after;
};

static void blocked_reader(void *p) {
  struct sockpair_test *t = p;
  t->n = read(t->sv[0], t->got, sizeof t->got); /* blocking fd: parks, others run */
  t->reader_done = 1;
  t->flags_after = fcntl(t->sv[0], F_GETFL);
}

static void ticker(void *p) {
  struct sockpair_test *t = p;
  for (int i = 0; i < 10; i++) {
    cr_expect_eq(t->reader_done, 0);
    t->ticks_while_blocked++;
    usleep(2000);
  }
  cr_assert_eq(write(t->sv[1], "hello", 5), 5);
}

Test(green_hooks, blocked_socket_lets_others_run) {
  cb_green_sched *s = new_sched();
  struct sockpair_test t = {0};
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, t.sv), 0);
  int flags_before = fcntl(t.sv[0], F_GETFL);
  cr_assert_eq(cb_green_spawn(s, ticker, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, blocked_reader, &t, NULL), 0); /* runs first */
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(t.ticks_while_blocked, 10);
  cr_expect_eq(t.n, 5);
  cr_expect_eq(memcmp(t.got, "hello", 5), 0);
  cr_expect_eq(t.flags_after, flags_before, "fd flags %#x, were %#x", t.flags_after, flags_before);
  close(t.sv[0]);
  close(t.sv[1]);
  cb_green_sched_free(s);
}

struct tcp_test {
  int lfd;
  struct sockaddr_in addr;
  char server_got[8], client_got[8];
  int others_ran;
  int done;
};

static void server(void *p) {
  struct tcp_test *t = p;
  int c = accept(t->lfd, NULL, NULL);
  cr_assert_geq(c, 0, "accept: %s", strerror(errno));
  cr_assert_eq(recv(c, t->server_got, 4, MSG_WAITALL), 4);
  cr_assert_eq(send(c, "pong", 4, 0), 4);
  close(c);
}

static void client(void *p) {
  struct tcp_test *t = p;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert_geq(fd, 0);
  cr_assert_eq(connect(fd, (struct sockaddr *)&t->addr, sizeof t->addr), 0, "connect: %s", strerror(errno));
  cr_assert_eq(write(fd, "ping", 4), 4);
  cr_assert_eq(read(fd, t->client_got, 4), 4);
  close(fd);
  t->done = 1;
}

static void bystander(void *p) {
  struct tcp_test *t = p;
  while (!t->done) {
    t->others_ran++;
    cb_green_yield();
  }
}

Test(green_hooks, tcp_connect_accept_inside_green_threads) {
  cb_green_sched *s = new_sched();
  struct tcp_test t = {0};
  t.lfd = socket(AF_INET, SOCK_STREAM, 0);
  t.addr.sin_family = AF_INET;
  t.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof t.addr;
  cr_assert_eq(bind(t.lfd, (struct sockaddr *)&t.addr, sizeof t.addr), 0);
  cr_assert_eq(listen(t.lfd, 8), 0);
  cr_assert_eq(getsockname(t.lfd, (struct sockaddr *)&t.addr, &len), 0);
  cr_assert_eq(cb_green_spawn(s, bystander, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, client, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, server, &t, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(memcmp(t.server_got, "ping", 4), 0);
  cr_expect_eq(memcmp(t.client_got, "pong", 4), 0);
  cr_expect_gt(t.others_ran, 0);
  close(t.lfd);
  cb_green_sched_free(s);
}

struct poll_test {
  int pfd[2];
  int r;
  int64_t waited_ns;
  int sel_r;
  int ticks, ticks_during_poll;
};

static void poller(void *p) {
  struct poll_test *t = p;
  struct pollfd pf = {.fd = t->pfd[0], .events = POLLIN};
  int64_t t0 = now_ns();
  t->r = poll(&pf, 1, 50); /* nothing arrives: times out */
  t->waited_ns = now_ns() - t0;
  t->ticks_during_poll = t->ticks;
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(t->pfd[0], &rd);
  struct timeval tv = {0, 20000};
  t->sel_r = select(t->pfd[0] + 1, &rd, NULL, NULL, &tv);
}

static void poll_ticker(void *p) {
  struct poll_test *t = p;
  for (int i = 0; i < 5; i++) {
    t->ticks++;
    struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL);
  }
}

Test(green_hooks, poll_and_select_time_out_cooperatively) {
  cb_green_sched *s = new_sched();
  struct poll_test t = {0};
  cr_assert_eq(pipe(t.pfd), 0);
  cr_assert_eq(cb_green_spawn(s, poll_ticker, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, poller, &t, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(t.r, 0);
  cr_expect_eq(t.sel_r, 0);
  /* the timeout is a lower bound (a busy machine only adds to it); cooperative: the
   * ticker, which runs as soon as the poller parks, ticked while poll waited */
  cr_expect_geq(t.waited_ns, 50000000, "poll(50 ms) returned after %lld ns", (long long)t.waited_ns);
  cr_expect_geq(t.ticks_during_poll, 1, "nothing else ran while poll waited");
  cr_expect_eq(t.ticks, 5);
  cb_green_sched_free(s);
}

struct nappers {
  int asleep, most_asleep, done;
  int64_t shortest_ns;
};

static void napper(void *p) {
  struct nappers *n = p;
  int64_t t0 = now_ns();
  if (++n->asleep > n->most_asleep) n->most_asleep = n->asleep;
  cr_assert_eq(usleep(50000), 0);
  n->asleep--;
  n->done++;
  int64_t slept = now_ns() - t0;
  if (n->shortest_ns == 0 || slept < n->shortest_ns) n->shortest_ns = slept;
}

/* Structural, not timed: every napper is asleep at once (a usleep that blocked the
 * OS thread would let one napper finish before the next starts). All 200 are queued
 * before the first runs and a woken one goes to the back of the run queue, so this
 * holds however busy the machine is. */
Test(green_hooks, sleeps_overlap) {
  cb_green_sched *s = new_sched();
  struct nappers n = {0};
  for (int i = 0; i < 200; i++) cr_assert_eq(cb_green_spawn(s, napper, &n, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(n.done, 200);
  cr_expect_eq(n.most_asleep, 200, "at most %d of 200 usleep(50 ms) overlapped", n.most_asleep);
  cr_expect_geq(n.shortest_ns, 50000000, "a usleep(50 ms) returned after %lld ns", (long long)n.shortest_ns);
  cb_green_sched_free(s);
}

/* Outside green threads every hook must behave exactly like libc: same results, same
 * errno, same side effects. */
typedef ssize_t (*rw_fn)(int, void *, size_t);
typedef int (*poll_fn)(struct pollfd *, nfds_t, int);
typedef int (*cns_fn)(clockid_t, int, const struct timespec *, struct timespec *);
typedef int (*ns_fn)(const struct timespec *, struct timespec *);
typedef int (*sel_fn)(int, fd_set *, fd_set *, fd_set *, struct timeval *);

Test(green_hooks, outside_green_threads_same_as_libc) {
  rw_fn libc_read = (rw_fn)dlsym(RTLD_NEXT, "read");
  rw_fn libc_write = (rw_fn)dlsym(RTLD_NEXT, "write");
  poll_fn libc_poll = (poll_fn)dlsym(RTLD_NEXT, "poll");
  cns_fn libc_cns = (cns_fn)dlsym(RTLD_NEXT, "clock_nanosleep");
  ns_fn libc_ns = (ns_fn)dlsym(RTLD_NEXT, "nanosleep");
  sel_fn libc_select = (sel_fn)dlsym(RTLD_NEXT, "select");
  cr_assert(libc_read && libc_write && libc_poll && libc_cns && libc_ns && libc_select);
  int p[2];
  cr_assert_eq(pipe(p), 0);
  char buf[8];

  /* success paths */
  cr_expect_eq(write(p[1], "abc", 3), libc_write(p[1], "abc", 3));
  cr_expect_eq(read(p[0], buf, 3), 3);
  cr_expect_eq(libc_read(p[0], buf, 3), 3);
  cr_expect_eq(memcmp(buf, "abc", 3), 0);

  /* error paths: return value and errno */
  errno = 0;
  ssize_t a = read(-1, buf, 1);
  int ea = errno;
  errno = 0;
  ssize_t b = libc_read(-1, buf, 1);
  cr_expect_eq(a, b);
  cr_expect_eq(ea, errno);
  cr_expect_eq(ea, EBADF);

  /* non-blocking empty pipe: EAGAIN, not parked (no scheduler here) */
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  errno = 0;
  cr_expect_eq(read(p[0], buf, 1), -1);
  cr_expect_eq(errno, EAGAIN);

  /* poll: same revents */
  struct pollfd x = {.fd = p[1], .events = POLLIN | POLLOUT}, y = x;
  cr_expect_eq(poll(&x, 1, 0), libc_poll(&y, 1, 0));
  cr_expect_eq(x.revents, y.revents);
  x.fd = y.fd = 12345;
  cr_expect_eq(poll(&x, 1, 0), libc_poll(&y, 1, 0));
  cr_expect_eq(x.revents, POLLNVAL);
  cr_expect_eq(y.revents, POLLNVAL);

  /* select updates the timeout like Linux select */
  fd_set r1, r2;
  FD_ZERO(&r1);
  FD_SET(p[0], &r1);
  r2 = r1;
  struct timeval t1 = {0, 1000}, t2 = t1;
  cr_expect_eq(select(p[0] + 1, &r1, NULL, NULL, &t1), libc_select(p[0] + 1, &r2, NULL, NULL, &t2));
  cr_expect_eq(FD_ISSET(p[0], &r1), FD_ISSET(p[0], &r2));
  cr_expect_eq(t1.tv_sec, 0);
  cr_expect_eq(t1.tv_usec, 0);

  /* clock_nanosleep returns the error and leaves errno alone */
  struct timespec bad = {0, 2000000000L}, rem;
  errno = 77;
  cr_expect_eq(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, &rem), libc_cns(CLOCK_MONOTONIC, 0, &bad, &rem));
  cr_expect_eq(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, &rem), EINVAL);
  cr_expect_eq(errno, 77);
  errno = 0;
  cr_expect_eq(nanosleep(&bad, NULL), -1);
  cr_expect_eq(errno, EINVAL);
  errno = 0;
  cr_expect_eq(libc_ns(&bad, NULL), -1);
  cr_expect_eq(errno, EINVAL);

  /* real sleeps really sleep */
  int64_t t0 = now_ns();
  cr_expect_eq(usleep(20000), 0);
  cr_expect_eq(sleep(0), 0u);
  cr_expect_geq(now_ns() - t0, 20000000);
  close(p[0]);
  close(p[1]);
}

struct reuse_test {
  int rounds_ok;
};

/* Wait on a pipe, close it, get the same fd number for a new pipe, wait again: the
 * stale registration of the old file must not hide the new one (io.c lazy stop). */
static void reuse_worker(void *p) {
  struct reuse_test *t = p;
  for (int k = 0; k < 5; k++) {
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(write(fds[1], "x", 1), 1);
    char c;
    struct pollfd pf = {.fd = fds[0], .events = POLLIN};
    cr_assert_eq(poll(&pf, 1, 1000), 1);
    cr_assert_eq(read(fds[0], &c, 1), 1);
    pf.revents = 0;
    cr_assert_eq(poll(&pf, 1, 10), 0); /* parks, times out: fd stays registered */
    close(fds[0]);
    close(fds[1]);
    t->rounds_ok++;
  }
}

Test(green_hooks, closed_fd_number_reused) {
  cb_green_sched *s = new_sched();
  struct reuse_test t = {0};
  cr_assert_eq(cb_green_spawn(s, reuse_worker, &t, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(t.rounds_ok, 5);
  cb_green_sched_free(s);
}

struct close_wait_test {
  int fds[2];
  ssize_t r;
  int err;
};

static void reader_of_closed(void *p) {
  struct close_wait_test *t = p;
  char c;
  t->r = read(t->fds[0], &c, 1);
  t->err = errno;
}

static void closer_of_fd(void *p) {
  struct close_wait_test *t = p;
  close(t->fds[0]); /* the reader is parked on it */
}

Test(green_hooks, close_wakes_a_parked_reader) {
  cb_green_sched *s = new_sched();
  struct close_wait_test t = {0};
  cr_assert_eq(pipe(t.fds), 0);
  cr_assert_eq(cb_green_spawn(s, closer_of_fd, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, reader_of_closed, &t, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(t.r, -1);
  cr_expect_eq(t.err, EBADF);
  close(t.fds[1]);
  cb_green_sched_free(s);
}

struct bulk_test {
  int p[2];
  size_t n;
  ssize_t wrote, wrotev;
  size_t got;
  int pattern_ok;
  ssize_t dontwait_r;
  int dontwait_errno;
};

static void bulk_writer(void *p) {
  struct bulk_test *t = p;
  char *buf = malloc(t->n);
  for (size_t i = 0; i < t->n; i++) buf[i] = (char)(i * 7);
  t->wrote = write(t->p[1], buf, t->n); /* far more than a pipe holds: parks, resumes */
  struct iovec iov[3] = {{buf, t->n / 4}, {buf + t->n / 4, t->n / 4}, {buf + t->n / 2, t->n / 2}};
  t->wrotev = writev(t->p[1], iov, 3);
  free(buf);
  close(t->p[1]);
}

static void bulk_reader(void *p) {
  struct bulk_test *t = p;
  char chunk[4096];
  ssize_t r;
  t->pattern_ok = 1;
  while ((r = read(t->p[0], chunk, sizeof chunk)) > 0) {
    for (ssize_t k = 0; k < r; k++)
      if (chunk[k] != (char)(((t->got + (size_t)k) % t->n) * 7)) t->pattern_ok = 0;
    t->got += (size_t)r;
  }
}

static void dontwait(void *p) {
  struct bulk_test *t = p;
  int sv[2];
  char c;
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  t->dontwait_r = recv(sv[0], &c, 1, MSG_DONTWAIT); /* must not park */
  t->dontwait_errno = errno;
  close(sv[0]);
  close(sv[1]);
}

Test(green_hooks, blocking_writes_complete_and_dontwait_does_not_park) {
  cb_green_sched *s = new_sched();
  struct bulk_test t = {.n = 1 << 20};
  cr_assert_eq(pipe(t.p), 0);
  cr_assert_eq(cb_green_spawn(s, bulk_reader, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, bulk_writer, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, dontwait, &t, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(t.wrote, (ssize_t)t.n);
  cr_expect_eq(t.wrotev, (ssize_t)t.n);
  cr_expect_eq(t.got, 2 * t.n);
  cr_expect(t.pattern_ok);
  cr_expect_eq(t.dontwait_r, -1);
  cr_expect_eq(t.dontwait_errno, EAGAIN);
  close(t.p[0]);
  cb_green_sched_free(s);
}

/* send/recv on sockets: a blocking socket moves everything (parking on the way) and
 * stays blocking; a non-blocking one gets what the kernel gives at once. */
struct sock_bulk {
  int sv[2];
  size_t n;
  ssize_t sent, got, nb_sent;
  int nb_errno, flags_after, pattern_ok;
};

static void sock_sender(void *p) {
  struct sock_bulk *t = p;
  char *buf = malloc(t->n);
  for (size_t i = 0; i < t->n; i++) buf[i] = (char)(i * 13);
  t->sent = send(t->sv[0], buf, t->n, 0); /* far more than the socket buffers hold */
  t->flags_after = fcntl(t->sv[0], F_GETFL);
  free(buf);
}

static void sock_receiver(void *p) {
  struct sock_bulk *t = p;
  char *buf = malloc(t->n);
  t->got = recv(t->sv[1], buf, t->n, MSG_WAITALL); /* parks until all of it came */
  t->pattern_ok = 1;
  for (size_t i = 0; t->got > 0 && i < (size_t)t->got; i++)
    if (buf[i] != (char)(i * 13)) t->pattern_ok = 0;
  free(buf);
}

static void nonblocking_sender(void *p) {
  struct sock_bulk *t = p;
  int sv[2];
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  char *buf = calloc(1, t->n);
  ssize_t first = send(sv[0], buf, t->n, 0); /* partial: the buffers fill */
  t->nb_sent = send(sv[0], buf, t->n, 0);   /* full: EAGAIN, no park */
  t->nb_errno = errno;
  cr_expect(first > 0 && (size_t)first < t->n, "first non-blocking send: %zd", first);
  free(buf);
  close(sv[0]);
  close(sv[1]);
}

Test(green_hooks, socket_send_recv_block_or_not_as_the_fd_says) {
  cb_green_sched *s = new_sched();
  struct sock_bulk t = {.n = 4 << 20};
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, t.sv), 0);
  cr_assert_eq(cb_green_spawn(s, sock_receiver, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, sock_sender, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, nonblocking_sender, &t, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(t.sent, (ssize_t)t.n);
  cr_expect_eq(t.got, (ssize_t)t.n);
  cr_expect(t.pattern_ok);
  cr_expect(t.flags_after >= 0 && !(t.flags_after & O_NONBLOCK), "the blocking socket was left non-blocking");
  cr_expect_eq(t.nb_sent, -1);
  cr_expect_eq(t.nb_errno, EAGAIN);
  close(t.sv[0]);
  close(t.sv[1]);
  cb_green_sched_free(s);
}

struct due_test {
  int sv[2];
  ssize_t n;
};

static void late_sleeper(void *p) {
  struct due_test *t = p;
  usleep(1000);
  cr_assert_eq(write(t->sv[1], "z", 1), 1);
}

static void busy_then_read(void *p) {
  struct due_test *t = p;
  int64_t end = now_ns() + 20000000;
  while (now_ns() < end) {
  } /* the sleeper's timer falls due meanwhile */
  char c;
  t->n = read(t->sv[0], &c, 1); /* everyone parked: only the due timer can help */
}

/* libuv's UV_RUN_ONCE runs due timers before it polls, then would block in epoll with
 * the sleeper ready and nobody to write the socket: the scheduler must not hang. */
Test(green_hooks, timer_due_while_everyone_blocks_on_io, .timeout = 10) {
  cb_green_sched *s = new_sched();
  struct due_test t = {0};
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, t.sv), 0);
  cr_assert_eq(cb_green_spawn(s, busy_then_read, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, late_sleeper, &t, NULL), 0); /* runs first, parks 1 ms */
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(t.n, 1);
  close(t.sv[0]);
  close(t.sv[1]);
  cb_green_sched_free(s);
}

struct cancel_test {
  int pfd[2];
  int polled;
  cb_green_chan *never;
};

static void poll_then_wait_forever(void *p) {
  struct cancel_test *t = p;
  struct pollfd pf = {.fd = t->pfd[0], .events = POLLIN};
  t->polled = poll(&pf, 1, 60000); /* the writer answers long before the timeout */
  int v;
  cb_green_chan_recv(t->never, &v);
}

static void pipe_writer(void *p) {
  struct cancel_test *t = p;
  cr_assert_eq(write(t->pfd[1], "x", 1), 1);
}

/* A timeout that IO made moot leaves the scheduler's timer queue: it must neither wake
 * anyone later nor keep a deadlocked scheduler waiting for it (60 s here). */
Test(green_hooks, cancelled_timeout_does_not_hide_a_deadlock, .timeout = 10) {
  cb_green_sched *s = new_sched();
  struct cancel_test t = {0};
  cr_assert_eq(pipe(t.pfd), 0);
  cr_assert_eq(cb_green_chan_new(sizeof(int), 0, &t.never), 0);
  cr_assert_eq(cb_green_spawn(s, pipe_writer, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, poll_then_wait_forever, &t, NULL), 0); /* runs first */
  cr_expect_eq(cb_green_sched_run(s), -EDEADLK);
  cr_expect_eq(t.polled, 1);
  cr_assert_eq(cb_green_chan_close(t.never), 0);
  cb_green_chan_free(t.never);
  cb_green_sched_free(s);
  close(t.pfd[0]);
  close(t.pfd[1]);
}

/* Many green threads woken by IO in one poll each run before the scheduler polls
 * again: their fds (still unread, epoll being level-triggered) are not reported
 * over and over, so the events stay about one per wake-up, not N²/64. */
enum { WAKE_N = 1000 };

/* Raises the soft descriptor limit to `need` if the hard one allows, else skips the test. */
static void need_descriptors(rlim_t need) {
  struct rlimit rl;
  cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_cur < need) {
    rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur < need) cr_skip_test("needs %ju descriptors, the limit is %ju", (uintmax_t)need, (uintmax_t)rl.rlim_cur);
}

struct mass_wake {
  int sv[WAKE_N][2];
  int got;
};

static void mass_reader(void *p) {
  struct mass_wake *m = p;
  int k = m->got++; /* M:1: readers start one after another, in spawn order */
  char c;
  cr_assert_eq(read(m->sv[k][0], &c, 1), 1);
}

static void mass_writer(void *p) {
  struct mass_wake *m = p;
  cb_green_yield(); /* after every reader has parked */
  for (int k = 0; k < WAKE_N; k++) cr_assert_eq(write(m->sv[k][1], "x", 1), 1);
}

Test(green_hooks, a_thousand_io_wakeups_cost_about_a_thousand_events) {
  need_descriptors(3 * WAKE_N);
  static struct mass_wake m;
  memset(&m, 0, sizeof m);
  for (int k = 0; k < WAKE_N; k++) cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, m.sv[k]), 0);
  cb_green_sched *s = new_sched();
  cr_assert_eq(cb_green_spawn(s, mass_writer, &m, NULL), 0);
  for (int k = 0; k < WAKE_N; k++) cr_assert_eq(cb_green_spawn(s, mass_reader, &m, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cb_green_stats st;
  cb_green_sched_stats(s, &st);
  cr_expect_geq(st.io_events, WAKE_N, "only %ju events for %d wake-ups", (uintmax_t)st.io_events, WAKE_N);
  cr_expect_leq(st.io_events, 2 * WAKE_N, "%ju events for %d wake-ups", (uintmax_t)st.io_events, WAKE_N);
  cb_green_sched_free(s);
  for (int k = 0; k < WAKE_N; k++) close(m.sv[k][0]), close(m.sv[k][1]);
}

/* Lazy registration (io.c): a wait that is over before the scheduler would block is
 * noticed by the main context's check of pending fds, without registering the fd
 * with libuv; one that outlasts many checks is registered and still woken. */
struct lazy_wait {
  int sv[2];
  int yields;   /* the writer's before it writes; < 0: until the fd is registered */
  char got;
  int woken;
};

static void lazy_reader(void *p) {
  struct lazy_wait *t = p;
  cr_assert_eq(read(t->sv[0], &t->got, 1), 1); /* blocking socket: parks */
  t->woken = 1;
}

static uint64_t registrations(void) {
  cb_green_stats st;
  cb_green_sched_stats(cb_green_current_sched(), &st);
  return st.io_registrations;
}

/* Yields t->yields times, or (yields < 0) until the reader's fd is registered or
 * 10 s have passed (checks are paced by their cost, not by yields: under valgrind
 * a yield is slow and a check slower), then writes. */
static void lazy_writer(void *p) {
  struct lazy_wait *t = p;
  int64_t give_up = now_ns() + 10 * 1000000000LL;
  for (int i = 0; t->yields < 0 ? registrations() == 0 && now_ns() < give_up : i < t->yields; i++) {
    cr_assert_eq(t->woken, 0);
    cb_green_yield(); /* busy: the scheduler never blocks */
  }
  cr_assert_eq(write(t->sv[1], "z", 1), 1);
}

static cb_green_stats run_lazy_wait(int yields) {
  struct lazy_wait t = {.yields = yields};
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, t.sv), 0);
  cb_green_sched *s = new_sched();
  cr_assert_eq(cb_green_spawn(s, lazy_writer, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, lazy_reader, &t, NULL), 0); /* runs first, parks */
  cr_assert_eq(cb_green_sched_run(s), 0);
  cb_green_stats st;
  cb_green_sched_stats(s, &st);
  cb_green_sched_free(s);
  cr_expect_eq(t.woken, 1);
  cr_expect_eq(t.got, 'z');
  close(t.sv[0]);
  close(t.sv[1]);
  return st;
}

Test(green_hooks, a_short_wait_on_a_busy_scheduler_registers_nothing) {
  cb_green_stats st = run_lazy_wait(300); /* a few polls of the main context */
  cr_expect_eq(st.io_registrations, 0, "%ju registrations", (uintmax_t)st.io_registrations);
  cr_expect_geq(st.io_events, 1);
}

Test(green_hooks, a_long_wait_on_a_busy_scheduler_is_registered_and_woken) {
  cb_green_stats st = run_lazy_wait(-1); /* busy until the fd is registered */
  cr_expect_eq(st.io_registrations, 1, "%ju registrations", (uintmax_t)st.io_registrations);
}

/* More parked fds than the pending list holds (4,096): the oldest are registered
 * at once, and every reader is still woken. */
enum { CAP_N = 4200 };

struct cap_wake {
  int (*sv)[2];
  int got;  /* readers started */
  int done; /* readers that read their byte */
};

static void cap_writer(void *p) {
  struct cap_wake *m = p;
  cb_green_yield(); /* after every reader has parked */
  for (int k = 0; k < CAP_N; k++) cr_assert_eq(write(m->sv[k][1], "x", 1), 1);
}

static void cap_reader(void *p) {
  struct cap_wake *m = p;
  int k = m->got++;
  char c;
  cr_assert_eq(read(m->sv[k][0], &c, 1), 1);
  m->done++;
}

Test(green_hooks, more_pending_fds_than_the_cap_are_all_woken) {
  need_descriptors(2 * CAP_N + 64);
  struct cap_wake m = {.sv = calloc(CAP_N, sizeof *m.sv)};
  cr_assert_not_null(m.sv);
  for (int k = 0; k < CAP_N; k++) cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, m.sv[k]), 0);
  cb_green_sched *s = new_sched();
  cr_assert_eq(cb_green_spawn(s, cap_writer, &m, NULL), 0);
  for (int k = 0; k < CAP_N; k++) cr_assert_eq(cb_green_spawn(s, cap_reader, &m, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cb_green_stats st;
  cb_green_sched_stats(s, &st);
  cb_green_sched_free(s);
  cr_expect_eq(m.done, CAP_N);
  /* the readers park one after another with the writer behind them: past the cap,
   * each new wait registers the oldest pending fd */
  cr_expect_geq(st.io_registrations, CAP_N - 4096, "%ju registrations", (uintmax_t)st.io_registrations);
  cr_expect_lt(st.io_registrations, CAP_N, "%ju registrations", (uintmax_t)st.io_registrations);
  for (int k = 0; k < CAP_N; k++) close(m.sv[k][0]), close(m.sv[k][1]);
  free(m.sv);
}

/* ---- two wake-ups of one parked green thread in one scheduler turn ----
 *
 * A green thread parked in poll() on two fds, or on an fd with a timeout, can be made
 * ready twice before it runs: once per ready fd, or by its fd and its timer. It must
 * be queued, and resumed, once (sched.c: cb__green_ready ignores a thread that is not
 * parked). Each case below makes both wake-ups land before the thread runs again,
 * then parks the thread once more (on a channel nobody has sent to yet): a second,
 * stale resume would return from that wait early. The io_registrations figure shows
 * which way the wake-ups came (0: the main context's check of pending fds; > 0: libuv). */
enum { DW_PENDING_PENDING, DW_EPOLL_EPOLL, DW_PENDING_TIMER, DW_TIMER_EPOLL };

struct double_wake {
  int kind;
  int p[2][2];
  int nfds, timeout_ms;
  int64_t deadline_ns; /* the waiter's poll deadline, for the writer (timer cases) */
  cb_green_chan *ch;
  int polled, after_poll;
  short revents[2];
  int sent, recv_rc, got, sent_before_recv, after_recv;
};

static void dw_late_sender(void *p) {
  struct double_wake *t = p;
  for (int i = 0; i < 3; i++) cb_green_yield(); /* a stale resume of the waiter shows now */
  t->sent = 1;
  int v = 42;
  cr_assert_eq(cb_green_chan_send(t->ch, &v), 0);
}

static void dw_waiter(void *p) {
  struct double_wake *t = p;
  struct pollfd pf[2] = {{.fd = t->p[0][0], .events = POLLIN}, {.fd = t->p[1][0], .events = POLLIN}};
  t->deadline_ns = t->timeout_ms < 0 ? 0 : now_ns() + (int64_t)t->timeout_ms * 1000000;
  t->polled = poll(pf, (nfds_t)t->nfds, t->timeout_ms);
  t->after_poll++;
  for (int i = 0; i < t->nfds; i++) t->revents[i] = pf[i].revents;
  cr_assert_eq(cb_green_spawn(cb_green_current_sched(), dw_late_sender, t, NULL), 0);
  int v = 0;
  t->recv_rc = cb_green_chan_recv(t->ch, &v); /* parks again, until the sender sends */
  t->got = v;
  t->sent_before_recv = t->sent;
  t->after_recv++;
}

static void dw_writer(void *p) {
  struct double_wake *t = p;
  switch (t->kind) {
    case DW_PENDING_PENDING: break; /* at once: the fds are still pending */
    case DW_EPOLL_EPOLL: usleep(20000); break; /* the scheduler blocks: fds go to libuv */
    case DW_PENDING_TIMER: /* busy past the waiter's deadline: its timer is due too */
      while (now_ns() < t->deadline_ns + 5000000) {
      }
      break;
    case DW_TIMER_EPOLL: /* the fd goes to libuv while this sleeps; then busy past the deadline */
      usleep(10000);
      while (now_ns() < t->deadline_ns + 5000000) {
      }
      break;
  }
  for (int i = 0; i < t->nfds; i++) cr_assert_eq(write(t->p[i][1], "w", 1), 1);
}

/* Runs one case; returns 0 when the waiter timed out before the write (the machine
 * stalled for longer than the timeout: the case did not happen, try again). */
static int run_double_wake(int kind, int nfds, int timeout_ms, uint64_t registrations) {
  struct double_wake t = {.kind = kind, .nfds = nfds, .timeout_ms = timeout_ms};
  for (int i = 0; i < 2; i++) cr_assert_eq(pipe(t.p[i]), 0);
  cr_assert_eq(cb_green_chan_new(sizeof(int), 0, &t.ch), 0);
  cb_green_sched *s = new_sched();
  cr_assert_eq(cb_green_spawn(s, dw_writer, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, dw_waiter, &t, NULL), 0); /* runs first, parks in poll */
  cr_assert_eq(cb_green_sched_run(s), 0);
  cb_green_stats st;
  cb_green_sched_stats(s, &st);
  cb_green_sched_free(s);
  cb_green_chan_free(t.ch);
  for (int i = 0; i < 2; i++) close(t.p[i][0]), close(t.p[i][1]);
  if (kind == DW_TIMER_EPOLL && t.polled == 0) return 0;
  cr_expect_eq(t.polled, nfds, "poll returned %d", t.polled);
  for (int i = 0; i < nfds; i++) cr_expect_eq(t.revents[i], POLLIN, "fd %d: revents %#x", i, t.revents[i]);
  cr_expect_eq(t.after_poll, 1, "poll returned %d times", t.after_poll);
  cr_expect_eq(t.recv_rc, 0);
  cr_expect(t.sent_before_recv, "the waiter's next wait ended before anything was sent (resumed twice)");
  cr_expect_eq(t.got, 42);
  cr_expect_eq(t.after_recv, 1);
  cr_expect_eq(st.created, 3);
  cr_expect_eq(st.io_registrations, registrations, "%ju registrations: the wake-ups came another way",
               (uintmax_t)st.io_registrations);
  return 1;
}

Test(green_hooks, two_fds_ready_in_one_check_wake_the_waiter_once, .timeout = 10) {
  run_double_wake(DW_PENDING_PENDING, 2, -1, 0);
}

Test(green_hooks, two_fds_ready_in_one_libuv_poll_wake_the_waiter_once, .timeout = 10) {
  run_double_wake(DW_EPOLL_EPOLL, 2, -1, 2);
}

Test(green_hooks, fd_ready_and_timeout_due_together_wake_the_waiter_once, .timeout = 10) {
  run_double_wake(DW_PENDING_TIMER, 1, 20, 0);
}

Test(green_hooks, timeout_and_fd_in_one_libuv_iteration_wake_the_waiter_once, .timeout = 30) {
  /* the writer must wake from its 10 ms sleep before the waiter's 200 ms timeout */
  int happened = 0;
  for (int attempt = 0; attempt < 5 && !happened; attempt++) happened = run_double_wake(DW_TIMER_EPOLL, 1, 200, 1);
  cr_expect(happened, "the writer never woke before the waiter's timeout in 5 attempts");
}
