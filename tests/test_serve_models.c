/* test_serve_models.c — the green and loop servers, and nginx the reference, served
 * in-process on a loopback listening socket: many connections at once with the right
 * bytes, stop with connections still open, max_conns refusal, idle connections
 * closed (with the echo workload, also without an idle bound, and with the serve
 * workload); nginx serves serve's static reply,
 * leaves no process behind (also when its server process is killed) and refuses
 * what is not static. The green hooks' SO_RCVTIMEO is tested here too. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/child.h"
#include "common/util.h"
#include "runtimes/green/green.h"
#include "runtimes/loop/combinators.h"
#include "runtimes/loop/model.h"
#include "runtimes/models.h"
#include "tests/helpers/inproc.h"
#include "tests/helpers/proctree.h"
#include "tests/helpers/serve_thread.h"
#include "workloads/body.h"
#include "workloads/workloads.h"

TestSuite(serve_models, .timeout = 120);

/* ---- a server in a thread of this process (tests/helpers/serve_thread.h) ---- */

/* Serves w (parameters: its defaults, then overrides, NULL-ended or NULL) with m;
 * does not wait for it to serve (server_ready). */
static void server_start(serve_thread *sv, const cb_model *m, const cb_workload *w, const char *const overrides[],
                         uint64_t max_conns, int64_t idle_ms) {
  serve_thread_start(sv, m, w, overrides, NULL, 0, max_conns, idle_ms);
}

/* 1 when the server closed fd (EOF or reset), waiting as long as it takes. */
static int closed_by_server(int fd) {
  char b;
  ssize_t r = recv(fd, &b, 1, 0);
  return r == 0 || (r < 0 && errno == ECONNRESET);
}

/* ---- echo: green and loop ---- */

#define MSG 1024 /* the echo workload's default message */

static void fill_msg(char *m, int conn, int round) {
  for (int k = 0; k < MSG; k++) m[k] = (char)('a' + (conn * 7 + round * 13 + k) % 26);
}

/* conns connections open at once, each echoing rounds messages; then stop with all
 * of them still open: the server returns, every client sees its connection closed.
 * idle_ms 0: no idle bound (stop alone ends the connections). */
static void echo_many(const cb_model *m, int64_t idle_ms, int conns, int rounds) {
  serve_thread sv;
  server_start(&sv, m, &cb_workload_echo, NULL, (uint64_t)conns + 10, idle_ms);
  cr_assert(serve_thread_ready(&sv), "%s: %s", m->name, sv.report.error);
  int *fds = calloc((size_t)conns, sizeof *fds);
  for (int c = 0; c < conns; c++) fds[c] = loopback_connect(sv.port);
  char out[MSG], in[MSG];
  for (int r = 0; r < rounds; r++) {
    for (int c = 0; c < conns; c++) {
      fill_msg(out, c, r);
      send_all(fds[c], out, MSG);
    }
    for (int c = 0; c < conns; c++) {
      fill_msg(out, c, r);
      cr_assert_eq(recv_all(fds[c], in, MSG), MSG, "%s: connection %d round %d: short echo", m->name, c, r);
      cr_assert(memcmp(in, out, MSG) == 0, "%s: connection %d round %d: wrong bytes", m->name, c, r);
    }
  }
  serve_thread_stop(&sv);
  cr_assert_eq(sv.rc, 0, "%s: serve returned %d: %s", m->name, sv.rc, sv.report.error);
  for (int c = 0; c < conns; c++) {
    cr_assert(closed_by_server(fds[c]), "%s: connection %d still open after stop", m->name, c);
    close(fds[c]);
  }
  free(fds);
  const cb_serve_totals *t = &sv.report.serve;
  uint64_t bytes = (uint64_t)conns * rounds * MSG;
  cr_expect_eq(t->counts.bytes_in, bytes, "%s: bytes in %llu", m->name, (unsigned long long)t->counts.bytes_in);
  cr_expect_eq(t->counts.bytes_out, bytes, "%s: bytes out %llu", m->name, (unsigned long long)t->counts.bytes_out);
  cr_expect_geq(t->counts.requests, (uint64_t)conns * rounds, "%s", m->name);
  cr_expect_eq(t->accepted, (uint64_t)conns, "%s: accepted %llu", m->name, (unsigned long long)t->accepted);
  cr_expect_eq(t->refused, 0, "%s", m->name);
  cr_expect_eq(t->peak_open, (uint64_t)conns, "%s: peak_open %llu", m->name, (unsigned long long)t->peak_open);
  cr_expect_eq(t->closed_idle, 0, "%s", m->name);
  cr_expect_geq(sv.report.created, (uint64_t)conns, "%s: created %llu", m->name, (unsigned long long)sv.report.created);
  cr_expect_eq(sv.report.concurrency, (uint64_t)conns + 10, "%s", m->name);
  cr_expect_str_empty(sv.report.error, "%s", m->name);
}

