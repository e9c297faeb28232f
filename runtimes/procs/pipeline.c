/* pipeline.c — the pipeline under procs: per pipeline a source process, a process
 * per stage and a sink process (stages + 2 forks), consecutive ones joined by a pipe
 * carrying items as 8-byte records. A pipe's capacity is set with F_SETPIPE_SZ to
 * queue x 8 bytes, which the kernel rounds up to a power-of-two number of pages (at
 * least one: 512 items), within /proc/sys/fs/pipe-max-size; queue_items reports the
 * smallest capacity the pipes really got (F_GETPIPE_SZ / 8). A stage reads whatever
 * is in its pipe (up to 256 records), transforms those items and writes them on in
 * one write, as a Unix filter does; the source writes batches of 128. The sink
 * writes the fold and times into a shared anonymous mapping (so do the source's
 * latency stamps). C = 0 (or C >= N): every pipeline at once; otherwise at most C
 * pipelines have processes alive: the parent reaps them in the order they started
 * (by pid, never wait(-1): the caller's own children are not ours) and starts the
 * next once one is reaped whole. Every fork dies with its parent (cb_die_with_parent) and is reaped
 * with wait4 (its usage into the report); a unit that exits non-zero or by a signal
 * fails its pipeline; a fork or pipe that fails stops the model (-EAGAIN etc.): the
 * fds of that pipeline are closed, so its processes see EOF or EPIPE and end. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/child.h"
#include "runtimes/pipeline.h"

#define READ_RECS 256
#define SOURCE_BATCH 128

typedef struct shared_out {
  uint64_t result;
  int64_t start_ns, end_ns;
  int32_t done;
} shared_out;

typedef struct pipe_failure {
  uint64_t u;
  int st;
} pipe_failure;

typedef struct run_ctx {
  const cb_run_spec *spec;
  const cb_pipeline_spec *p;
  cb_run_report *report;
  cb__pipe_lat lat;
  shared_out *out; /* N, shared */
  size_t out_bytes;
  pid_t *pid;      /* N x (stages + 2); 0 once reaped */
  uint32_t *alive; /* per pipeline */
  uint8_t *bad;    /* per pipeline: 0 ok, 1 a unit failed as the echo of another's end, 2 of its own */
  struct pipe_failure *why; /* per pipeline: the unit that failed first in rank, its wait status */
  uint64_t next, forked, in_flight, queue_items;
  int rc;
  int launch_failed; /* the last launched pipeline is incomplete: its units' failures are echoes */
} run_ctx;

static int write_all(int fd, const void *buf, size_t len) {
  const char *b = buf;
  while (len > 0) {
    ssize_t w = write(fd, b, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    b += w;
    len -= (size_t)w;
  }
  return 0;
}

/* In a child: unit u of pipeline i (0 source, 1..S stage u-1, S+1 sink), reading
 * in (or -1), writing out (or -1). Exits 0 once its items have passed. */
static __attribute__((noreturn)) void unit_main(const run_ctx *c, uint64_t i, uint64_t u, int in, int out) {
  const cb_pipeline_spec *p = c->p;
  uint64_t n = p->items, S = p->stages, buf[READ_RECS];
  if (u == 0) {
    c->out[i].start_ns = cb_now_ns();
    for (uint64_t k = 0; k < n;) {
      uint64_t m = 0;
      for (; m < SOURCE_BATCH && k < n; m++, k++) {
        cb__pipe_stamp(&c->lat, i, k);
        buf[m] = p->source(p, i, k);
      }
      if (write_all(out, buf, m * sizeof *buf) != 0) _exit(3);
    }
    _exit(0);
  }
  uint64_t k = 0, acc = p->fold_init;
  size_t have = 0; /* bytes in buf */
  while (k < n) {
    ssize_t r = read(in, (char *)buf + have, sizeof buf - have);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) _exit(2); /* upstream gone before all items */
    have += (size_t)r;
    size_t m = have / sizeof *buf;
    if (m > n - k) _exit(4); /* more items than the source sends */
    if (u <= S) {
      for (size_t j = 0; j < m; j++) buf[j] = p->stage(p, u - 1, buf[j]);
      if (write_all(out, buf, m * sizeof *buf) != 0) _exit(3);
    } else {
      for (size_t j = 0; j < m; j++) {
        cb__pipe_arrive(&c->lat, i, k + j);
        acc = p->fold(acc, buf[j]);
      }
    }
    k += m;
    have -= m * sizeof *buf;
    memmove(buf, (char *)buf + m * sizeof *buf, have);
  }
  if (u > S) {
    c->out[i].result = acc;
    c->out[i].end_ns = cb_now_ns();
    c->out[i].done = 1;
  }
  _exit(0);
}

