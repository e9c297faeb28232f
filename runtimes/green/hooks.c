/* hooks.c — blocking calls made cooperative (gevent's monkey patching, in C).
 *
 * concbench programs link with -rdynamic, so these definitions interpose over libc's
 * for the whole process, libcurl included. Each hook asks cb__green_tls() (one TLS
 * load) whether it runs inside a green thread:
 *   no  -> the plain system call through syscall(2), exactly what libc does
 *          (errno set the same way); no state, nothing resolved at run time.
 *   yes -> on an fd the caller left in blocking mode: switch it to O_NONBLOCK for the
 *          duration of the call, try, and on EAGAIN park the green thread on libuv
 *          readiness (io.c) until the call can proceed; then restore the flags. On an
 *          fd the caller made non-blocking: the plain call (EAGAIN is the caller's to
 *          handle, e.g. libcurl, which then calls poll(), which parks).
 *          Sleeps park on a deadline of the scheduler (deadline.c).
 * close() is hooked too, so that a closed fd leaves the scheduler's epoll set.
 * SO_RCVTIMEO/SO_SNDTIMEO: setsockopt() is hooked to note them (in any thread running
 * a scheduler) beside the fd's watcher, so a parked read-type call (read, readv,
 * recv, recvfrom, accept) or write-type one (write, writev, send, sendto) ends with
 * EAGAIN (or the bytes moved so far) after that long, and a blocking connect with
 * EINPROGRESS after SO_SNDTIMEO, as the kernel's would; the note costs nothing until a
 * call parks, and close() drops it. A fd with no note (its timeout set before it
 * reached this scheduler, from another thread, or on a dup) has its timeouts asked of
 * the kernel once, at its first park (timeout_ns).
 * epoll_wait/epoll_pwait park on the epoll fd; getaddrinfo/getnameinfo run on libuv's
 * thread pool while the caller parks.
 * Limits inside green threads: signals do not interrupt a parked call (no EINTR); the
 * sigmask of ppoll/pselect/epoll_pwait is ignored; stdio's internal reads and writes
 * are not hooked (CONFORMANCE.md). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "runtimes/green/green_int.h"

/* Sets O_NONBLOCK if needed; returns the original flags, or -1 (errno set). */
static int nonblock_begin(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0 && !(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
  return fl;
}

static void nonblock_end(int fd, int fl) {
  if (!(fl & O_NONBLOCK)) {
    int e = errno;
    fcntl(fd, F_SETFL, fl);
    errno = e;
  }
}

/* Parks until fd is ready for `events` or the deadline (< 0: none) passed; -1 with
 * errno on failure (EAGAIN at the deadline, as a socket timeout reports it). */
static int wait_fd(cb_green_sched *s, int fd, int events, int64_t deadline) {
  cb__fdwait w = {.fd = fd, .events = events};
  int r = cb__io_wait(s, &w, 1, deadline);
  if (r < 0) {
    errno = r == -ETIMEDOUT ? EAGAIN : -r;
    return -1;
  }
  return 0;
}

/* The fd's socket timeout (dir 0: SO_RCVTIMEO, 1: SO_SNDTIMEO) as noted beside its
 * watcher (io.c: 0 = not known yet, CB__TMO_NONE = none). Not known (set before the
 * fd reached this scheduler, from another thread, or on a dup): asked of the kernel
 * once, with getsockopt, and noted until close(). Called only when a call is about
 * to park, so a call that proceeds at once costs nothing. */
#define CB__TMO_NONE INT64_MAX
static int64_t timeout_ns(cb_green_sched *s, int fd, int dir) {
  int64_t t = cb__io_timeout(s, fd, dir);
  if (t == 0) {
    struct timeval tv;
    socklen_t len = sizeof tv;
    t = CB__TMO_NONE; /* not a socket, or no timeout */
    if (syscall(SYS_getsockopt, fd, SOL_SOCKET, dir ? SO_SNDTIMEO : SO_RCVTIMEO, &tv, &len) == 0 &&
        (tv.tv_sec > 0 || tv.tv_usec > 0))
      t = (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
    cb__io_set_timeout(s, fd, dir, t); /* -ENOMEM: asked again next time */
  }
  return t;
}

/* The deadline of a wait that starts now on fd (-1: none). */
static int64_t timeout_deadline(cb_green_sched *s, int fd, int dir) {
  int64_t t = timeout_ns(s, fd, dir);
  return t == CB__TMO_NONE ? -1 : cb__mono_ns() + t;
}

enum op { OP_READ, OP_WRITE, OP_READV, OP_WRITEV, OP_RECVFROM, OP_SENDTO, OP_ACCEPT4 };

struct call {
  enum op op;
  int fd;
  void *buf;
  size_t len;
  int flags;
  void *addr;
  void *alen; /* socklen_t * for recvfrom/accept4, socklen_t value for sendto */
};

static long raw(const struct call *c) {
  switch (c->op) {
  case OP_READ: return syscall(SYS_read, c->fd, c->buf, c->len);
  case OP_WRITE: return syscall(SYS_write, c->fd, c->buf, c->len);
  case OP_READV: return syscall(SYS_readv, c->fd, c->buf, (int)c->len);
  case OP_WRITEV: return syscall(SYS_writev, c->fd, c->buf, (int)c->len);
  case OP_RECVFROM: return syscall(SYS_recvfrom, c->fd, c->buf, c->len, c->flags, c->addr, c->alen);
  case OP_SENDTO: return syscall(SYS_sendto, c->fd, c->buf, c->len, c->flags, c->addr, (socklen_t)(uintptr_t)c->alen);
  case OP_ACCEPT4: return syscall(SYS_accept4, c->fd, c->addr, c->alen, c->flags);
  }
  CB_CHECK(!"unknown op");
  return -1;
}

static int op_events(enum op op) {
  return op == OP_WRITE || op == OP_WRITEV || op == OP_SENDTO ? UV_WRITABLE : UV_READABLE;
}

/* After a partial transfer of n bytes, moves c past them; 0 when nothing is left.
 * Only writes and MSG_WAITALL receives continue: a blocking write(2) or send(2) on
 * a pipe or stream socket transfers everything before returning. */
static int advance(struct call *c, size_t n) {
  if (c->op == OP_WRITEV) {
    struct iovec *iov = c->buf;
    size_t cnt = c->len;
    while (cnt > 0 && n >= iov->iov_len) n -= iov->iov_len, iov++, cnt--;
    if (cnt > 0) iov->iov_base = (char *)iov->iov_base + n, iov->iov_len -= n;
    c->buf = iov;
    c->len = cnt;
    return cnt > 0;
  }
  c->buf = (char *)c->buf + n;
  c->len -= n;
  return c->len > 0;
}

static int continues(const struct call *c) {
  return c->op == OP_WRITE || c->op == OP_WRITEV || c->op == OP_SENDTO ||
         (c->op == OP_RECVFROM && (c->flags & MSG_WAITALL));
}

/* A call the caller expects to block, on an fd now non-blocking: park on EAGAIN,
 * go on after partial transfers that must complete, until the fd's SO_RCVTIMEO /
 * SO_SNDTIMEO (from its first park on). Returns bytes moved, or -1. */
static long blocking(cb_green_sched *s, struct call *c) {
  long done = 0;
  int64_t deadline = -2; /* not looked up yet */
  for (;;) {
    long r = raw(c);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      int events = op_events(c->op);
      if (deadline == -2) deadline = timeout_deadline(s, c->fd, events == UV_WRITABLE);
      if (wait_fd(s, c->fd, events, deadline) == 0) continue;
      return done ? done : -1;
    }
    if (r < 0) return done ? done : -1;
    done += r;
    if (r == 0 || !continues(c) || !advance(c, (size_t)r)) return done;
  }
}

/* recv/send family: MSG_DONTWAIT makes this one call non-blocking without touching
 * the fd's flags, so the usual case, a call that can proceed at once, costs no fcntl.
 * Only a call that could not complete asks the fd's mode: a non-blocking fd gets that
 * result as it is, a blocking one parks and goes on like the blocking call. */
static long socket_call(cb_green_sched *s, struct call *c) {
  size_t want = c->len;
  c->flags |= MSG_DONTWAIT;
  long r = raw(c);
  if (r >= 0 && (r == 0 || !continues(c) || (size_t)r == want)) return r;
  if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
  int e = errno;
  int fl = fcntl(c->fd, F_GETFL);
  if (fl < 0) return -1;
  errno = e;
  if (fl & O_NONBLOCK) return r;
  if (r > 0) advance(c, (size_t)r);
  long more = blocking(s, c);
  if (r <= 0) return more;
  return more < 0 ? r : r + more;
}

/* Inside a green thread: park-and-retry (each hook has already sent calls made
 * outside green threads straight to the system call). */
static long call(struct call *c) {
  cb_green_sched *s = cb__green_tls();
  if (c->op == OP_RECVFROM || c->op == OP_SENDTO) {
    /* the caller asked for non-blocking semantics: EAGAIN is its to handle */
    if (c->flags & MSG_DONTWAIT) return raw(c);
    return socket_call(s, c);
  }
  int fl = nonblock_begin(c->fd);
  if (fl < 0) return -1;
  if (fl & O_NONBLOCK) return raw(c);
  long r = blocking(s, c);
  nonblock_end(c->fd, fl);
  return r;
}

ssize_t read(int fd, void *buf, size_t n) {
  if (__builtin_expect(cb__green_tls() == NULL, 1)) return syscall(SYS_read, fd, buf, n);
  return call(&(struct call){.op = OP_READ, .fd = fd, .buf = buf, .len = n});
}
ssize_t write(int fd, const void *buf, size_t n) {
  if (__builtin_expect(cb__green_tls() == NULL, 1)) return syscall(SYS_write, fd, buf, n);
  return call(&(struct call){.op = OP_WRITE, .fd = fd, .buf = (void *)buf, .len = n});
}
ssize_t readv(int fd, const struct iovec *iov, int n) {
  if (__builtin_expect(cb__green_tls() == NULL, 1)) return syscall(SYS_readv, fd, iov, n);
  return call(&(struct call){.op = OP_READV, .fd = fd, .buf = (void *)iov, .len = (size_t)n});
}
ssize_t writev(int fd, const struct iovec *iov, int n) {
  if (__builtin_expect(cb__green_tls() == NULL, 1) || n <= 0 || n > IOV_MAX) return syscall(SYS_writev, fd, iov, n);
  /* a private copy of the vector, which a partial write advances */
  struct iovec small[8], *copy = n <= 8 ? small : malloc((size_t)n * sizeof *copy);
  if (!copy) {
    errno = ENOMEM;
    return -1;
  }
  memcpy(copy, iov, (size_t)n * sizeof *copy);
  ssize_t r = call(&(struct call){.op = OP_WRITEV, .fd = fd, .buf = copy, .len = (size_t)n});
  if (copy != small) free(copy);
  return r;
}
ssize_t recv(int fd, void *buf, size_t n, int flags) {
  if (__builtin_expect(cb__green_tls() == NULL, 1)) return syscall(SYS_recvfrom, fd, buf, n, flags, NULL, NULL);
  return call(&(struct call){.op = OP_RECVFROM, .fd = fd, .buf = buf, .len = n, .flags = flags});
}
ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr, socklen_t *alen) {
  if (__builtin_expect(cb__green_tls() == NULL, 1)) return syscall(SYS_recvfrom, fd, buf, n, flags, addr, alen);
  return call(&(struct call){.op = OP_RECVFROM, .fd = fd, .buf = buf, .len = n, .flags = flags, .addr = addr, .alen = alen});
}
ssize_t send(int fd, const void *buf, size_t n, int flags) {
  if (__builtin_expect(cb__green_tls() == NULL, 1)) return syscall(SYS_sendto, fd, buf, n, flags, NULL, 0);
  return call(&(struct call){.op = OP_SENDTO, .fd = fd, .buf = (void *)buf, .len = n, .flags = flags});
}
ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr, socklen_t alen) {
  if (__builtin_expect(cb__green_tls() == NULL, 1)) return syscall(SYS_sendto, fd, buf, n, flags, addr, alen);
  return call(&(struct call){.op = OP_SENDTO, .fd = fd, .buf = (void *)buf, .len = n, .flags = flags,
                             .addr = (void *)addr, .alen = (void *)(uintptr_t)alen});
}
int accept4(int fd, struct sockaddr *addr, socklen_t *alen, int flags) {
  if (__builtin_expect(cb__green_tls() == NULL, 1)) return (int)syscall(SYS_accept4, fd, addr, alen, flags);
  return (int)call(&(struct call){.op = OP_ACCEPT4, .fd = fd, .addr = addr, .alen = alen, .flags = flags});
}
int accept(int fd, struct sockaddr *addr, socklen_t *alen) { return accept4(fd, addr, alen, 0); }

