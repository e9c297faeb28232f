/* serve_cell.c — a server workload's cell (docs/DESIGN.md "Servers").
 *
 *   cell ──fork──► server process: model->serve(listen_fd, stop_fd), pinned to every
 *   │              CPU of the cell but the last; says ready, and at the end writes its
 *   │              report on a pipe
 *   ├─fork+exec──► bin/loadgen on the last CPU, against 127.0.0.1:PORT
 *   └─ waits for the generator, tells the server to stop (a byte on stop_fd), reads
 *      its report, reaps it (wait4: the server's CPU and memory, its forked workers
 *      and nginx included) and prints one record.
 *
 * With one CPU both share it, and the record says so (server_cpus, generator_cpus).
 * Verified: the generator checked every reply and lost none, the server answered at
 * least the requests the generator checked, refused no request as malformed, and
 * stopped when told. A server killed by a signal ends the cell by the same signal,
 * after its record is printed: the bench files it as a crash. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/check.h"
#include "common/child.h"
#include "common/clock.h"
#include "common/util.h"
#include "harness/run/cell_int.h"
#include "harness/run/loadgen_child.h"

#define READY_WAIT_MS 30000 /* the model's setup (forked workers, nginx's start) */
#define STOP_WAIT_MS 15000  /* from the stop byte to the server's report */
#define REAP_WAIT_MS 5000   /* from its report to its exit */

/* What the server process sends back when serve returned. */
typedef struct server_result {
  int rc;
  long self_max_rss_kb;
  cb_run_report report; /* jobs unused; created_kind points into the shared binary */
} server_result;

typedef struct server_proc {
  pid_t pid;
  int stop_wr, ready_rd, result_rd;
  server_result res;
  int have_result;
  int exited, code; /* how it ended: exit code, or the signal when !exited */
  int killed;       /* by the cell, for not stopping */
  struct rusage ru;
} server_proc;

/* ---- CPUs: the server on all but the last of the cell's, the generator on the last ---- */

static void cpu_list(const cpu_set_t *set, char *out, size_t cap) {
  size_t used = 0;
  out[0] = '\0';
  for (int c = 0; c < CPU_SETSIZE; c++) {
    if (!CPU_ISSET(c, set)) continue;
    int last = c;
    while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, set)) last++;
    used += (size_t)snprintf(out + used, used < cap ? cap - used : 0, "%s%d", used ? "," : "", c);
    if (last > c) used += (size_t)snprintf(out + used, used < cap ? cap - used : 0, "-%d", last);
    c = last;
  }
}

static void split_cpus(cpu_set_t *server, cpu_set_t *gen) {
  cpu_set_t all;
  CPU_ZERO(&all);
  CB_CHECK(sched_getaffinity(0, sizeof all, &all) == 0);
  *server = all;
  CPU_ZERO(gen);
  int n = CPU_COUNT(&all), last = -1;
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &all)) last = c;
  CB_CHECK(last >= 0);
  CPU_SET(last, gen);
  if (n >= 2) CPU_CLR(last, server);
}

/* ---- the listening socket and the server process ---- */

static int listen_loopback(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 65535) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
    int e = -errno;
    close(fd);
    return e;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

static int64_t connections_bound(uint64_t conns) { return (int64_t)(2 * conns + 64); }
#define IDLE_MS 30000 /* longer than any generator timeout: only abandoned connections reach it */

static __attribute__((noreturn)) void server_main(const cb_cell *cell, const cb_job_env *env, int listen_fd,
                                                   int stop_rd, int ready_wr, int result_wr, const cpu_set_t *cpus) {
  sched_setaffinity(0, sizeof *cpus, cpus);
  cb_serve_spec spec = {.workload = cell->workload, .env = env, .listen_fd = listen_fd, .stop_fd = stop_rd,
                        .concurrency = cell->concurrency, .max_conns = (uint64_t)connections_bound(cell->tasks),
                        .idle_ms = IDLE_MS, .stack_size = cell->stack_size, .ready_fd = ready_wr,
                        .model_params = cell->model_params};
  server_result r;
  memset(&r, 0, sizeof r); /* padding included: the whole struct goes down the pipe */
  r.rc = cell->model->serve(&spec, &r.report);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  r.self_max_rss_kb = ru.ru_maxrss;
  r.report.jobs = NULL;
  ssize_t w = write(result_wr, &r, sizeof r); /* under PIPE_BUF: one piece */
  _exit(w == (ssize_t)sizeof r ? 0 : 1);
}

