/* nginx.c — the `nginx` reference model: nginx (Debian nginx-light) serving the
 * workload's static reply, one process, as the ceiling the models' servers are
 * read against. README.md beside this file explains the choices.
 *
 * serve: asks the workload for its static reply (-ENOTSUP when its replies are
 * not one static body), writes a prefix folder under /tmp with the body and a
 * generated nginx.conf, and starts nginx (fork, die with the parent, execve with
 * an argument vector) with the cell's listening socket inherited through nginx's
 * own mechanism (the NGINX="fd;" environment variable; its listen directive names
 * the socket's address, so nginx adopts the socket instead of binding). A probe
 * request checks that it serves the body; then the model waits for stop_fd, reads
 * nginx's counters (stub_status, minus the model's own probe and status
 * requests), stops it (SIGTERM: fast shutdown, closing open connections; SIGKILL
 * after 5 s), reaps it (child_* usage) and removes the folder. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/child.h"
#include "runtimes/models.h"
#include "workloads/body.h"

#define STATUS_PATH "/concbench-nginx-status"
#define START_WAIT_MS 20000 /* nginx's start, on a loaded machine */
#define STOP_WAIT_MS 5000   /* SIGTERM to exit, before SIGKILL */
#define REPLY_CAP 4096      /* headers and a status page */

extern char **environ;

typedef struct nginx_ctx {
  const cb_serve_spec *spec;
  cb_run_report *report;
  cb_static_reply reply;
  char bin[256];               /* the nginx executable */
  char dir[64];                /* the prefix folder */
  struct sockaddr_in addr;     /* the listening socket's address */
  pid_t pid;                   /* nginx, 0 once reaped */
  uint64_t own_conns, own_reqs; /* the model's probe and status requests */
} nginx_ctx;

/* ---- the prefix folder ---- */

static int write_file(const char *path, const void *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -errno;
  for (size_t off = 0; off < len;) {
    ssize_t w = write(fd, (const char *)data + off, len - off);
    if (w < 0) {
      int e = -errno;
      close(fd);
      return e;
    }
    off += (size_t)w;
  }
  return close(fd) == 0 ? 0 : -errno;
}

/* The body file and nginx.conf. Every path nginx writes (logs, pid, temp folders) is
 * inside the prefix folder. */
static int write_prefix(nginx_ctx *c) {
  unsigned char *body = malloc(c->reply.bytes ? c->reply.bytes : 1);
  if (!body) return -ENOMEM;
  cb_body_fill(c->reply.seed, 0, body, c->reply.bytes);
  char path[128];
  snprintf(path, sizeof path, "%s/body", c->dir);
  int rc = write_file(path, body, c->reply.bytes);
  free(body);
  if (rc) return rc;
  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &c->addr.sin_addr, ip, sizeof ip);
  const char *d = c->dir;
  unsigned long long conns = (unsigned long long)c->spec->max_conns + 64;
  char conf[4096];
  int n = snprintf(conf, sizeof conf,
                   "daemon off;\nmaster_process on;\nworker_processes 1;\n"
                   "error_log %s/error.log warn;\npid %s/nginx.pid;\nworker_rlimit_nofile %llu;\n"
                   "events { worker_connections %llu; }\n"
                   "http {\n"
                   "  access_log off; server_tokens off; etag off;\n"
                   "  default_type application/octet-stream; sendfile off; tcp_nodelay on;\n"
                   "  open_file_cache max=16;\n"
                   "  keepalive_requests 1000000000; keepalive_timeout %lldms;\n"
                   "  client_body_temp_path %s/client_body; proxy_temp_path %s/proxy;\n"
                   "  fastcgi_temp_path %s/fastcgi; uwsgi_temp_path %s/uwsgi; scgi_temp_path %s/scgi;\n"
                   "  server {\n"
                   "    listen %s:%d;\n"
                   "    location / { root %s; try_files /body =404; }\n"
                   "    location = " STATUS_PATH " { stub_status; }\n"
                   "  }\n"
                   "}\n",
                   d, d, conns + 64, conns, (long long)c->spec->idle_ms, d, d, d, d, d, ip,
                   ntohs(c->addr.sin_port), d);
  if (n < 0 || (size_t)n >= sizeof conf) return -ENAMETOOLONG;
  snprintf(path, sizeof path, "%s/nginx.conf", c->dir);
  return write_file(path, conf, (size_t)n);
}

/* Removes the folder `name` (in parent_fd) and everything in it, with system calls
 * only: the keeper calls it too, where malloc is not safe. */