Test(serve_models, green_echo_many_connections) { echo_many(&cb_model_green, 0, 200, 3); }
Test(serve_models, loop_echo_many_connections) { echo_many(&cb_model_loop, 0, 200, 3); }
Test(serve_models, green_mn_echo_many_connections) { echo_many(&cb_model_green_mn, 0, 200, 3); }
Test(serve_models, green_serves_the_echo_workload) { echo_many(&cb_model_green, 30000, 200, 3); }
Test(serve_models, loop_serves_the_echo_workload) { echo_many(&cb_model_loop, 30000, 200, 3); }

/* max_conns open: the next connection is accepted and closed at once, counted
 * refused; the open ones still echo. */
static void refuses_beyond_max(const cb_model *m) {
  enum { MAX = 5 };
  serve_thread sv;
  server_start(&sv, m, &cb_workload_echo, NULL, MAX, 30000);
  cr_assert(serve_thread_ready(&sv));
  int fds[MAX];
  char out[MSG], in[MSG];
  fill_msg(out, 1, 1);
  for (int c = 0; c < MAX; c++) { /* each one served before the next arrives */
    fds[c] = loopback_connect(sv.port);
    send_all(fds[c], out, MSG);
    cr_assert_eq(recv_all(fds[c], in, MSG), MSG, "%s: connection %d", m->name, c);
  }
  int extra = loopback_connect(sv.port);
  cr_assert(closed_by_server(extra), "%s: the connection beyond max_conns was served", m->name);
  close(extra);
  send_all(fds[0], out, MSG);
  cr_assert_eq(recv_all(fds[0], in, MSG), MSG, "%s: an open connection stopped echoing", m->name);
  serve_thread_stop(&sv);
  for (int c = 0; c < MAX; c++) close(fds[c]);
  cr_expect_eq(sv.rc, 0, "%s: %s", m->name, sv.report.error);
  cr_expect_eq(sv.report.serve.refused, 1, "%s: refused %llu", m->name, (unsigned long long)sv.report.serve.refused);
  cr_expect_eq(sv.report.serve.accepted, MAX + 1, "%s: accepted %llu", m->name,
               (unsigned long long)sv.report.serve.accepted);
  cr_expect_eq(sv.report.serve.peak_open, MAX, "%s", m->name);
}

Test(serve_models, green_refuses_beyond_max_conns) { refuses_beyond_max(&cb_model_green); }
Test(serve_models, loop_refuses_beyond_max_conns) { refuses_beyond_max(&cb_model_loop); }

/* A connection that sends nothing for idle_ms is closed and counted; one that
 * talks is served meanwhile. */
static void closes_idle(const cb_model *m) {
  serve_thread sv;
  server_start(&sv, m, &cb_workload_echo, NULL, 10, 200);
  cr_assert(serve_thread_ready(&sv));
  int idle = loopback_connect(sv.port), busy = loopback_connect(sv.port);
  char out[MSG], in[MSG];
  fill_msg(out, 2, 2);
  send_all(busy, out, MSG);
  cr_assert_eq(recv_all(busy, in, MSG), MSG);
  cr_assert(closed_by_server(idle), "%s: the idle connection was not closed", m->name);
  serve_thread_stop(&sv);
  close(idle);
  close(busy);
  cr_expect_eq(sv.rc, 0, "%s: %s", m->name, sv.report.error);
  cr_expect_geq(sv.report.serve.closed_idle, 1, "%s", m->name);
  cr_expect_eq(sv.report.serve.accepted, 2, "%s", m->name);
}

Test(serve_models, green_closes_idle_connections) { closes_idle(&cb_model_green); }
Test(serve_models, loop_closes_idle_connections) { closes_idle(&cb_model_loop); }
Test(serve_models, green_mn_closes_idle_connections) { closes_idle(&cb_model_green_mn); }

/* Stop before any connection: the server returns at once, nothing accepted. */
static void stops_unused(const cb_model *m) {
  serve_thread sv;
  server_start(&sv, m, &cb_workload_echo, NULL, 10, 30000);
  cr_assert(serve_thread_ready(&sv));
  serve_thread_stop(&sv);
  cr_expect_eq(sv.rc, 0, "%s: %s", m->name, sv.report.error);
  cr_expect_eq(sv.report.serve.accepted, 0, "%s", m->name);
}