int connect(int fd, const struct sockaddr *addr, socklen_t alen) {
  cb_green_sched *s = cb__green_tls();
  if (__builtin_expect(s == NULL, 1)) return (int)syscall(SYS_connect, fd, addr, alen);
  int fl = nonblock_begin(fd);
  if (fl < 0) return -1;
  int r = (int)syscall(SYS_connect, fd, addr, alen);
  if (r < 0 && errno == EINPROGRESS && !(fl & O_NONBLOCK)) {
    /* the blocking connect the caller asked for: wait for the outcome */
    /* SO_SNDTIMEO bounds it, as the kernel's: EINPROGRESS after that long (the
     * connection goes on in the background) */
    int err = 0;
    socklen_t len = sizeof err;
    if (wait_fd(s, fd, UV_WRITABLE, timeout_deadline(s, fd, 1)) != 0) {
      if (errno == EAGAIN) errno = EINPROGRESS;
    } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0) {
      r = err ? -1 : 0;
      if (err) errno = err;
    }
  }
  nonblock_end(fd, fl);
  return r;
}

/* Not a blocking call: notes the socket timeouts the blocking calls above honour
 * (the system call first; only a successful one is noted). */
int setsockopt(int fd, int level, int name, const void *val, socklen_t len) {
  int r = (int)syscall(SYS_setsockopt, fd, level, name, val, len);
  cb_green_sched *s = cb__green_tls_sched();
  if (__builtin_expect(s == NULL, 1) || r != 0 || level != SOL_SOCKET || (name != SO_RCVTIMEO && name != SO_SNDTIMEO) ||
      len < sizeof(struct timeval))
    return r;
  const struct timeval *tv = val;
  int64_t ns = (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000;
  if (ns <= 0) ns = CB__TMO_NONE; /* the kernel's "no timeout" */
  if (cb__io_set_timeout(s, fd, name == SO_SNDTIMEO, ns) != 0) {
    errno = ENOMEM;
    return -1;
  }
  return 0;
}

/* Not a blocking call, but the scheduler must drop its epoll registration of fd
 * before the number can be reused (io.c); in any thread running a scheduler, also
 * from its main context. */
int close(int fd) {
  cb_green_sched *s = cb__green_tls_sched();
  if (s) cb__io_forget(s, fd);
  return (int)syscall(SYS_close, fd);
}

/* ---- poll and select ---- */

static int ppoll_now(struct pollfd *fds, nfds_t n, const struct timespec *ts) {
  return (int)syscall(SYS_ppoll, fds, n, ts, NULL, (size_t)_NSIG / 8);
}

static int poll_events_to_uv(short ev) {
  int uv = 0;
  if (ev & (POLLIN | POLLPRI | POLLRDHUP)) uv |= UV_READABLE;
  if (ev & POLLOUT) uv |= UV_WRITABLE;
  return uv ? uv : UV_READABLE; /* errors and hang-ups show up as readable */
}

/* Parks on every fd of a set of n descriptors; used by poll and select. */
static int park_on(cb_green_sched *s, const int *fds, const int *events, size_t n, int64_t deadline) {
  cb__fdwait small[8], *w = n <= 8 ? small : calloc(n, sizeof *w);
  if (!w) return -ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (fds[i] >= 0) w[k++] = (cb__fdwait){.fd = fds[i], .events = events[i]};
  int r = cb__io_wait(s, w, k, deadline);
  if (w != small) free(w);
  return r;
}

/* poll in a green thread, timeout in ns (< 0: none). */
static int green_poll(cb_green_sched *s, struct pollfd *fds, nfds_t n, int64_t timeout) {
  int64_t deadline = timeout < 0 ? -1 : cb__mono_ns() + timeout;
  int small[16], *fd = n <= 8 ? small : malloc(2 * n * sizeof *fd); /* libcurl polls 1-2 fds */
  if (!fd) {
    errno = ENOMEM;
    return -1;
  }
  int *ev = fd + n;
  for (nfds_t i = 0; i < n; i++) {
    fd[i] = fds[i].fd;
    ev[i] = poll_events_to_uv(fds[i].events);
  }
  int r;
  for (;;) {
    struct timespec zero = {0, 0};
    r = ppoll_now(fds, n, &zero);
    if (r != 0 || timeout == 0 || (deadline >= 0 && cb__mono_ns() >= deadline)) break;
    int w = park_on(s, fd, ev, n, deadline);
    if (w == -ETIMEDOUT) continue; /* one last look, then the deadline check ends it */
    if (w < 0) {
      errno = -w;
      r = -1;
      break;
    }
  }
  if (fd != small) free(fd);
  return r;
}

int poll(struct pollfd *fds, nfds_t n, int timeout) {
  cb_green_sched *s = cb__green_tls();
  if (__builtin_expect(s == NULL, 1)) {
    struct timespec ts = {timeout / 1000, (long)(timeout % 1000) * 1000000};
    return ppoll_now(fds, n, timeout < 0 ? NULL : &ts);
  }
  return green_poll(s, fds, n, timeout < 0 ? -1 : (int64_t)timeout * 1000000);
}

/* ppoll and pselect: as poll and select with a timespec; the sigmask cannot be
 * applied to a parked call and is ignored inside green threads. */
int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *ss) {
  cb_green_sched *s = cb__green_tls();
  if (__builtin_expect(s == NULL, 1)) return (int)syscall(SYS_ppoll, fds, n, ts, ss, (size_t)_NSIG / 8);
  if (ts && (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)) {
    errno = EINVAL;
    return -1;
  }
  return green_poll(s, fds, n, ts ? (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec : -1);
}

static int green_select(cb_green_sched *s, int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int64_t timeout,
                        struct timeval *tv);

int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv) {
  cb_green_sched *s = cb__green_tls();
  if (__builtin_expect(s == NULL, 1)) {
    struct timespec ts, *tp = NULL;
    if (tv) {
      ts = (struct timespec){tv->tv_sec, tv->tv_usec * 1000};
      tp = &ts;
    }
    int r = (int)syscall(SYS_pselect6, nfds, rd, wr, ex, tp, NULL);
    if (tv && r >= 0) *tv = (struct timeval){ts.tv_sec, ts.tv_nsec / 1000}; /* Linux select semantics */
    return r;
  }
  if (tv && (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000)) {
    errno = EINVAL;
    return -1;
  }
  return green_select(s, nfds, rd, wr, ex, tv ? (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000 : -1,
                      tv);
}

int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *ts, const sigset_t *ss) {
  cb_green_sched *s = cb__green_tls();
  if (__builtin_expect(s == NULL, 1)) {
    struct timespec copy, *tp = NULL; /* pselect leaves the caller's timeout alone */
    if (ts) copy = *ts, tp = &copy;
    struct {
      const sigset_t *ss;
      size_t len;
    } mask = {ss, (size_t)_NSIG / 8};
    return (int)syscall(SYS_pselect6, nfds, rd, wr, ex, tp, ss ? &mask : NULL);
  }
  if (ts && (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)) {
    errno = EINVAL;
    return -1;
  }
  return green_select(s, nfds, rd, wr, ex, ts ? (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec : -1, NULL);
}

/* select in a green thread, timeout in ns (< 0: none); tv (if any) gets the time left. */
static int green_select(cb_green_sched *s, int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int64_t timeout,
                        struct timeval *tv) {
  if (nfds < 0 || nfds > FD_SETSIZE) {
    errno = EINVAL;
    return -1;
  }
  int64_t start = cb__mono_ns();
  int64_t deadline = timeout >= 0 ? start + timeout : -1;
  fd_set in[3], *sets[3] = {rd, wr, ex};
  int *fd = malloc(2 * FD_SETSIZE * sizeof *fd), *ev = fd + FD_SETSIZE;
  if (!fd) {
    errno = ENOMEM;
    return -1;
  }
  size_t k = 0;
  for (int i = 0; i < 3; i++)
    if (sets[i]) in[i] = *sets[i];
  for (int f = 0; f < nfds; f++) {
    int e = (rd && FD_ISSET(f, rd) ? UV_READABLE : 0) | (wr && FD_ISSET(f, wr) ? UV_WRITABLE : 0) |
            (ex && FD_ISSET(f, ex) ? UV_READABLE : 0);
    if (e) fd[k] = f, ev[k++] = e;
  }
  int r;
  for (;;) {
    for (int i = 0; i < 3; i++)
      if (sets[i]) *sets[i] = in[i];
    struct timespec zero = {0, 0};
    r = (int)syscall(SYS_pselect6, nfds, rd, wr, ex, &zero, NULL);
    if (r != 0 || (deadline >= 0 && cb__mono_ns() >= deadline)) break;
    int w = park_on(s, fd, ev, k, deadline);
    if (w < 0 && w != -ETIMEDOUT) {
      errno = -w;
      r = -1;
      break;
    }
  }
  if (tv && r >= 0) {
    int64_t left = deadline - cb__mono_ns();
    if (left < 0) left = 0;
    *tv = (struct timeval){left / 1000000000, (left % 1000000000) / 1000};
  }
  free(fd);
  return r;
}

/* ---- epoll ---- */

/* epoll_wait/epoll_pwait in a green thread: an epoll fd is itself pollable (readable
 * while it has events), so the call parks on it until it has events or the timeout
 * passed (gevent removes select.epoll when it patches; here it is made cooperative).
 * The sigmask of epoll_pwait cannot be applied to a parked call and is ignored. The
 * scheduler's own libuv loop calls these from its main context: the plain call. */
int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout, const sigset_t *ss) {
  cb_green_sched *s = cb__green_tls();
  if (__builtin_expect(s == NULL, 1)) return (int)syscall(SYS_epoll_pwait, epfd, ev, max, timeout, ss, (size_t)_NSIG / 8);
  int64_t deadline = timeout < 0 ? -1 : cb__mono_ns() + (int64_t)timeout * 1000000;
  for (;;) {
    int r = (int)syscall(SYS_epoll_pwait, epfd, ev, max, 0, NULL, (size_t)_NSIG / 8);
    if (r != 0 || timeout == 0 || (deadline >= 0 && cb__mono_ns() >= deadline)) return r;
    if (wait_fd(s, epfd, UV_READABLE, deadline) != 0 && errno != EAGAIN) return -1;
  }
}