static void remove_tree(int parent_fd, const char *name) {
  int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    char buf[4096];
    long n;
    /* entries removed while listing: list again from the start until none is left */
    while (lseek(fd, 0, SEEK_SET) == 0 && (n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
      int removed = 0;
      for (long off = 0; off < n;) {
        struct dirent64 *d = (struct dirent64 *)(void *)(buf + off);
        off += d->d_reclen;
        if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) continue;
        if (unlinkat(fd, d->d_name, 0) != 0 && errno == EISDIR) remove_tree(fd, d->d_name);
        removed = 1;
      }
      if (!removed) break;
    }
    close(fd);
  }
  unlinkat(parent_fd, name, AT_REMOVEDIR);
}

/* The last line of nginx's error log into the report's error (after what). */
static void report_log(nginx_ctx *c, const char *what) {
  char path[128], buf[2048] = "";
  snprintf(path, sizeof path, "%s/error.log", c->dir);
  FILE *f = fopen(path, "re");
  if (f) {
    char line[2048];
    while (fgets(line, sizeof line, f)) snprintf(buf, sizeof buf, "%s", line);
    fclose(f);
  }
  buf[strcspn(buf, "\n")] = 0;
  cb_report_error(c->report, "nginx: %s%s%s", what, buf[0] ? ": " : "", buf);
}

/* ---- the process ---- */

/* nginx on PATH or in /usr/sbin (not on a normal user's PATH). */
static int find_nginx(nginx_ctx *c) {
  const char *path = getenv("PATH");
  char dirs[4096];
  snprintf(dirs, sizeof dirs, "%s:/usr/sbin", path ? path : "");
  for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    int n = snprintf(c->bin, sizeof c->bin, "%s/nginx", d);
    if (n > 0 && (size_t)n < sizeof c->bin && access(c->bin, X_OK) == 0) return 0;
  }
  return -ENOENT;
}

/* The keeper (a fork of this process that never returns): nginx's master and
 * worker run in a process group of their own under it, and it takes them down
 * with it. Only a SIGKILL of the keeper itself (by its pid) would orphan the
 * worker. It asks for SIGTERM, not SIGKILL, when its parent ends, and is the
 * subreaper of nginx's processes, so a worker whose master died is still its child.
 * On SIGTERM (the model's stop, or the model's end) it sends nginx SIGTERM (fast
 * shutdown), waits STOP_WAIT_MS for it, then SIGKILLs the group; if nginx ends by
 * itself it SIGKILLs what is left of the group at once. A keeper that stopped nginx
 * removes the prefix folder (so it goes also when the model is gone) and exits 0;
 * one whose nginx ended first exits 1 and leaves the folder to the model, which
 * reads nginx's error log from it. Async-signal-safe calls only (it is a
 * fork of a process that may have threads). */
static __attribute__((noreturn)) void keeper(const nginx_ctx *c, pid_t parent, char **argv, char **envp) {
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, &old);
  /* its own process group: a kill of the cell's group ends the model, not the keeper,
   * which then gets SIGTERM and stops nginx */
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent || prctl(PR_SET_CHILD_SUBREAPER, 1) != 0 ||
      setpgid(0, 0) != 0)
    _exit(1);
  pid_t me = getpid(), nginx = fork();
  if (nginx == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (setpgid(0, 0) != 0 || cb_die_with_parent(me) != 0 || fcntl(c->spec->listen_fd, F_SETFD, 0) != 0) _exit(127);
    execve(c->bin, argv, envp);
    _exit(127);
  }
  if (nginx < 0) _exit(1);
  setpgid(nginx, nginx); /* whichever of the two runs first */
  int stopped = 0, sig;
  struct timespec step = {0, 10 * 1000 * 1000};
  for (int waited = 0;;) {
    sig = stopped ? sigtimedwait(&set, NULL, &step) : sigwaitinfo(&set, NULL);
    if (sig == SIGTERM && !stopped) {
      stopped = 1;
      kill(nginx, SIGTERM);
    }
    if (waitpid(nginx, NULL, WNOHANG) == nginx) break;
    if (stopped && sig < 0 && (waited += 10) >= STOP_WAIT_MS) break;
  }
  kill(-nginx, SIGKILL);
  while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {
  }
  if (stopped) remove_tree(AT_FDCWD, c->dir); /* else the model reads nginx's log first */
  _exit(stopped ? 0 : 1);
}

/* Forks the keeper, which starts nginx with the listening socket inherited
 * (NGINX="fd;"). The argument and environment vectors are made here: after the fork
 * only system calls are made. */