static int server_start(server_proc *sp, const cb_cell *cell, const cb_job_env *env, int listen_fd,
                        const cpu_set_t *cpus, char *err, size_t errlen) {
  int stop[2], ready[2], result[2];
  CB_CHECK(sizeof(server_result) <= PIPE_BUF);
  if (pipe2(stop, O_CLOEXEC) != 0 || pipe2(ready, O_CLOEXEC) != 0 || pipe2(result, O_CLOEXEC) != 0) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    return -errno;
  }
  fflush(NULL);
  pid_t parent = getpid();
  sp->pid = fork();
  if (sp->pid == 0) {
    if (cb_die_with_parent(parent) != 0) _exit(127);
    close(stop[1]), close(ready[0]), close(result[0]);
    server_main(cell, env, listen_fd, stop[0], ready[1], result[1], cpus);
  }
  int e = errno;
  close(stop[0]), close(ready[1]), close(result[1]);
  sp->stop_wr = stop[1], sp->ready_rd = ready[0], sp->result_rd = result[0];
  if (sp->pid < 0) {
    snprintf(err, errlen, "cannot fork the server: %s", strerror(e));
    return -e;
  }
  return 0;
}

/* Reads the server's report if it is there within ms (it ended serve). */
static void server_read_result(server_proc *sp, int ms) {
  struct pollfd p = {.fd = sp->result_rd, .events = POLLIN};
  int n;
  while ((n = poll(&p, 1, ms)) < 0 && errno == EINTR) {
  }
  if (n == 1 && read(sp->result_rd, &sp->res, sizeof sp->res) == (ssize_t)sizeof sp->res) sp->have_result = 1;
}

/* 1 once the model said it serves, 0 when serve returned (or the process ended) first. */
static int server_wait_ready(server_proc *sp) {
  struct pollfd p[2] = {{.fd = sp->ready_rd, .events = POLLIN}, {.fd = sp->result_rd, .events = POLLIN}};
  int n;
  while ((n = poll(p, 2, READY_WAIT_MS)) < 0 && errno == EINTR) {
  }
  char b;
  if (n > 0 && (p[0].revents & POLLIN) && read(sp->ready_rd, &b, 1) == 1) return 1;
  if (n > 0) server_read_result(sp, 0);
  return 0;
}