int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout) { return epoll_pwait(epfd, ev, max, timeout, NULL); }

/* ---- name resolution ---- */

/* getaddrinfo/getnameinfo in a green thread run on libuv's thread pool (as gevent's
 * default resolver runs them on its thread pool) while the green thread parks: glibc's
 * resolver blocks in its own, unhooked system calls. Same results and error codes as
 * the plain call (EAI_SYSTEM with the worker's errno). Elsewhere: the plain call. */
typedef int gai_fn(const char *, const char *, const struct addrinfo *, struct addrinfo **);
typedef int gni_fn(const struct sockaddr *, socklen_t, char *, socklen_t, char *, socklen_t, int);

static void *libc_fn(void **slot, const char *name) {
  void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
  if (!f) {
    f = dlsym(RTLD_NEXT, name);
    CB_CHECK(f != NULL);
    __atomic_store_n(slot, f, __ATOMIC_RELEASE);
  }
  return f;
}
static void *gai_slot, *gni_slot;
static gai_fn *libc_getaddrinfo(void) { return (gai_fn *)libc_fn(&gai_slot, "getaddrinfo"); }
static gni_fn *libc_getnameinfo(void) { return (gni_fn *)libc_fn(&gni_slot, "getnameinfo"); }

typedef struct resolve {
  uv_work_t req;
  cb_green_sched *s;
  cb_green *g;
  int done, rc, err;
  /* getaddrinfo */
  const char *node, *service;
  const struct addrinfo *hints;
  struct addrinfo **res;
  /* getnameinfo */
  const struct sockaddr *sa;
  socklen_t salen, hostlen, servlen;
  char *host, *serv;
  int flags;
} resolve;