static int start_nginx(nginx_ctx *c) {
  size_t nenv = 0;
  while (environ[nenv]) nenv++;
  char **envp = calloc(nenv + 2, sizeof *envp);
  if (!envp) return -ENOMEM;
  char inherit[32], conf[128], log[128];
  snprintf(inherit, sizeof inherit, "NGINX=%d;", c->spec->listen_fd);
  size_t k = 0;
  for (size_t i = 0; i < nenv; i++)
    if (strncmp(environ[i], "NGINX=", 6) != 0) envp[k++] = environ[i];
  envp[k] = inherit;
  snprintf(conf, sizeof conf, "%s/nginx.conf", c->dir);
  snprintf(log, sizeof log, "%s/error.log", c->dir);
  char *argv[] = {"nginx", "-p", c->dir, "-c", conf, "-e", log, NULL};
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) keeper(c, parent, argv, envp);
  int e = errno;
  free(envp);
  if (pid < 0) return -e;
  c->pid = pid;
  return 0;
}

/* Reaps the keeper if it has exited (WNOHANG) or, with wait, waits for it; adds its
 * usage, which includes nginx's (the processes it reaped), to the report. 1 once
 * reaped. */
static int reap(nginx_ctx *c, int wait) {
  int status;
  struct rusage ru;
  pid_t r;
  do r = wait4(c->pid, &status, wait ? 0 : WNOHANG, &ru);
  while (r < 0 && errno == EINTR);
  if (r != c->pid) return 0;
  cb_run_report *rep = c->report;
  cb_report_add_child(rep, &ru);
  c->pid = 0;
  return 1;
}

/* Tells the keeper to stop nginx and waits for it (it takes STOP_WAIT_MS at most). */
static void stop_nginx(nginx_ctx *c) {
  if (!c->pid) return;
  kill(c->pid, SIGTERM);
  reap(c, 1);
}

/* ---- requests of the model's own ---- */

/* GET target over a new connection (Connection: close); the reply's start into buf
 * (NUL-ended), *body_len = its body's length if every byte is the static body's,
 * else 0. Waits for nginx to answer in 100 ms steps, giving up when it exited
 * (-ECHILD) or after START_WAIT_MS. Returns the bytes kept or a negative errno. */
static ssize_t get(nginx_ctx *c, const char *target, char *buf, size_t cap, uint64_t *body_len) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  char req[512];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", target);
  if (connect(fd, (struct sockaddr *)&c->addr, sizeof c->addr) != 0 || send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
    int e = -errno;
    close(fd);
    return e;
  }
  c->own_conns++;
  c->own_reqs++;
  size_t have = 0;
  int in_body = 0;
  *body_len = 0;
  buf[0] = 0;
  cb_body_check chk;
  cb_body_check_init(&chk, c->reply.seed);
  ssize_t rc = -ETIMEDOUT;
  for (int waited = 0; waited < START_WAIT_MS;) {
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    int p = poll(&pf, 1, 100);
    if (p < 0) continue; /* EINTR */
    if (p == 0) {
      waited += 100;
      if (reap(c, 0)) {
        rc = -ECHILD;
        break;
      }
      continue;
    }
    char tmp[16384];
    ssize_t r = recv(fd, tmp, sizeof tmp, 0);
    if (r < 0) {
      rc = -errno;
      break;
    }
    if (r == 0) {
      rc = (ssize_t)have;
      break;
    }
    size_t before = have, keep = (size_t)r < cap - 1 - have ? (size_t)r : cap - 1 - have;
    memcpy(buf + have, tmp, keep);
    have += keep;
    buf[have] = 0;
    /* the body is checked as it streams past, beyond what buf keeps */
    size_t skip = 0;
    if (!in_body) {
      const char *end = strstr(buf, "\r\n\r\n");
      if (!end) continue;
      in_body = 1;
      skip = (size_t)(end + 4 - buf) - before;
    }
    cb_body_check_feed(&chk, tmp + skip, (size_t)r - skip);
    *body_len += (uint64_t)r - skip;
  }
  close(fd);
  if (!chk.ok) *body_len = 0; /* wrong bytes: none counted right */
  return rc;
}

/* The probe: nginx answers the workload's request with 200 and the body. */
static int probe(nginx_ctx *c) {
  char buf[REPLY_CAP];
  uint64_t body_len = 0;
  ssize_t n = get(c, c->reply.path, buf, sizeof buf, &body_len);
  if (n == -ECHILD) {
    report_log(c, "exited at start");
    return -ECHILD;
  }
  if (n < 0) {
    cb_report_error(c->report, "nginx: no reply to a probe request: %s", strerror((int)-n));
    return (int)n;
  }
  if (strncmp(buf, "HTTP/1.1 200 ", 13) != 0 || body_len != c->reply.bytes) {
    buf[strcspn(buf, "\r\n")] = 0;
    cb_report_error(c->report, "nginx: the probe got \"%s\" and %llu right body bytes, not %llu", buf,
                    (unsigned long long)body_len, (unsigned long long)c->reply.bytes);
    return -EPROTO;
  }
  return 0;
}

