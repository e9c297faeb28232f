/* test_gevent_socket.c — gevent's socket behaviours (test__socket.py TestTCP,
 * TestCreateConnection, TestSocket, TestFunctions; test__socket_timeout.py;
 * test__socket_close.py; test__hub.py TestCloseSocketWhilePolling) ported to the
 * hooked calls of green threads (runtimes/green/CONFORMANCE.md). gevent's
 * sock.settimeout(t) is SO_RCVTIMEO/SO_SNDTIMEO here, its socket.timeout the kernel's
 * EAGAIN (EINPROGRESS for connect), sendall a blocking send/write. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "tests/helpers/gevent_port.h"

TestSuite(gevent_socket, .timeout = 60);

static int connect_to(const struct sockaddr_in *a) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert_geq(fd, 0);
  cr_assert_eq(connect(fd, (const struct sockaddr *)a, sizeof *a), 0, "connect: %s", strerror(errno));
  return fd;
}

static void set_timeout(int fd, int name, int ms) {
  struct timeval tv = gp_tv_ms(ms);
  cr_assert_eq(setsockopt(fd, SOL_SOCKET, name, &tv, sizeof tv), 0);
}

/* ---- timeouts on receive ---- */
struct rcv {
  gp_bystander *b;
  int fd, ms, use_read, set_inside;
  ssize_t r;
  int err;
  int64_t took;
};
static void rcv_fn(void *p) {
  struct rcv *t = p;
  if (t->set_inside) set_timeout(t->fd, SO_RCVTIMEO, t->ms);
  char buf[64];
  int64_t t0 = gp_now_ns();
  t->b->in_call = 1;
  errno = 0;
  t->r = t->use_read ? read(t->fd, buf, sizeof buf) : recv(t->fd, buf, sizeof buf, 0);
  t->err = errno;
  t->b->in_call = 0;
  t->took = gp_now_ns() - t0;
  t->b->done = 1;
}
static void recv_timeout_case(int ms, int use_read, int set_inside) {
  struct sockaddr_in a;
  int lfd = gp_listener(&a, 8);
  int fd = connect_to(&a);
  int peer = accept(lfd, NULL, NULL); /* keeps the connection open: no EOF */
  cr_assert_geq(peer, 0);
  if (!set_inside) set_timeout(fd, SO_RCVTIMEO, ms); /* before any scheduler saw fd */
  gp_bystander b = {0};
  struct rcv t = {.b = &b, .fd = fd, .ms = ms, .use_read = use_read, .set_inside = set_inside};
  gp_run(rcv_fn, &t, &b);
  cr_expect_eq(t.r, -1);
  cr_expect(t.err == EAGAIN || t.err == EWOULDBLOCK, "errno %s", strerror(t.err));
  cr_expect_geq(t.took, (int64_t)ms * 1000000, "returned after %lld ns", (long long)t.took);
  cr_expect_gt(b.turns_during, 0, "the parked recv blocked the scheduler");
  cr_expect_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0); /* the caller's blocking mode is back */
  close(peer), close(fd), close(lfd);
}
/* test__socket_timeout.py Test.test: sock.settimeout(0.1) on a connected socket, then
 * recv raises timeout. Set here from the main thread before the scheduler ever saw
 * the fd (the hooks ask the kernel at the first park). */
Test(gevent_socket, test__socket_timeout_Test_test) { recv_timeout_case(100, 0, 0); }
/* test__socket.py TestTCP.test_recv_timeout: settimeout(1) then recv: timeout after
 * about 1 s (set inside the green thread; 0.3 s here) */
Test(gevent_socket, TestTCP_test_recv_timeout) { recv_timeout_case(300, 0, 1); }
/* the same through read(2): the kernel applies SO_RCVTIMEO to read on a socket */
Test(gevent_socket, TestTCP_test_recv_timeout_read) { recv_timeout_case(100, 1, 1); }

/* settimeout(None) after a timeout: SO_RCVTIMEO 0 turns it off; the recv waits for
 * the data however long it takes */