Test(serve_models, green_stops_unused) { stops_unused(&cb_model_green); }
Test(serve_models, loop_stops_unused) { stops_unused(&cb_model_loop); }
Test(serve_models, green_mn_stops_unused) { stops_unused(&cb_model_green_mn); }

/* The setsockopt hook: a green thread's read on a silent socket with SO_RCVTIMEO
 * ends with EAGAIN, as the kernel's would; a write-side timeout does not affect it. */
typedef struct rcvtimeo_case {
  int fd;
  ssize_t r;
  int err;
} rcvtimeo_case;

static void rcvtimeo_reader(void *p) {
  rcvtimeo_case *c = p;
  struct timeval tv = {0, 50000};
  cr_assert(setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
  char b;
  c->r = read(c->fd, &b, 1);
  c->err = errno;
}

Test(serve_models, green_read_honours_so_rcvtimeo) {
  int sp[2];
  cr_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
  cb_green_sched *s;
  cr_assert(cb_green_sched_new(0, &s) == 0);
  rcvtimeo_case c = {.fd = sp[0]};
  cr_assert(cb_green_spawn(s, rcvtimeo_reader, &c, NULL) == 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cb_green_sched_free(s);
  cr_expect_eq(c.r, -1);
  cr_expect_eq(c.err, EAGAIN, "errno %d (%s)", c.err, strerror(c.err));
  close(sp[0]);
  close(sp[1]);
}

/* ---- the serve workload (HTTP): green, loop and nginx ---- */

static int have_nginx(void) { return access("/usr/sbin/nginx", X_OK) == 0; }

/* One GET of the static reply's path over fd (keep-alive): 1 when the reply is 200
 * with a Content-Length of the body's size and exactly the body's bytes. */
static int get_static(int fd, const cb_static_reply *sr) {
  char req[512];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", sr->path);
  send_all(fd, req, (size_t)n);
  char head[4096];
  size_t have = 0;
  int end = 0;
  while (!end && have < sizeof head - 1) {
    if (recv(fd, head + have, 1, 0) != 1) return 0; /* a byte at a time: nothing of the body */
    head[++have] = 0;
    end = have >= 4 && memcmp(head + have - 4, "\r\n\r\n", 4) == 0;
  }
  const char *cl = strcasestr(head, "\r\nContent-Length: ");
  if (strncmp(head, "HTTP/1.1 200 ", 13) != 0 || !cl || strtoull(cl + 18, NULL, 10) != sr->bytes) return 0;
  char *body = malloc(sr->bytes + 1);
  int ok = recv_all(fd, body, sr->bytes) == sr->bytes;
  cb_body_check chk;
  cb_body_check_init(&chk, sr->seed);
  cb_body_check_feed(&chk, body, sr->bytes);
  free(body);
  return ok && chk.ok;
}

/* conns keep-alive connections, reqs requests each, replies checked; stop with the
 * connections open: every one is closed, the server counted every request. */
static void serve_http(const cb_model *m, int conns, int reqs) {
  serve_thread sv;
  server_start(&sv, m, &cb_workload_serve, NULL, 100, 30000);
  cr_assert(serve_thread_ready(&sv), "%s did not start: %s", m->name, sv.report.error);
  cb_static_reply sr;
  cr_assert(cb_workload_serve.static_reply(&sv.env, &sr) == 0);
  int *fds = calloc((size_t)conns, sizeof *fds);
  for (int c = 0; c < conns; c++) fds[c] = loopback_connect(sv.port);
  for (int r = 0; r < reqs; r++)
    for (int c = 0; c < conns; c++) cr_assert(get_static(fds[c], &sr), "%s: connection %d request %d: wrong reply", m->name, c, r);
  serve_thread_stop(&sv);
  cr_assert_eq(sv.rc, 0, "%s: serve returned %d: %s", m->name, sv.rc, sv.report.error);
  for (int c = 0; c < conns; c++) {
    cr_expect(closed_by_server(fds[c]), "%s: connection %d still open after stop", m->name, c);
    close(fds[c]);
  }
  free(fds);
  cr_expect_eq(sv.report.serve.counts.requests, (uint64_t)conns * reqs, "%s: requests %llu", m->name,
               (unsigned long long)sv.report.serve.counts.requests);
  cr_expect_eq(sv.report.serve.accepted, (uint64_t)conns, "%s: accepted %llu", m->name,
               (unsigned long long)sv.report.serve.accepted);
  cr_expect_eq(sv.report.serve.counts.bad_requests, 0, "%s", m->name);
  cr_expect_str_empty(sv.report.error, "%s", m->name);
}

Test(serve_models, green_serves_http) { serve_http(&cb_model_green, 50, 3); }
Test(serve_models, loop_serves_http) { serve_http(&cb_model_loop, 50, 3); }

/* ---- nginx, the reference ---- */

/* The nginx processes among this process's descendants (at most cap), and how
 * many descendants it has in all. */
static int descendants(pid_t *nginx, int cap, int *nnginx) {
  pid_t all[64];
  int n = proc_add_descendants(getpid(), all, 0, 64);
  *nnginx = 0;
  for (int i = 0; i < n; i++) {
    char comm[64];
    if (proc_stat(all[i], NULL, comm, sizeof comm) && strcmp(comm, "nginx") == 0 && *nnginx < cap)
      nginx[(*nnginx)++] = all[i];
  }
  return n;
}

/* nginx serves the serve workload's static reply; after stop no process is left
 * (the keeper, nginx's master and worker all reaped) and its usage is reported. */
Test(serve_models, nginx_serves_http_and_leaves_nothing) {
  if (!have_nginx()) cr_skip_test("no /usr/sbin/nginx: install nginx-light (scripts/deps.sh)");
  pid_t pids[4];
  int n;
  /* serve_http asserts the replies and counters; the processes are looked at here */
  serve_thread sv;
  server_start(&sv, &cb_model_nginx, &cb_workload_serve, NULL, 100, 30000);
  cr_assert(serve_thread_ready(&sv), "nginx did not start: %s", sv.report.error);
  cr_assert_eq(descendants(pids, 4, &n), 3, "the keeper, nginx's master and worker while serving");
  cr_assert_eq(n, 2);
  serve_thread_stop(&sv);
  cr_assert_eq(sv.rc, 0, "serve returned %d: %s", sv.rc, sv.report.error);
  for (int k = 0; k < 2; k++) cr_expect_not(proc_alive(pids[k]), "nginx (pid %d) outlived serve", (int)pids[k]);
  cr_expect_eq(descendants(pids, 4, &n), 0, "a process is left after serve");
  cr_expect_eq(sv.report.created, 2);
  cr_expect_gt(sv.report.child_max_rss_kb, 0, "nginx's usage is reported");
  serve_http(&cb_model_nginx, 20, 3);
}

/* The server process killed (SIGKILL) while nginx serves: nginx's master and
 * worker end too (the keeper stops them), nothing is left. */
Test(serve_models, nginx_ends_with_a_killed_server) {
  if (!have_nginx()) cr_skip_test("no /usr/sbin/nginx: install nginx-light (scripts/deps.sh)");
  int ready[2];
  cr_assert(pipe(ready) == 0);
  pid_t parent = getpid(), child = fork();
  if (child == 0) {
    if (cb_die_with_parent(parent) != 0) _exit(1); /* a failed test leaves no server */
    serve_thread sv;
    server_start(&sv, &cb_model_nginx, &cb_workload_serve, NULL, 100, 30000);
    char b = (char)serve_thread_ready(&sv);
    if (!b) fprintf(stderr, "nginx: %s\n", sv.report.error);
    if (write(ready[1], &b, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char ok = 0;
  cr_assert(read(ready[0], &ok, 1) == 1 && ok, "nginx did not start");
  pid_t all[16];
  int n = proc_add_descendants(getpid(), all, 0, 16);
  cr_assert_eq(n, 4, "the server, the keeper, nginx's master and worker: found %d", n);
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  for (int k = 0; k < n; k++) /* the suite's timeout catches one that never ends */
    while (proc_alive(all[k])) usleep(10000);
}

Test(serve_models, nginx_refuses_dynamic_replies_and_client_workloads) {
  serve_thread sv;
  server_start(&sv, &cb_model_nginx, &cb_workload_serve, (const char *const[]){"work_us=5", NULL}, 100, 30000);
  cr_expect_not(serve_thread_ready(&sv), "nginx served work_us=5");
  serve_thread_end(&sv);
  cr_expect_eq(sv.rc, -ENOTSUP, "rc %d", sv.rc);
  cr_expect_str_not_empty(sv.report.error);
  cr_expect(cb_model_nginx.reference);
  cb_run_report rep = {0};
  cb_run_spec spec = {.workload = &cb_workload_pow, .tasks = 1};
  cr_expect_eq(cb_model_nginx.run(&spec, &rep), -ENOTSUP);
}
