/* procs.c — fork(): one child process per job (C = 0), or a pool of C worker
 * processes pulling job indices from a task pipe. Every result comes back to the
 * parent over one result pipe as a fixed-size record (atomic: <= PIPE_BUF), the
 * parent reaps every child with wait4() and sums their resource usage.
 * A fork that fails (EAGAIN: RLIMIT_NPROC, memory) stops the model with the reason;
 * children already started are still collected and reaped. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/check.h"
#include "common/child.h"
#include "runtimes/coord.h"
#include "runtimes/models.h"
#include "runtimes/pipeline.h"
#include "runtimes/runtime.h"

typedef struct wire_record {
  uint64_t index, result;
  int64_t start_ns, end_ns;
  int32_t status;
  char err[CB_ERR_LEN];
} wire_record;

_Static_assert(sizeof(wire_record) <= PIPE_BUF, "records must be written atomically");

typedef struct procs_ctx {
  const cb_run_spec *spec;
  cb_run_report *report;
  pid_t *pids;
  uint64_t npids;
  int result_rd, result_wr;
  int task_rd, task_wr; /* pool mode only, else -1 */
} procs_ctx;

static int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -errno;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

/* In a child: run job i and send its record. */
static void child_run_job(const cb_run_spec *spec, uint64_t i, int result_wr) {
  wire_record rec = {.index = i};
  rec.start_ns = cb_now_ns();
  rec.status = spec->workload->job(spec->env, i, &rec.result, rec.err);
  rec.end_ns = cb_now_ns();
  if (write_all(result_wr, &rec, sizeof rec) != 0) _exit(3);
}

static void child_pool_worker(const procs_ctx *c) {
  uint64_t i;
  for (;;) {
    ssize_t r = read(c->task_rd, &i, sizeof i);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return;
    if (r != (ssize_t)sizeof i) _exit(4);
    child_run_job(c->spec, i, c->result_wr);
  }
}

/* Forks one child; in the child runs either job `job` or the pool loop, then _exit. */
static int spawn_child(procs_ctx *c, uint64_t job, int pool_mode) {
  pid_t parent = getpid(), pid = fork();
  if (pid < 0) return -errno;
  if (pid == 0) {
    if (cb_die_with_parent(parent) != 0) _exit(127);
    close(c->result_rd);
    if (c->task_wr >= 0) close(c->task_wr);
    if (pool_mode) child_pool_worker(c);
    else child_run_job(c->spec, job, c->result_wr);
    _exit(0);
  }
  c->pids[c->npids++] = pid;
  return 0;
}

static void accept_record(procs_ctx *c, const wire_record *w) {
  CB_CHECK(w->index < c->spec->tasks);
  cb_job_record *rec = &c->report->jobs[w->index];
  rec->result = w->result;
  rec->start_ns = w->start_ns;
  rec->end_ns = w->end_ns;
  rec->status = w->status;
  rec->done = 1;
  if (w->status != 0)
    cb_report_error(c->report, "job %llu: %s", (unsigned long long)w->index,
                    w->err[0] ? w->err : strerror(-w->status));
}

/* Reads records until every writer has exited (EOF), feeding task indices to the
 * pool as the task pipe accepts them. */
