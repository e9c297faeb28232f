/* serve_only.c — `concbench serve`: a server workload's server alone, on the
 * address the user chose, in this process, until SIGINT/SIGTERM/SIGHUP or
 * --seconds; then one JSON object with what it did. For a client on another
 * machine: the matching bin/loadgen command is printed on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/check.h"
#include "harness/run/cell_int.h"

/* Where the signal handlers send the stop byte (a handler can reach nothing else). */
static int stop_wr = -1;

static void on_stop(int sig) {
  (void)sig;
  char b = 1;
  if (write(stop_wr, &b, 1) < 0) _exit(CB_EXIT_INTERRUPTED);
}

/* Binds and listens on HOST:PORT (already checked by the parser). fd, or -errno. */
static int listen_on(const char *hostport, char *bound, size_t cap) {
  char host[256];
  const char *colon = strrchr(hostport, ':');
  size_t n = (size_t)(colon - hostport);
  if (n >= sizeof host) return -EINVAL;
  memcpy(host, hostport, n);
  host[n] = '\0';
  if (n >= 2 && host[0] == '[' && host[n - 1] == ']') memmove(host, host + 1, n - 2), host[n - 2] = '\0';
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_PASSIVE}, *ai;
  if (getaddrinfo(strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, colon + 1, &hints, &ai) != 0) return -EINVAL;
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, rc = 0;
  if (fd < 0) rc = -errno;
  if (!rc) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (!rc && (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 65535) != 0)) rc = -errno;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  char h[NI_MAXHOST], p[NI_MAXSERV];
  if (!rc && (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
              getnameinfo((struct sockaddr *)&ss, len, h, sizeof h, p, sizeof p, NI_NUMERICHOST | NI_NUMERICSERV) != 0))
    rc = -EINVAL;
  freeaddrinfo(ai);
  if (rc) {
    if (fd >= 0) close(fd);
    return rc;
  }
  snprintf(bound, cap, strchr(h, ':') ? "[%s]:%s" : "%s:%s", h, p);
  return fd;
}

static void print_client(const cb_cell *cell, const cb_job_env *env, const char *bound) {
  char *argv[CB_LOADGEN_ARGS_MAX], bufs[CB_LOADGEN_ARGS_MAX][CB_LOADGEN_ARG_LEN];
  int n = cell->workload->loadgen_args(env, argv, bufs);
  fprintf(stderr, "concbench serve: %s serving %s on %s; stop with SIGINT or SIGTERM\n", cell->model->name,
          cell->workload->name, bound);
  fprintf(stderr, "  client: concbench run --model %s --workload %s --tasks CONNECTIONS --target HOST:PORT%s\n",
          cell->model->name, cell->workload->name, cell->allow_remote ? " --allow-remote" : "");
  fprintf(stderr, "      or: loadgen --connect HOST:PORT --connections N%s", cell->allow_remote ? " --allow-remote" : "");
  for (int k = 0; k < n; k++) fprintf(stderr, " '%s'", argv[k]);
  fprintf(stderr, "\n");
}

int cb__serve_only_run(const cb_cell *cell, const cb_job_env *env) {
  if (!cell->model->serve) {
    fprintf(stderr, "concbench serve: --model: %s has no server\n", cell->model->name);
    return CB_EXIT_UNSUPPORTED;
  }
  char bound[300];
  int fd = listen_on(cell->listen, bound, sizeof bound);
  if (fd < 0) {
    fprintf(stderr, "concbench serve: --listen: cannot listen on %s: %s\n", cell->listen, strerror(-fd));
    return CB_EXIT_USAGE;
  }
  int stop[2];
  CB_CHECK(pipe2(stop, O_CLOEXEC) == 0);
  stop_wr = stop[1];
  struct sigaction sa = {.sa_handler = on_stop};
  sigemptyset(&sa.sa_mask);
  const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGALRM};
  for (int k = 0; k < 4; k++) sigaction(sigs[k], &sa, NULL);
  if (cell->seconds > 0) alarm((unsigned)cell->seconds);
  print_client(cell, env, bound);
  cb_serve_spec spec = {.workload = cell->workload, .env = env, .listen_fd = fd, .stop_fd = stop[0],
                        .concurrency = cell->concurrency, .max_conns = cell->tasks, .idle_ms = 30000,
                        .stack_size = cell->stack_size, .ready_fd = -1, .model_params = cell->model_params};
  cb_run_report report = {0};
  int rc = cell->model->serve(&spec, &report);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  close(fd), close(stop[0]), close(stop[1]);
  if (rc == -ENOTSUP) {
    fprintf(stderr, "concbench serve: --model: workload %s has no version for model %s\n", cell->workload->name,
            cell->model->name);
    return CB_EXIT_UNSUPPORTED;
  }
  const cb_serve_totals *t = &report.serve;
  json_t *o = json_pack("{ss ss ss sI ss sf sf sI s{sI sI sI sI sI sI} so}", "model", cell->model->name, "workload",
                        cell->workload->name, "listen", bound, "created", (json_int_t)report.created, "created_kind",
                        report.created_kind ? report.created_kind : "", "user_s",
                        cb__tv_s(ru.ru_utime) + report.child_user_s, "sys_s", cb__tv_s(ru.ru_stime) + report.child_sys_s,
                        "max_rss_kb", (json_int_t)ru.ru_maxrss, "served", "accepted", (json_int_t)t->accepted,
                        "refused", (json_int_t)t->refused, "closed_idle", (json_int_t)t->closed_idle, "peak_open",
                        (json_int_t)t->peak_open, "requests", (json_int_t)t->counts.requests, "bad_requests",
                        (json_int_t)t->counts.bad_requests, "error",
                        report.error[0] ? json_string(report.error) : json_null());
  CB_CHECK(o != NULL);
  char *line = json_dumps(o, JSON_COMPACT);
  printf("%s\n", line);
  free(line);
  json_decref(o);
  if (rc != 0) fprintf(stderr, "concbench serve: %s\n", report.error[0] ? report.error : strerror(-rc));
  return rc == 0 ? CB_EXIT_OK : rc == -ERANGE ? CB_EXIT_USAGE : CB_EXIT_RESOURCE;
}
