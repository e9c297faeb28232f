/* server_child.c — see server_child.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/child.h"
#include "servers/delayd/delayd.h"
#include "harness/run/server_child.h"
#include "common/util.h"

int cb_server_start(cb_server *s, char *err, size_t errlen) {
  char path[PATH_MAX + 16];
  int out_rd = -1;
  s->pid = 0;
  if (cb_program_path("delayd", "CONCBENCH_DELAYD", path, sizeof path) != 0 || access(path, X_OK) != 0) {
    snprintf(err, errlen, "cannot find the delayd binary (%s); build it with make", path);
    return -ENOENT;
  }
  char *argv[] = {path, "--host", "127.0.0.1", "--port", "0", NULL};
  /* delayd never exits by itself: it dies with the thread that started it, even
   * when that is killed (checked against a parent already gone). */
  int rc = cb_spawn_piped(path, argv, NULL, &s->pid, &out_rd);
  if (rc != 0) {
    snprintf(err, errlen, "cannot start %s: %s", path, strerror(-rc));
    return rc;
  }
  char line[256];
  size_t have = 0;
  int64_t waited_ms = 0;
  while (have < sizeof line - 1 && !memchr(line, '\n', have)) {
    struct pollfd pf = {.fd = out_rd, .events = POLLIN};
    int n = poll(&pf, 1, 100);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 && (waited_ms += 100) >= 5000) break;
    if (n <= 0) continue;
    ssize_t r = read(out_rd, line + have, sizeof line - 1 - have);
    if (r <= 0) break;
    have += (size_t)r;
  }
  close(out_rd);
  line[have] = '\0';
  char *nl = strchr(line, '\n');
  if (!nl || strncmp(line, "http://", 7) != 0) {
    cb_server_stop(s);
    snprintf(err, errlen, "delayd did not report its address within 5 s");
    return -ETIMEDOUT;
  }
  *nl = '\0';
  snprintf(s->url, sizeof s->url, "%s", line);
  return 0;
}

/* Splits http://HOST:PORT[/] into host and port: -EINVAL when it has another form,
 * -ERANGE when the port is not from 1 to 65535. */
static int split_url(const char *url, char *host, size_t hcap, char *port, size_t pcap) {
  if (strncmp(url, "http://", 7) != 0) return -EINVAL;
  const char *h = url + 7, *colon, *hend;
  if (*h == '[') {
    hend = strchr(h, ']');
    if (!hend || hend[1] != ':') return -EINVAL;
    h++;
    colon = hend + 1;
  } else {
    colon = strchr(h, ':');
    if (!colon) return -EINVAL;
    hend = colon;
  }
  size_t hl = (size_t)(hend - h);
  if (hl == 0 || hl >= hcap) return -EINVAL;
  memcpy(host, h, hl);
  host[hl] = '\0';
  const char *p = colon + 1;
  size_t pl = strspn(p, "0123456789");
  if (pl == 0 || (p[pl] != '\0' && strcmp(p + pl, "/") != 0)) return -EINVAL;
  int64_t n;
  if (pl >= pcap) return -ERANGE;
  memcpy(port, p, pl);
  port[pl] = '\0';
  return cb_parse_int(port, 1, 65535, &n) == 0 ? 0 : -ERANGE;
}

static int resolve(const char *host, const char *port, struct addrinfo **ai) {
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
  return getaddrinfo(strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, port, &hints, ai) == 0 ? 0 : -EINVAL;
}

static int connect_within(const char *host, const char *port, int timeout_ms) {
  struct addrinfo *ai;
  if (resolve(host, port, &ai) != 0) return -EINVAL;
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int rc = fd < 0 ? -errno : 0;
  if (rc == 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    rc = -errno;
    if (errno == EINPROGRESS) {
      struct pollfd pf = {.fd = fd, .events = POLLOUT};
      int soerr = 0;
      socklen_t sl = sizeof soerr;
      if (poll(&pf, 1, timeout_ms) != 1) rc = -ETIMEDOUT;
      else rc = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 ? -soerr : -errno;
    }
  }
  if (fd >= 0) close(fd);
  freeaddrinfo(ai);
  return rc;
}

int cb_server_use(cb_server *s, const char *url, char *err, size_t errlen) {
  char host[128], port[8];
  s->pid = 0;
  int rc = split_url(url, host, sizeof host, port, sizeof port);
  if (rc == -ERANGE) {
    const char *digits = strrchr(url, ':') + 1;
    snprintf(err, errlen, "--server: port %.*s is out of range: a port is from 1 to 65535 (in '%s')",
             (int)strspn(digits, "0123456789"), digits, url);
    return rc;
  }
  if (rc != 0) {
    snprintf(err, errlen, "--server: expected http://HOST:PORT, got '%s'", url);
    return rc;
  }
  if (!cb_is_loopback_host(host)) {
    snprintf(err, errlen, "--server: only loopback servers are allowed (127.0.0.0/8, ::1, localhost), got '%s'", host);
    return -EINVAL;
  }
  rc = connect_within(host, port, 2000);
  if (rc != 0) {
    snprintf(err, errlen, "--server: cannot connect to %s: %s", url, strerror(-rc));
    return rc;
  }
  snprintf(s->url, sizeof s->url, "%s", url);
  size_t n = strlen(s->url);
  if (n > 0 && s->url[n - 1] == '/') s->url[n - 1] = '\0';
  return 0;
}

void cb_server_stop(cb_server *s) {
  if (s->pid <= 0) return;
  kill(s->pid, SIGTERM);
  int status;
  while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR) {
  }
  s->pid = 0;
}

int cb_server_addr(const cb_server *s, struct sockaddr_storage *addr, socklen_t *len) {
  char host[128], port[8];
  struct addrinfo *ai;
  if (split_url(s->url, host, sizeof host, port, sizeof port) != 0 || resolve(host, port, &ai) != 0) return -EINVAL;
  memcpy(addr, ai->ai_addr, ai->ai_addrlen);
  *len = ai->ai_addrlen;
  freeaddrinfo(ai);
  return 0;
}