/* Reaps the server within ms, else kills it (and says so in err). */
static void server_reap(server_proc *sp, int ms, char *err, size_t errlen) {
  int status = 0;
  int64_t deadline = cb_now_ns() + (int64_t)ms * 1000000;
  for (;;) {
    pid_t r = wait4(sp->pid, &status, WNOHANG, &sp->ru);
    if (r == sp->pid) break;
    if (r < 0 && errno != EINTR) break;
    if (r == 0 && cb_now_ns() > deadline) {
      if (!err[0]) snprintf(err, errlen, "the server did not stop within %d s of being told to: killed", ms / 1000);
      kill(sp->pid, SIGKILL);
      sp->killed = 1;
      while (wait4(sp->pid, &status, 0, &sp->ru) < 0 && errno == EINTR) {
      }
      break;
    }
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  sp->exited = WIFEXITED(status);
  sp->code = sp->exited ? WEXITSTATUS(status) : WIFSIGNALED(status) ? WTERMSIG(status) : -1;
  close(sp->stop_wr), close(sp->ready_rd), close(sp->result_rd);
}

static void server_stop(server_proc *sp, char *err, size_t errlen) {
  char b = 1;
  if (write(sp->stop_wr, &b, 1) != 1) { /* it is gone already; reaping tells how */
  }
  server_read_result(sp, STOP_WAIT_MS);
  if (!sp->have_result && !err[0])
    snprintf(err, errlen, "the server sent no report within %d s of being told to stop", STOP_WAIT_MS / 1000);
  server_reap(sp, sp->have_result ? REAP_WAIT_MS : 0, err, errlen);
}

/* ---- the generator's arguments ---- */

typedef struct gen_args {
  char *argv[24 + CB_LOADGEN_ARGS_MAX];
  char nums[8][64];
  char wl[CB_LOADGEN_ARGS_MAX][CB_LOADGEN_ARG_LEN];
} gen_args;

/* target: HOST:PORT of the server. */
static void make_gen_args(gen_args *g, const cb_cell *cell, const cb_job_env *env, const char *target) {
  int n = 0;
  snprintf(g->nums[0], 64, "%s", target);
  snprintf(g->nums[1], 64, "%llu", (unsigned long long)cell->tasks);
  snprintf(g->nums[2], 64, "%lld", (long long)cb_param(env, "rate"));
  snprintf(g->nums[3], 64, "%.3f", cb_param(env, "duration_ms") / 1000.0);
  snprintf(g->nums[4], 64, "%.3f", cb_param(env, "warmup_ms") / 1000.0);
  snprintf(g->nums[5], 64, "%lld", (long long)cb_param(env, "timeout_ms"));
  g->argv[n++] = "--connect", g->argv[n++] = g->nums[0];
  g->argv[n++] = "--connections", g->argv[n++] = g->nums[1];
  if (cb_param(env, "rate") > 0) g->argv[n++] = "--rate", g->argv[n++] = g->nums[2];
  g->argv[n++] = "--duration", g->argv[n++] = g->nums[3];
  g->argv[n++] = "--warmup", g->argv[n++] = g->nums[4];
  g->argv[n++] = "--timeout-ms", g->argv[n++] = g->nums[5];
  if (cell->allow_remote) g->argv[n++] = "--allow-remote";
  char *wargv[CB_LOADGEN_ARGS_MAX];
  int m = cell->workload->loadgen_args(env, wargv, g->wl);
  CB_CHECK(m >= 0 && m <= CB_LOADGEN_ARGS_MAX);
  for (int k = 0; k < m; k++) g->argv[n++] = wargv[k];
  g->argv[n] = NULL;
}

/* How long the generator may take: its window, warm-up and drain, connecting. */
static double gen_limit_s(const cb_cell *cell, const cb_job_env *env) {
  return (cb_param(env, "duration_ms") + cb_param(env, "warmup_ms") + 3 * cb_param(env, "timeout_ms")) / 1000.0 +
         30.0 + (double)cell->tasks / 500.0;
}

/* ---- the record ---- */

static void set(json_t *o, cb_run_key k, json_t *value) { cb_run_record_set(o, k, value); }

static json_t *gen_get(const cb_loadgen_child *lg, const char *key) { return json_object_get(lg->result, key); }
static json_int_t gen_int(const cb_loadgen_child *lg, const char *key) { return json_integer_value(gen_get(lg, key)); }
static double gen_num(const cb_loadgen_child *lg, const char *key) { return json_number_value(gen_get(lg, key)); }

static json_t *gen_copy(const cb_loadgen_child *lg, const char *key, json_t *otherwise) {
  json_t *v = gen_get(lg, key);
  if (!v) return otherwise;
  json_decref(otherwise);
  return json_deep_copy(v);
}

static int resource_errno(int rc) { return rc == -EMFILE || rc == -ENFILE || rc == -ENOMEM || rc == -EAGAIN; }

/* sp: the server process, or NULL when the server runs elsewhere (--target): then
 * only the generator's checks decide, and the server's own figures are zero. */
static int emit_record(const cb_cell *cell, const cb_job_env *env, const server_proc *sp_or_null, const cb_loadgen_child *lg,
                       const char *server_cpus, const char *gen_cpus, const char *err_in) {
  static const server_proc remote = {.have_result = 1, .exited = 1};
  const server_proc *sp = sp_or_null ? sp_or_null : &remote;
  const cb_run_report *rep = &sp->res.report;
  const cb_serve_totals *t = &rep->serve;
  char err[512];
  snprintf(err, sizeof err, "%s", err_in);
  int gen_ok = lg->result && lg->exited && lg->code == CB_EXIT_OK && json_is_true(gen_get(lg, "verified"));
  uint64_t total_ok = (uint64_t)gen_int(lg, "total_ok");
  int crashed = !sp->exited && !sp->killed && sp->code > 0;
  if (crashed)
    snprintf(err, sizeof err, "the server process was killed by signal %d (%s)", sp->code, strsignal(sp->code));
  else if (!err[0] && sp->have_result && sp->res.rc != 0)
    snprintf(err, sizeof err, "%s", rep->error[0] ? rep->error : strerror(-sp->res.rc));
  else if (!err[0] && !lg->result)
    snprintf(err, sizeof err, "loadgen ended without its record (%s %d)", lg->exited ? "exit" : "signal", lg->code);
  else if (!err[0] && !gen_ok)
    snprintf(err, sizeof err, "loadgen: %s", json_string_value(gen_get(lg, "error")) ? json_string_value(gen_get(lg, "error"))
                                                                                        : "the replies did not verify");
  else if (!err[0] && sp_or_null && t->counts.requests < total_ok)
    snprintf(err, sizeof err, "the server counted %llu requests answered, the generator checked %llu",
             (unsigned long long)t->counts.requests, (unsigned long long)total_ok);
  else if (!err[0] && t->counts.bad_requests > 0)
    snprintf(err, sizeof err, "the server refused %llu request(s) as malformed",
             (unsigned long long)t->counts.bad_requests);
  int ok = !err[0] && sp->have_result;
  if (!ok && !err[0]) snprintf(err, sizeof err, "the server sent no report");
  cb_class cls = ok                                                         ? CB_CLASS_OK
                 : (sp->have_result && resource_errno(sp->res.rc)) ||
                           (lg->exited && lg->code == CB_EXIT_RESOURCE)     ? CB_CLASS_RESOURCE_LIMIT
                 : gen_int(lg, "wrong") > 0                                 ? CB_CLASS_WRONG_RESULT
                                                                            : CB_CLASS_JOB_FAILED;
  double window = gen_num(lg, "duration_s");
  json_t *o = json_object();
  set(o, CB_KEY_model, json_string(cell->model->name));
  set(o, CB_KEY_workload, json_string(cell->workload->name));
  set(o, CB_KEY_kind, json_string(cb_kind_name(cell->workload->kind)));
  set(o, CB_KEY_tasks, json_integer((json_int_t)cell->tasks));
  set(o, CB_KEY_concurrency, json_integer((json_int_t)rep->concurrency));
  set(o, CB_KEY_params, cb__params_json(cell->workload, env->params));
  set(o, CB_KEY_wall_s, ok ? json_real(window) : json_null());
  if (!ok) set(o, CB_KEY_failed_after_s, json_real(lg->ran_s));
  set(o, CB_KEY_last_start_s, json_null());
  set(o, CB_KEY_user_s, json_real(cb__tv_s(sp->ru.ru_utime)));
  set(o, CB_KEY_sys_s, json_real(cb__tv_s(sp->ru.ru_stime)));
  long self = sp->res.self_max_rss_kb;
  set(o, CB_KEY_max_rss_kb, json_integer(self > rep->child_max_rss_kb ? self : rep->child_max_rss_kb));
  set(o, CB_KEY_tree_rss_kb, json_integer(self + rep->child_rss_sum_kb));
  set(o, CB_KEY_ctx_voluntary, json_integer(sp->ru.ru_nvcsw));
  set(o, CB_KEY_ctx_involuntary, json_integer(sp->ru.ru_nivcsw));
  set(o, CB_KEY_created, json_integer((json_int_t)rep->created));
  set(o, CB_KEY_created_kind, json_string(rep->created_kind ? rep->created_kind : ""));
  set(o, CB_KEY_jobs_ok, json_integer((json_int_t)total_ok));
  set(o, CB_KEY_jobs_failed, json_integer(gen_int(lg, "errors") + gen_int(lg, "timeouts")));
  set(o, CB_KEY_jobs_wrong, json_integer(gen_int(lg, "wrong")));
  set(o, CB_KEY_latency_ms, gen_copy(lg, "latency_ms", json_object()));
  set(o, CB_KEY_checksum, gen_copy(lg, "checksum", json_string("0000000000000000")));
  set(o, CB_KEY_expected_checksum, gen_copy(lg, "expected_checksum", json_string("0000000000000000")));
  set(o, CB_KEY_mode, json_string(cb_param(env, "rate") > 0 ? "open" : "closed"));
  set(o, CB_KEY_rate, cb_param(env, "rate") > 0 ? json_real((double)cb_param(env, "rate")) : json_null());
  set(o, CB_KEY_req_per_s, ok ? json_real(gen_num(lg, "req_per_s")) : json_null());
  set(o, CB_KEY_latency_uncorrected_ms, gen_copy(lg, "latency_uncorrected_ms", json_object()));
  set(o, CB_KEY_timeouts, json_integer(gen_int(lg, "timeouts")));
  set(o, CB_KEY_generator_cpu, json_real(gen_num(lg, "generator_cpu")));
  set(o, CB_KEY_generator_bound, json_boolean(json_is_true(gen_get(lg, "generator_bound"))));
  set(o, CB_KEY_server_cpus, json_string(server_cpus));
  set(o, CB_KEY_generator_cpus, json_string(gen_cpus));
  set(o, CB_KEY_served, json_pack("{sI sI sI sI sI sI}", "accepted", (json_int_t)t->accepted, "refused",
                                  (json_int_t)t->refused, "closed_idle", (json_int_t)t->closed_idle, "peak_open",
                                  (json_int_t)t->peak_open, "requests", (json_int_t)t->counts.requests,
                                  "bad_requests", (json_int_t)t->counts.bad_requests));
  set(o, CB_KEY_verified, json_boolean(ok));
  set(o, CB_KEY_error, ok ? json_null() : json_string(err));
  set(o, CB_KEY_error_class, json_string(cb_class_name(cls)));
  char why[160];
  if (cb_run_record_check(o, CB_RECORD_SERVER | (ok ? 0 : CB_RECORD_FAILED), NULL, 0, why, sizeof why) != 0) {
    fprintf(stderr, "concbench run: the record disagrees with record.h: %s\n", why);
    CB_CHECK(!"run record as listed in harness/run/record.h");
  }
  cb__cell_emit(cell, o);
  json_decref(o);
  if (!ok) fprintf(stderr, "concbench run: %s\n", err);
  if (crashed) { /* end as the server did, so the bench files a crash */
    signal(sp->code, SIG_DFL);
    raise(sp->code);
    _exit(128 + sp->code);
  }
  return ok ? CB_EXIT_OK : cb_classes[cls].exit;
}

/* --target: the generator alone, against a server on HOST:PORT (concbench serve). */
static int load_remote(const cb_cell *cell, const cb_job_env *env) {
  cpu_set_t all;
  CB_CHECK(sched_getaffinity(0, sizeof all, &all) == 0);
  char gen_cpus[128], err[512] = "";
  cpu_list(&all, gen_cpus, sizeof gen_cpus);
  gen_args g;
  make_gen_args(&g, cell, env, cell->target);
  cb_loadgen_child lg;
  if (cb_loadgen_child_start(&lg, g.argv, &all, err, sizeof err) != 0) {
    fprintf(stderr, "concbench run: %s\n", err);
    return CB_EXIT_USAGE;
  }
  cb_loadgen_child_wait(&lg, gen_limit_s(cell, env), 0);
  if (!lg.exited && lg.code == SIGKILL)
    snprintf(err, sizeof err, "loadgen did not end within %.0f s: killed", gen_limit_s(cell, env));
  int code = emit_record(cell, env, NULL, &lg, "remote", gen_cpus, err);
  cb_loadgen_child_free(&lg);
  return code;
}

/* serve returned before it served: unsupported, a size beyond the model, or it gave out. */
static int early_end(const cb_cell *cell, const server_proc *sp) {
  if (!sp->have_result) {
    fprintf(stderr, "concbench run: the server process ended before it served (%s %d)\n",
            sp->exited ? "exit" : "signal", sp->code);
    return CB_EXIT_FAILED;
  }
  int rc = sp->res.rc;
  if (rc == -ENOTSUP) {
    fprintf(stderr, "concbench run: --model: workload %s has no version for model %s%s%s\n", cell->workload->name,
            cell->model->name, sp->res.report.error[0] ? ": " : "", sp->res.report.error);
    return CB_EXIT_UNSUPPORTED;
  }
  fprintf(stderr, "concbench run: %s\n", sp->res.report.error[0] ? sp->res.report.error : strerror(rc ? -rc : EPROTO));
  return rc == -ERANGE ? CB_EXIT_USAGE : resource_errno(rc) ? CB_EXIT_RESOURCE : CB_EXIT_FAILED;
}

int cb__serve_cell_run(const cb_cell *cell, const cb_job_env *env) {
  if (cell->target) return load_remote(cell, env);
  const cb_model *m = cell->model;
  if (!m->serve) {
    fprintf(stderr, "concbench run: --model: workload %s has no version for model %s (not a server)\n",
            cell->workload->name, m->name);
    return CB_EXIT_UNSUPPORTED;
  }
  signal(SIGPIPE, SIG_IGN); /* the stop byte to a server that died must not end the cell */
  cpu_set_t server_set, gen_set;
  split_cpus(&server_set, &gen_set);
  char server_cpus[128], gen_cpus[128], err[512] = "";
  cpu_list(&server_set, server_cpus, sizeof server_cpus);
  cpu_list(&gen_set, gen_cpus, sizeof gen_cpus);
  int port = 0, listen_fd = listen_loopback(&port);
  if (listen_fd < 0) {
    fprintf(stderr, "concbench run: cannot listen on 127.0.0.1: %s\n", strerror(-listen_fd));
    return CB_EXIT_RESOURCE;
  }
  server_proc sp = {0};
  if (server_start(&sp, cell, env, listen_fd, &server_set, err, sizeof err) != 0) {
    fprintf(stderr, "concbench run: %s\n", err);
    close(listen_fd);
    return CB_EXIT_RESOURCE;
  }
  if (!server_wait_ready(&sp)) {
    server_reap(&sp, sp.have_result ? REAP_WAIT_MS : 0, err, sizeof err);
    close(listen_fd);
    return early_end(cell, &sp);
  }
  gen_args g;
  char target[64];
  snprintf(target, sizeof target, "127.0.0.1:%d", port);
  make_gen_args(&g, cell, env, target);
  cb_loadgen_child lg;
  if (cb_loadgen_child_start(&lg, g.argv, &gen_set, err, sizeof err) != 0) {
    fprintf(stderr, "concbench run: %s\n", err);
    server_stop(&sp, err, sizeof err);
    close(listen_fd);
    return CB_EXIT_USAGE;
  }
  /* A server that dies under load stops the generator at once. */
  if (cb_loadgen_child_wait(&lg, gen_limit_s(cell, env), sp.pid))
    snprintf(err, sizeof err, "the server process ended during the load");
  else if (!lg.exited && lg.code == SIGKILL)
    snprintf(err, sizeof err, "loadgen did not end within %.0f s: killed", gen_limit_s(cell, env));
  server_stop(&sp, err, sizeof err);
  close(listen_fd);
  int code = emit_record(cell, env, &sp, &lg, server_cpus, gen_cpus, err);
  cb_loadgen_child_free(&lg);
  return code;
}