/* nginx's counters (stub_status: accepts handled requests) less the model's own
 * requests, into the report: accepted, refused (accepted beyond worker_connections,
 * not handled) and requests; nginx counts no bytes, peak or idle closes. */
static int read_counters(nginx_ctx *c) {
  char buf[REPLY_CAP];
  uint64_t ignored = 0;
  ssize_t n = get(c, STATUS_PATH, buf, sizeof buf, &ignored);
  const char *p = n > 0 ? strstr(buf, "requests\n") : NULL;
  unsigned long long acc, handled, reqs;
  if (!p || sscanf(p + 9, "%llu %llu %llu", &acc, &handled, &reqs) != 3 || acc < c->own_conns || reqs < c->own_reqs) {
    cb_report_error(c->report, "nginx: cannot read its counters (%s)", n < 0 ? strerror((int)-n) : "no stub_status page");
    return n < 0 ? (int)n : -EPROTO;
  }
  c->report->serve.accepted = acc - c->own_conns;
  c->report->serve.refused = acc - handled;
  c->report->serve.counts.requests = reqs - c->own_reqs;
  return 0;
}

/* Serves until stop_fd is readable; -ECHILD when nginx exits first. */
static int wait_stop(nginx_ctx *c) {
  for (;;) {
    struct pollfd pf = {.fd = c->spec->stop_fd, .events = POLLIN};
    int r = poll(&pf, 1, 200);
    if (r > 0) return 0;
    if (r < 0 && errno != EINTR) return -errno;
    if (reap(c, 0)) {
      report_log(c, "exited while serving");
      return -ECHILD;
    }
  }
}

static int nginx_serve(const cb_serve_spec *spec, cb_run_report *report) {
  report->concurrency = spec->max_conns;
  report->created_kind = "processes";
  nginx_ctx c = {.spec = spec, .report = report};
  int rc = spec->workload->static_reply ? spec->workload->static_reply(spec->env, &c.reply) : -ENOTSUP;
  if (rc) {
    cb_report_error(report, "nginx serves static replies only; these parameters of workload %s are not one",
                    spec->workload->name);
    return -ENOTSUP;
  }
  if (find_nginx(&c) != 0) {
    cb_report_error(report, "nginx: not installed (no nginx on PATH or in /usr/sbin); install the Debian package "
                            "nginx-light (scripts/deps.sh)");
    return -ENOENT;
  }
  socklen_t len = sizeof c.addr;
  if (getsockname(spec->listen_fd, (struct sockaddr *)&c.addr, &len) != 0 || c.addr.sin_family != AF_INET) {
    cb_report_error(report, "nginx: the listening socket is not an IPv4 TCP socket");
    return -EINVAL;
  }
  snprintf(c.dir, sizeof c.dir, "/tmp/concbench-nginx-XXXXXX");
  if (!mkdtemp(c.dir) || chmod(c.dir, 0755) != 0) { /* run as root, nginx's worker is nobody */
    rc = -errno;
    cb_report_error(report, "nginx: cannot make a folder under /tmp: %s", strerror(-rc));
    return rc;
  }
  rc = write_prefix(&c);
  if (rc) cb_report_error(report, "nginx: cannot write its configuration in %s: %s", c.dir, strerror(-rc));
  if (!rc && (rc = start_nginx(&c)) != 0) cb_report_error(report, "nginx: cannot start it: %s", strerror(-rc));
  if (!rc) report->created = 2; /* nginx's master and worker */
  if (!rc) rc = probe(&c);
  if (!rc) {
    cb_serve_ready(spec);
    rc = wait_stop(&c);
  }
  if (!rc) rc = read_counters(&c);
  stop_nginx(&c);
  remove_tree(AT_FDCWD, c.dir); /* if the keeper has not (it never started) */
  return rc;
}

/* No client-side workloads: a reference server only. */
static int nginx_run(const cb_run_spec *spec, cb_run_report *report) {
  cb_report_error(report, "nginx is a reference server: it serves server workloads only");
  return -ENOTSUP;
}

const cb_model cb_model_nginx = {
    .name = "nginx",
    .summary = "nginx-light, one worker process: the server ceiling (static replies only)",
    .run = nginx_run,
    .serve = nginx_serve,
    .reference = 1,
};