static void resolve_work(uv_work_t *req) {
  resolve *r = req->data;
  errno = 0;
  r->rc = r->res ? libc_getaddrinfo()(r->node, r->service, r->hints, r->res)
                 : libc_getnameinfo()(r->sa, r->salen, r->host, r->hostlen, r->serv, r->servlen, r->flags);
  r->err = errno;
}

static void resolve_done(uv_work_t *req, int status) {
  (void)status; /* never cancelled */
  resolve *r = req->data;
  r->done = 1;
  cb__green_ready(r->s, r->g);
}

/* Runs r on the thread pool and parks until it is done; 0, or -1 if it could not be
 * queued (the caller then makes the plain call). */
static int resolve_parked(cb_green_sched *s, resolve *r) {
  r->s = s;
  r->g = s->current;
  r->req.data = r;
  if (uv_queue_work(&s->loop, &r->req, resolve_work, resolve_done) != 0) return -1;
  while (!r->done) cb__green_park(s);
  if (r->rc == EAI_SYSTEM) errno = r->err;
  return 0;
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res) {
  cb_green_sched *s = cb__green_tls();
  if (__builtin_expect(s != NULL, 1)) {
    resolve r = {.node = node, .service = service, .hints = hints, .res = res};
    if (resolve_parked(s, &r) == 0) return r.rc;
  }
  return libc_getaddrinfo()(node, service, hints, res);
}

int getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen, char *serv,
                socklen_t servlen, int flags) {
  cb_green_sched *s = cb__green_tls();
  if (__builtin_expect(s != NULL, 1)) {
    resolve r = {.sa = sa, .salen = salen, .host = host, .hostlen = hostlen, .serv = serv, .servlen = servlen,
                 .flags = flags};
    if (resolve_parked(s, &r) == 0) return r.rc;
  }
  return libc_getnameinfo()(sa, salen, host, hostlen, serv, servlen, flags);
}

/* ---- sleeps ---- */

static int green_sleep(const struct timespec *req, struct timespec *rem) {
  if (req->tv_sec < 0 || req->tv_nsec < 0 || req->tv_nsec >= 1000000000) {
    errno = EINVAL;
    return -1;
  }
  cb_green_sleep_ns((int64_t)req->tv_sec * 1000000000 + req->tv_nsec);
  if (rem) *rem = (struct timespec){0, 0};
  return 0;
}

int nanosleep(const struct timespec *req, struct timespec *rem) {
  if (__builtin_expect(cb__green_tls() == NULL, 1)) return (int)syscall(SYS_nanosleep, req, rem);
  return green_sleep(req, rem);
}

int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req, struct timespec *rem) {
  if (__builtin_expect(cb__green_tls() == NULL, 1)) {
    int e = errno; /* clock_nanosleep returns the error and leaves errno alone */
    int r = (int)syscall(SYS_clock_nanosleep, clk, flags, req, rem) < 0 ? errno : 0;
    errno = e;
    return r;
  }
  struct timespec now, rel = *req;
  if (clock_gettime(clk, &now) != 0) return EINVAL;
  if (flags & TIMER_ABSTIME) {
    int64_t d = ((int64_t)req->tv_sec - now.tv_sec) * 1000000000 + (req->tv_nsec - now.tv_nsec);
    if (d < 0) d = 0;
    rel = (struct timespec){d / 1000000000, d % 1000000000};
    rem = NULL;
  }
  int e = errno;
  int r = green_sleep(&rel, rem) == 0 ? 0 : errno;
  errno = e;
  return r;
}

int usleep(useconds_t us) {
  struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};
  return nanosleep(&ts, NULL);
}

unsigned int sleep(unsigned int sec) {
  struct timespec ts = {sec, 0}, rem = {0, 0};
  if (nanosleep(&ts, &rem) < 0 && errno == EINTR) return (unsigned)rem.tv_sec + (rem.tv_nsec > 0);
  return 0;
}

int cb_green_hooks_check(void) {
  int ok = dlsym(RTLD_DEFAULT, "poll") == (void *)poll && dlsym(RTLD_DEFAULT, "read") == (void *)read &&
           dlsym(RTLD_DEFAULT, "nanosleep") == (void *)nanosleep;
  return ok ? 0 : -ENOSYS;
}