static void collect(procs_ctx *c) {
  char buf[64 * sizeof(wire_record)];
  size_t have = 0;
  uint64_t next_task = 0;
  for (;;) {
    struct pollfd pf[2] = {{.fd = c->result_rd, .events = POLLIN},
                           {.fd = c->task_wr, .events = POLLOUT}};
    int n = poll(pf, c->task_wr >= 0 ? 2 : 1, -1);
    if (n < 0 && errno == EINTR) continue;
    CB_CHECK(n > 0);
    if (c->task_wr >= 0 && (pf[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      while (next_task < c->spec->tasks) {
        ssize_t w = write(c->task_wr, &next_task, sizeof next_task);
        if (w < 0) break; /* EAGAIN: full; EPIPE: every worker is gone */
        CB_CHECK(w == (ssize_t)sizeof next_task);
        next_task++;
      }
      if (next_task == c->spec->tasks || !(pf[1].revents & POLLOUT)) {
        close(c->task_wr);
        c->task_wr = -1;
      }
    }
    if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = read(c->result_rd, buf + have, sizeof buf - have);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return;
      have += (size_t)r;
      size_t off = 0;
      for (; have - off >= sizeof(wire_record); off += sizeof(wire_record)) {
        wire_record w;
        memcpy(&w, buf + off, sizeof w);
        accept_record(c, &w);
      }
      memmove(buf, buf + off, have - off);
      have -= off;
    }
  }
}

static void reap_all(procs_ctx *c) {
  cb_run_report *rep = c->report;
  for (uint64_t k = 0; k < c->npids; k++) {
    int status;
    struct rusage ru;
    pid_t r;
    do r = wait4(c->pids[k], &status, 0, &ru);
    while (r < 0 && errno == EINTR);
    CB_CHECK(r == c->pids[k]);
    cb_report_add_child(rep, &ru);
    if (WIFSIGNALED(status))
      cb_report_error(rep, "procs: child %d killed by signal %d (%s)", (int)c->pids[k],
                      WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (WEXITSTATUS(status) != 0)
      cb_report_error(rep, "procs: child %d exited with status %d", (int)c->pids[k],
                      WEXITSTATUS(status));
  }
}

static int procs_run(const cb_run_spec *spec, cb_run_report *report) {
  report->concurrency = cb_spec_concurrency(spec);
  int pool_mode = spec->concurrency != 0 && spec->concurrency < spec->tasks;
  uint64_t want = pool_mode ? spec->concurrency : spec->tasks;
  procs_ctx c = {.spec = spec, .report = report, .task_rd = -1, .task_wr = -1};
  c.pids = calloc(want, sizeof *c.pids);
  int rp[2], tp[2] = {-1, -1};
  if (!c.pids || pipe2(rp, O_CLOEXEC) != 0 || (pool_mode && pipe2(tp, O_CLOEXEC) != 0)) {
    cb_report_error(report, "procs: cannot set up pipes: %s", strerror(errno));
    free(c.pids);
    return -EMFILE;
  }
  c.result_rd = rp[0];
  c.result_wr = rp[1];
  c.task_rd = tp[0];
  c.task_wr = tp[1];
  /* A pool worker that dies must not kill the parent with SIGPIPE. */
  struct sigaction ign = {.sa_handler = SIG_IGN}, old;
  sigaction(SIGPIPE, &ign, &old);

  int rc = 0;
  for (uint64_t k = 0; k < want; k++) {
    rc = spawn_child(&c, k, pool_mode);
    if (rc != 0) {
      cb_report_error(report, "procs: fork failed for process %llu of %llu: %s",
                      (unsigned long long)k + 1, (unsigned long long)want, strerror(-rc));
      break;
    }
  }
  close(c.result_wr);
  if (c.task_rd >= 0) close(c.task_rd);
  if (c.task_wr >= 0) CB_CHECK(fcntl(c.task_wr, F_SETFL, O_NONBLOCK) == 0);
  if (c.npids > 0) collect(&c);
  if (c.task_wr >= 0) close(c.task_wr);
  close(c.result_rd);
  reap_all(&c);
  sigaction(SIGPIPE, &old, NULL);
  report->created = c.npids;
  report->created_kind = "processes";
  free(c.pids);
  return rc;
}

int cb__procs_serve(const cb_serve_spec *spec, cb_run_report *report); /* serve.c */

const cb_model cb_model_procs = {
    .name = "procs",
    .summary = "a fork()ed process per job, or a pool of C worker processes",
    .run = procs_run,
    .pingpong = cb__procs_pingpong,
    .spawn_tree = cb__procs_spawn_tree,
    .pipeline = cb__procs_pipeline,
    .serve = cb__procs_serve,
};
