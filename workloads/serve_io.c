/* serve_io.c — contract in serve_io.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "common/check.h"
#include "workloads/serve_io.h"

static int set_timeouts(int fd, int64_t ms) {
  struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
    return -errno;
  return 0;
}

int cb__conn_set_idle(int fd, int64_t idle_ms) { return idle_ms > 0 ? set_timeouts(fd, idle_ms) : 0; }

ssize_t cb__conn_recv(int fd, void *buf, size_t n, cb_serve_counts *counts) {
  for (;;) {
    ssize_t r = recv(fd, buf, n, 0);
    if (r >= 0) {
      counts->bytes_in += (uint64_t)r;
      return r;
    }
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
  }
}

int cb__conn_send(int fd, const void *buf, size_t n, cb_serve_counts *counts) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
    }
    counts->bytes_out += (uint64_t)w;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

void cb__conn_linger(int fd) {
  char sink[4096];
  if (shutdown(fd, SHUT_WR) != 0 || set_timeouts(fd, CB__LINGER_MS) != 0) return;
  for (int k = 0; k < 64; k++) { /* at most 256 KiB */
    ssize_t r = recv(fd, sink, sizeof sink, 0);
    if (r > 0) continue;
    if (r < 0 && errno == EINTR) continue;
    return;
  }
}

int cb__loadgen_arg(char *argv[CB_LOADGEN_ARGS_MAX], char bufs[CB_LOADGEN_ARGS_MAX][CB_LOADGEN_ARG_LEN], int n,
                    const char *fmt, ...) {
  CB_CHECK(n >= 0 && n < CB_LOADGEN_ARGS_MAX);
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(bufs[n], CB_LOADGEN_ARG_LEN, fmt, ap);
  va_end(ap);
  CB_CHECK(len >= 0 && len < CB_LOADGEN_ARG_LEN);
  argv[n] = bufs[n];
  return n + 1;
}