static void close_all(int (*fd)[2], uint64_t npipes) {
  for (uint64_t s = 0; s < npipes; s++)
    for (int e = 0; e < 2; e++)
      if (fd[s][e] >= 0) close(fd[s][e]);
}

/* Makes pipeline i's pipes and forks its units; the parent keeps none of the fds. */
static int launch(run_ctx *c) {
  uint64_t S = c->p->stages, i = c->next++, npipes = S + 1;
  int (*fd)[2] = malloc(npipes * sizeof *fd);
  if (!fd) return -ENOMEM;
  for (uint64_t s = 0; s < npipes; s++) fd[s][0] = fd[s][1] = -1;
  int rc = 0;
  for (uint64_t s = 0; s < npipes && rc == 0; s++) {
    if (pipe(fd[s]) != 0) {
      rc = -errno;
      break;
    }
    uint64_t want = c->p->queue * sizeof(uint64_t);
    (void)fcntl(fd[s][1], F_SETPIPE_SZ, (int)want); /* beyond pipe-max-size: the default stays */
    int got = fcntl(fd[s][1], F_GETPIPE_SZ);
    if (got > 0 && (c->queue_items == 0 || (uint64_t)got / sizeof(uint64_t) < c->queue_items))
      c->queue_items = (uint64_t)got / sizeof(uint64_t);
  }
  if (rc != 0) {
    cb_report_error(c->report, "procs: pipeline %llu: pipe: %s", (unsigned long long)i, strerror(-rc));
    close_all(fd, npipes);
    free(fd);
    return rc;
  }
  for (uint64_t u = 0; u < S + 2; u++) {
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
      rc = -errno;
      cb_report_error(c->report, "procs: pipeline %llu: fork failed: %s", (unsigned long long)i, strerror(errno));
      break;
    }
    if (pid == 0) {
      if (cb_die_with_parent(parent) != 0) _exit(127);
      int in = u > 0 ? fd[u - 1][0] : -1, out = u <= S ? fd[u][1] : -1;
      for (uint64_t s = 0; s < npipes; s++)
        for (int e = 0; e < 2; e++)
          if (fd[s][e] != in && fd[s][e] != out) close(fd[s][e]);
      unit_main(c, i, u, in, out);
    }
    c->pid[i * (S + 2) + u] = pid;
    c->alive[i]++;
    c->forked++;
  }
  close_all(fd, npipes);
  free(fd);
  if (c->alive[i]) c->in_flight++;
  if (rc != 0) c->launch_failed = 1;
  return rc;
}

static const char *unit_name(uint64_t u, uint64_t S) { return u == 0 ? "source" : u <= S ? "stage" : "sink"; }

/* Reaps every process of pipeline i (by pid: the caller may have children of its
 * own, e.g. a test's delayd), adds their usage and ranks their failures. */