struct rcv_none {
  int fd, peer;
  ssize_t r;
};
static void none_reader(void *p) {
  struct rcv_none *t = p;
  set_timeout(t->fd, SO_RCVTIMEO, 20);
  set_timeout(t->fd, SO_RCVTIMEO, 0);
  char c;
  t->r = recv(t->fd, &c, 1, 0);
}
static void late_writer(void *p) {
  struct rcv_none *t = p;
  usleep(100000);
  cr_assert_eq(send(t->peer, "x", 1, 0), 1);
}
Test(gevent_socket, TestTCP_settimeout_none_waits) {
  struct sockaddr_in a;
  int lfd = gp_listener(&a, 8);
  struct rcv_none t = {.fd = connect_to(&a)};
  t.peer = accept(lfd, NULL, NULL);
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  cr_assert_eq(cb_green_spawn(s, late_writer, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, none_reader, &t, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(t.r, 1);
  cb_green_sched_free(s);
  close(t.peer), close(t.fd), close(lfd);
}

/* ---- test__socket.py TestTCP.test_sendall_timeout: settimeout(0.1) and sendall of
 * more than the socket buffers hold to a peer that never reads: timeout. The
 * kernel's blocking send with SO_SNDTIMEO returns the bytes it moved (or EAGAIN if
 * none); so does the hook. ---- */
struct snd {
  gp_bystander *b;
  int fd;
  ssize_t r;
  int err;
  int64_t took;
  size_t len;
};
static void snd_fn(void *p) {
  struct snd *t = p;
  set_timeout(t->fd, SO_SNDTIMEO, 100);
  char *big = calloc(1, t->len);
  cr_assert_not_null(big);
  int64_t t0 = gp_now_ns();
  t->b->in_call = 1;
  errno = 0;
  t->r = send(t->fd, big, t->len, 0);
  t->err = errno;
  t->b->in_call = 0;
  t->took = gp_now_ns() - t0;
  t->b->done = 1;
  free(big);
}
Test(gevent_socket, TestTCP_test_sendall_timeout) {
  struct sockaddr_in a;
  int lfd = gp_listener(&a, 8);
  int fd = connect_to(&a);
  int peer = accept(lfd, NULL, NULL);
  gp_bystander b = {0};
  struct snd t = {.b = &b, .fd = fd, .len = 64u << 20};
  gp_run(snd_fn, &t, &b);
  cr_expect((t.r > 0 && (size_t)t.r < t.len) || (t.r == -1 && t.err == EAGAIN), "send: %zd (%s)", t.r,
            strerror(t.err));
  cr_expect_geq(t.took, 100000000);
  cr_expect_gt(b.turns_during, 0);
  close(peer), close(fd), close(lfd);
}

/* ---- test__socket.py TestTCP._test_sendall: the long data ("0, 1, ..., 19999") sent
 * with one blocking call arrives whole at a reader in another green thread ---- */
struct sendall {
  int lfd;
  struct sockaddr_in a;
  char *data, *got;
  size_t len, got_len;
  int how; /* 0 send, 1 write, 2 sendmsg-free writev */
  int nonblocking;
  size_t sent;
};
static void sendall_reader(void *p) {
  struct sendall *t = p;
  int c = accept(t->lfd, NULL, NULL);
  cr_assert_geq(c, 0);
  for (;;) {
    ssize_t n = recv(c, t->got + t->got_len, t->len + 1 - t->got_len, 0);
    cr_assert_geq(n, 0, "recv: %s", strerror(errno));
    if (n == 0) break;
    t->got_len += (size_t)n;
  }
  close(c);
}
static void sendall_writer(void *p) {
  struct sendall *t = p;
  int fd = connect_to(&t->a);
  if (t->nonblocking) cr_assert_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
  ssize_t r;
  if (t->how == 0) r = send(fd, t->data, t->len, 0);
  else if (t->how == 1) r = write(fd, t->data, t->len);
  else {
    struct iovec iov[2] = {{t->data, t->len / 2}, {t->data + t->len / 2, t->len - t->len / 2}};
    r = writev(fd, iov, 2);
  }
  cr_assert_geq(r, 0, "send: %s", strerror(errno));
  t->sent = (size_t)r;
  shutdown(fd, SHUT_RDWR);
  close(fd);
}
static void sendall_case(const char *data, size_t len, int how, int nonblocking) {
  struct sendall t = {.lfd = -1, .len = len, .how = how, .nonblocking = nonblocking};
  t.lfd = gp_listener(&t.a, 8);
  t.data = (char *)data;
  t.got = malloc(len + 1);
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  cr_assert_eq(cb_green_spawn(s, sendall_reader, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, sendall_writer, &t, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(t.sent, len);
  cr_expect_eq(t.got_len, len);
  cr_expect(len == 0 || memcmp(t.got, data, len) == 0);
  cb_green_sched_free(s);
  free(t.got);
  close(t.lfd);
}
static char *long_data(size_t *len) {
  size_t cap = 200000, n = 0;
  char *d = malloc(cap);
  for (int i = 0; i < 20000; i++) n += (size_t)snprintf(d + n, cap - n, i ? ", %d" : "%d", i);
  *len = n;
  return d;
}
Test(gevent_socket, TestTCP_test_sendall_str) {
  size_t n;
  char *d = long_data(&n);
  sendall_case(d, n, 0, 0);
  free(d);
}
/* test_sendall_array: the same bytes through another buffer shape (write, writev) */
Test(gevent_socket, TestTCP_test_sendall_array) {
  size_t n;
  char *d = long_data(&n);
  sendall_case(d, n, 1, 0);
  sendall_case(d, n, 2, 0);
  free(d);
}
Test(gevent_socket, TestTCP_test_sendall_empty) { sendall_case("", 0, 0, 0); }
/* Issue 719: sendall of b'' with a timeout set */
struct empty_to {
  ssize_t r;
};
static void empty_with_timeout(void *p) {
  struct empty_to *t = p;
  int sv[2];
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  set_timeout(sv[0], SO_SNDTIMEO, 10000);
  t->r = send(sv[0], "", 0, 0);
  close(sv[0]), close(sv[1]);
}
Test(gevent_socket, TestTCP_test_sendall_empty_with_timeout) {
  struct empty_to t = {-2};
  gp_run(empty_with_timeout, &t, NULL);
  cr_expect_eq(t.r, 0);
}
/* gunicorn 1282: on a non-blocking socket the first attempt is made (no EAGAIN
 * before trying) */
Test(gevent_socket, TestTCP_test_sendall_nonblocking) { sendall_case("hi\n", 3, 0, 1); }
/* Issue 719: send(b'') returns 0 */
Test(gevent_socket, TestTCP_test_empty_send) { sendall_case("", 0, 0, 0); }

/* ---- test__socket.py TestTCP.test_fullduplex: one socket read in one green thread
 * and written in another at once; neither hangs ---- */
#define FD_N 100000
struct duplex {
  int lfd, remote, client;
  struct sockaddr_in a;
  char got[16];
  size_t client_read;
  int sender_done;
};
static void dx_sender(void *p) {
  struct duplex *t = p;
  char *buf = malloc(FD_N);
  memset(buf, 't', FD_N);
  cr_assert_eq(send(t->remote, buf, FD_N, 0), FD_N);
  free(buf);
  t->sender_done = 1;
}
static void dx_server(void *p) {
  struct duplex *t = p;
  t->remote = accept(t->lfd, NULL, NULL);
  cr_assert_geq(t->remote, 0);
  cb_green *sender;
  cr_assert_eq(cb_green_spawn(cb_green_current_sched(), dx_sender, t, &sender), 0);
  cr_assert_eq(recv(t->remote, t->got, 11, MSG_WAITALL), 11);
  cr_assert_eq(cb_green_join(sender), 0);
}
static void dx_client_reader(void *p) {
  struct duplex *t = p;
  char buf[8192];
  while (t->client_read < FD_N) {
    ssize_t n = read(t->client, buf, sizeof buf);
    cr_assert_gt(n, 0);
    t->client_read += (size_t)n;
  }
}
static void dx_client(void *p) {
  struct duplex *t = p;
  t->client = connect_to(&t->a);
  cb_green *reader;
  cr_assert_eq(cb_green_spawn(cb_green_current_sched(), dx_client_reader, t, &reader), 0);
  usleep(100000);
  cr_assert_eq(send(t->client, "hello world", 11, 0), 11);
  cr_assert_eq(cb_green_join(reader), 0);
}
Test(gevent_socket, TestTCP_test_fullduplex) {
  struct duplex t = {0};
  t.lfd = gp_listener(&t.a, 8);
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  cr_assert_eq(cb_green_spawn(s, dx_server, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, dx_client, &t, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(memcmp(t.got, "hello world", 11), 0);
  cr_expect_eq(t.client_read, (size_t)FD_N);
  cr_expect(t.sender_done);
  cb_green_sched_free(s);
  close(t.remote), close(t.client), close(t.lfd);
}

/* ---- test__socket.py TestTCP.test_makefile_timeout: readline on the socket's file
 * object times out. Through stdio: fgets ends with EAGAIN after SO_RCVTIMEO. (glibc's
 * stdio reads with its internal read, which no hook sees: the kernel's own timeout
 * ends it, and the scheduler is blocked meanwhile; CONFORMANCE.md D-stdio.) ---- */
struct mf {
  int fd;
  char *line;
  int err;
};
static void makefile_timeout(void *p) {
  struct mf *t = p;
  set_timeout(t->fd, SO_RCVTIMEO, 100);
  FILE *f = fdopen(dup(t->fd), "r");
  cr_assert_not_null(f);
  char buf[64];
  errno = 0;
  t->line = fgets(buf, sizeof buf, f);
  t->err = errno;
  fclose(f);
}
Test(gevent_socket, TestTCP_test_makefile_timeout) {
  struct sockaddr_in a;
  int lfd = gp_listener(&a, 8);
  struct mf t = {.fd = connect_to(&a)};
  int peer = accept(lfd, NULL, NULL);
  gp_run(makefile_timeout, &t, NULL);
  cr_expect_null(t.line);
  cr_expect_eq(t.err, EAGAIN);
  close(peer), close(t.fd), close(lfd);
}

/* ---- test__socket.py TestTCP.test_connect_ex_nonblocking_bad_connection: a
 * non-blocking connect to a port nobody listens on reports an errno, at once ---- */
struct cx {
  struct sockaddr_in a;
  int r, err, nonblocking, src_port;
  int64_t took;
};
static void cx_fn(void *p) {
  struct cx *t = p;
  int fd = socket(AF_INET, SOCK_STREAM | (t->nonblocking ? SOCK_NONBLOCK : 0), 0);
  cr_assert_geq(fd, 0);
  if (t->src_port) {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons((uint16_t)t->src_port)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&src, sizeof src), 0, "bind: %s", strerror(errno));
  }
  int64_t t0 = gp_now_ns();
  errno = 0;
  t->r = connect(fd, (struct sockaddr *)&t->a, sizeof t->a);
  t->err = errno;
  t->took = gp_now_ns() - t0;
  close(fd);
}
Test(gevent_socket, TestTCP_test_connect_ex_nonblocking_bad_connection) {
  struct cx t = {.a = gp_unused_port(), .nonblocking = 1};
  gp_run(cx_fn, &t, NULL);
  cr_expect_eq(t.r, -1);
  cr_expect(t.err == EINPROGRESS || t.err == ECONNREFUSED, "errno %s", strerror(t.err));
}
/* ---- TestCreateConnection.test_refuses: a blocking connect to an unused port fails
 * with ECONNREFUSED ---- */
Test(gevent_socket, TestCreateConnection_test_refuses) {
  struct cx t = {.a = gp_unused_port()};
  gp_run(cx_fn, &t, NULL);
  cr_expect_eq(t.r, -1);
  cr_expect_eq(t.err, ECONNREFUSED, "errno %s", strerror(t.err));
}
/* ---- TestCreateConnection.test_refuses_from_port: the same from a bound source port ---- */
Test(gevent_socket, TestCreateConnection_test_refuses_from_port) {
  struct sockaddr_in src = gp_unused_port();
  struct cx t = {.a = gp_unused_port(), .src_port = ntohs(src.sin_port)};
  gp_run(cx_fn, &t, NULL);
  cr_expect_eq(t.r, -1);
  cr_expect(t.err == ECONNREFUSED || t.err == EADDRINUSE || t.err == EADDRNOTAVAIL, "errno %s", strerror(t.err));
}

/* A listener whose accept queue is full: a further connect stays in progress (its SYN
 * is dropped), as towards an unresponsive host. */
static int full_listener(struct sockaddr_in *a, int *fillers, int nfill) {
  int lfd = gp_listener(a, 0);
  for (int i = 0; i < nfill; i++) {
    fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(fillers[i], (struct sockaddr *)a, sizeof *a);
  }
  usleep(50000); /* the handshakes the queue takes are done */
  return lfd;
}

/* ---- socket.settimeout applies to connect (gevent's connect waits at most the
 * timeout): SO_SNDTIMEO bounds a blocking connect, which then fails with EINPROGRESS
 * as the kernel's does ---- */
struct cto {
  gp_bystander *b;
  struct sockaddr_in a;
  int r, err;
  int64_t took;
};
static void connect_timeout_fn(void *p) {
  struct cto *t = p;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  set_timeout(fd, SO_SNDTIMEO, 200);
  int64_t t0 = gp_now_ns();
  t->b->in_call = 1;
  errno = 0;
  t->r = connect(fd, (struct sockaddr *)&t->a, sizeof t->a);
  t->err = errno;
  t->b->in_call = 0;
  t->took = gp_now_ns() - t0;
  t->b->done = 1;
  close(fd);
}
Test(gevent_socket, connect_honours_the_socket_timeout) {
  int fill[4];
  struct cto t = {0};
  int lfd = full_listener(&t.a, fill, 4);
  /* the kernel's answer outside green threads, for comparison */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  set_timeout(fd, SO_SNDTIMEO, 100);
  errno = 0;
  int kr = connect(fd, (struct sockaddr *)&t.a, sizeof t.a), kerr = errno;
  close(fd);
  gp_bystander b = {0};
  t.b = &b;
  gp_run(connect_timeout_fn, &t, &b);
  cr_expect_eq(t.r, kr, "connect %d, the kernel's %d (%s)", t.r, kr, strerror(kerr));
  cr_expect_eq(t.err, kerr, "errno %s, the kernel's %s", strerror(t.err), strerror(kerr));
  cr_expect_eq(kr, -1, "the full listener's queue took the connection: nothing tested");
  cr_expect_geq(t.took, 200000000);
  cr_expect_gt(b.turns_during, 0);
  for (int i = 0; i < 4; i++) close(fill[i]);
  close(lfd);
}

/* ---- test__hub.py TestCloseSocketWhilePolling.test: a timer closes the socket
 * while connect is in progress: connect fails (no hang, no crash) ---- */
struct cwp {
  struct sockaddr_in a;
  int fd, r, err;
};
static void cwp_connect(void *p) {
  struct cwp *t = p;
  errno = 0;
  t->r = connect(t->fd, (struct sockaddr *)&t->a, sizeof t->a);
  t->err = errno;
}
static void cwp_closer(void *p) {
  struct cwp *t = p;
  usleep(50000);
  close(t->fd);
}
Test(gevent_socket, TestCloseSocketWhilePolling_test) {
  int fill[4];
  struct cwp t = {0};
  int lfd = full_listener(&t.a, fill, 4);
  t.fd = socket(AF_INET, SOCK_STREAM, 0);
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  cr_assert_eq(cb_green_spawn(s, cwp_closer, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, cwp_connect, &t, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(t.r, -1);
  cr_expect_eq(t.err, EBADF, "errno %s", strerror(t.err));
  cb_green_sched_free(s);
  for (int i = 0; i < 4; i++) close(fill[i]);
  close(lfd);
}

/* ---- test__socket_close.py test_recv_closed: a recv parked in one green thread
 * fails once another closes the socket ---- */
struct rc {
  int fd;
  ssize_t r;
  int err;
};
static void rc_reader(void *p) {
  struct rc *t = p;
  char buf[8];
  errno = 0;
  t->r = recv(t->fd, buf, sizeof buf, 0);
  t->err = errno;
}
static void rc_closer(void *p) {
  struct rc *t = p;
  usleep(20000);
  close(t->fd);
}
Test(gevent_socket, test__socket_close_test_recv_closed) {
  struct sockaddr_in a;
  int lfd = gp_listener(&a, 8);
  struct rc t = {.fd = connect_to(&a)};
  int peer = accept(lfd, NULL, NULL);
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  cr_assert_eq(cb_green_spawn(s, rc_closer, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, rc_reader, &t, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(t.r, -1);
  cr_expect_eq(t.err, EBADF);
  cb_green_sched_free(s);
  close(peer), close(lfd);
}

/* ---- accept on a listener with a timeout (listener.settimeout): EAGAIN after it,
 * as the kernel's accept with SO_RCVTIMEO ---- */
struct acc {
  gp_bystander *b;
  int lfd, r, err;
  int64_t took;
};
static void accept_timeout_fn(void *p) {
  struct acc *t = p;
  set_timeout(t->lfd, SO_RCVTIMEO, 100);
  int64_t t0 = gp_now_ns();
  t->b->in_call = 1;
  errno = 0;
  t->r = accept(t->lfd, NULL, NULL);
  t->err = errno;
  t->b->in_call = 0;
  t->took = gp_now_ns() - t0;
  t->b->done = 1;
}
Test(gevent_socket, accept_honours_the_socket_timeout) {
  struct sockaddr_in a;
  gp_bystander b = {0};
  struct acc t = {.b = &b, .lfd = gp_listener(&a, 8)};
  gp_run(accept_timeout_fn, &t, &b);
  cr_expect_eq(t.r, -1);
  cr_expect_eq(t.err, EAGAIN, "errno %s", strerror(t.err));
  cr_expect_geq(t.took, 100000000);
  cr_expect_gt(b.turns_during, 0);
  close(t.lfd);
}

/* ---- test__socket.py TestSocket.test_shutdown_when_closed: shutdown of a closed
 * socket is an error (EBADF), not a crash ---- */
static void shutdown_closed(void *p) {
  int *err = p;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  close(fd);
  errno = 0;
  cr_expect_eq(shutdown(fd, SHUT_RDWR), -1);
  *err = errno;
}
Test(gevent_socket, TestSocket_test_shutdown_when_closed) {
  int err = 0;
  gp_run(shutdown_closed, &err, NULL);
  cr_expect_eq(err, EBADF);
}

/* ---- test__socket.py TestFunctions.test_wait_timeout: waiting for an fd that never
 * becomes ready, with a timeout, ends with the timeout (poll: 0 after >= 10 ms) ---- */
static void wait_timeout(void *p) {
  int64_t *took = p;
  int sv[2];
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  struct pollfd pfd = {.fd = sv[0], .events = POLLIN};
  int64_t t0 = gp_now_ns();
  cr_expect_eq(poll(&pfd, 1, 10), 0);
  *took = gp_now_ns() - t0;
  close(sv[0]), close(sv[1]);
}
Test(gevent_socket, TestFunctions_test_wait_timeout) {
  int64_t took = 0;
  gp_run(wait_timeout, &took, NULL);
  cr_expect_geq(took, 10000000);
}