static void reap_pipeline(run_ctx *c, uint64_t i) {
  uint64_t S = c->p->stages, per = S + 2;
  for (uint64_t u = 0; u < per; u++) {
    pid_t pid = c->pid[i * per + u], got;
    if (pid <= 0) continue;
    struct rusage ru;
    int st;
    do got = wait4(pid, &st, 0, &ru);
    while (got < 0 && errno == EINTR);
    c->pid[i * per + u] = 0;
    if (got != pid) { /* cannot happen: our own child */
      c->bad[i] = 2;
      c->why[i] = (pipe_failure){.u = u, .st = 127 << 8};
      continue;
    }
    cb_report_add_child(c->report, &ru);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      /* the cause outranks its echoes: a unit's death makes its neighbours see EOF
       * (exit 2) or EPIPE (SIGPIPE, exit 3) */
      int echo = WIFSIGNALED(st) ? WTERMSIG(st) == SIGPIPE : WEXITSTATUS(st) == 2 || WEXITSTATUS(st) == 3;
      uint8_t rank = echo ? 1 : 2;
      if (rank > c->bad[i]) {
        c->bad[i] = rank;
        c->why[i] = (pipe_failure){.u = u, .st = st};
      }
    }
  }
  if (c->alive[i]) {
    c->alive[i] = 0;
    c->in_flight--;
  }
}

int cb__procs_pipeline(const cb_run_spec *spec, const cb_pipeline_spec *p, cb_run_report *report) {
  report->concurrency = cb_spec_concurrency(spec);
  report->created_kind = "processes";
  int range = cb__pipeline_check_units(report, spec, p, "procs", "processes");
  if (range != 0) return range;
  uint64_t n = spec->tasks, per = p->stages + 2;
  run_ctx c = {.spec = spec, .p = p, .report = report};
  c.out_bytes = n * sizeof *c.out;
  void *m = mmap(NULL, c.out_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  c.out = m == MAP_FAILED ? NULL : m;
  c.pid = calloc(n * per, sizeof *c.pid);
  c.alive = calloc(n, sizeof *c.alive);
  c.bad = calloc(n, 1);
  c.why = calloc(n, sizeof *c.why);
  int rc = c.out && c.pid && c.alive && c.bad && c.why ? cb__pipe_lat_init(&c.lat, n, p->items, 1) : -ENOMEM;
  if (rc != 0) {
    cb_report_error(report, "procs: out of memory for %llu pipelines", (unsigned long long)n);
  } else {
    int64_t t0 = cb_now_ns();
    /* Pipelines are reaped in the order they started: all have the same shape, so
     * that is about the order they end in, and only our own pids are waited for. */
    uint64_t reaped = 0;
    while (c.next < n && c.rc == 0) {
      if (c.in_flight < report->concurrency) c.rc = launch(&c);
      else reap_pipeline(&c, reaped++);
    }
    while (reaped < c.next) reap_pipeline(&c, reaped++); /* the rest, or what a failure left */
    int64_t t1 = cb_now_ns();
    for (uint64_t i = 0; i < c.next; i++) {
      cb_job_record *rec = &report->jobs[i];
      int incomplete = c.launch_failed && i + 1 == c.next; /* its error is reported */
      if (c.bad[i] && !incomplete) {
        int st = c.why[i].st;
        uint64_t u = c.why[i].u;
        if (WIFSIGNALED(st))
          cb_report_error(report, "procs: pipeline %llu: %s process %llu killed by signal %d", (unsigned long long)i,
                          unit_name(u, p->stages), (unsigned long long)u, WTERMSIG(st));
        else
          cb_report_error(report, "procs: pipeline %llu: %s process %llu exited with %d", (unsigned long long)i,
                          unit_name(u, p->stages), (unsigned long long)u, WEXITSTATUS(st));
      }
      if (incomplete) c.bad[i] = 1;
      rec->start_ns = c.out[i].start_ns ? c.out[i].start_ns : t0;
      rec->end_ns = c.out[i].done ? c.out[i].end_ns : t1;
      rec->result = c.out[i].result;
      if (c.bad[i] || !c.out[i].done) rec->status = -EIO;
      rec->done = 1;
    }
    report->created = c.forked;
    rc = c.rc;
    if (rc == 0) cb__pipeline_report(report, spec, p, &c.lat, t0, t1, c.queue_items);
  }
  if (c.out) munmap(c.out, c.out_bytes);
  cb__pipe_lat_free(&c.lat);
  free(c.pid);
  free(c.alive);
  free(c.bad);
  free(c.why);
  return rc;
}
