/* serve.c — the procs model as a server (cb_model.serve, runtimes/runtime.h).
 *
 * C > 0: C pre-forked workers (Apache prefork), each accepting on the shared
 * listening socket and serving one connection at a time; each has a watcher thread
 * that shuts its connection down at stop (serve_util.h), so a worker ends on its
 * own once stop_fd (inherited) is readable. A fork that fails while the pool is
 * made is the model giving out: -EAGAIN, error set, the workers made are killed.
 * C = 0: the parent accepts and forks a child per connection (at most max_conns at
 * once: one more is accepted and closed, counted refused; so is one whose fork or
 * pidfd fails, and the server goes on). The parent keeps its copy of each
 * connection in its table until the child has ended, so at stop it shuts them all
 * down and the children finish; it learns of a child's end, however it ends, from
 * the child's pidfd (Linux 5.3) in an epoll set, and reaps it.
 * Every child calls cb_die_with_parent. What the children served is summed in a
 * MAP_SHARED mapping with atomic adds. At stop: children are given STOP_GRACE_MS
 * to end, then SIGKILLed; every one is reaped (wait4: its usage goes into the
 * report's child_* figures) before serve returns. A child that ended otherwise
 * than by exit 0 or that SIGKILL is an error in the report. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/check.h"
#include "common/child.h"
#include "common/clock.h"
#include "runtimes/runtime.h"
#include "runtimes/serve/serve_util.h"

#define STOP_GRACE_MS 2000

typedef struct shared {
  cb_serve_totals t;
  uint64_t open; /* connections being served now (pool) */
} shared;

typedef struct slot {
  pid_t pid; /* 0: free */
  int fd;    /* the parent's copy of the child's connection */
  int pidfd; /* readable once the child has ended */
} slot;

typedef struct pserve {
  const cb_serve_spec *spec;
  cb_run_report *report;
  shared *sh;
  pid_t *pids;     /* the pool's workers */
  uint64_t npids;
  slot *slots;     /* per connection: max_conns of them */
  uint32_t *free_slots;
  uint64_t nfree, running;
  cb_conn_table table;
  int ep; /* epoll set of the children's pidfds, data.u32 = the slot */
} pserve;

/* Waits for pid (blocking, or not: 0 when it is still running) and adds its usage. */
static int reap(pserve *ps, pid_t pid, int block, int killed) {
  cb_run_report *rep = ps->report;
  int status;
  struct rusage ru;
  pid_t r;
  do r = wait4(pid, &status, block ? 0 : WNOHANG, &ru);
  while (r < 0 && errno == EINTR);
  if (r == 0) return 0;
  CB_CHECK(r == pid);
  cb_report_add_child(rep, &ru);
  if (WIFSIGNALED(status) && !(killed && WTERMSIG(status) == SIGKILL))
    cb_report_error(rep, "procs: child %d killed by signal %d (%s)", (int)pid, WTERMSIG(status),
                    strsignal(WTERMSIG(status)));
  else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    cb_report_error(rep, "procs: child %d exited with status %d", (int)pid, WEXITSTATUS(status));
  return 1;
}

static int transient(int rc) { return rc == -EMFILE || rc == -ENFILE || rc == -ENOBUFS || rc == -ENOMEM; }

static void note_open(shared *sh) {
  uint64_t now = __atomic_add_fetch(&sh->open, 1, __ATOMIC_RELAXED);
  uint64_t peak = __atomic_load_n(&sh->t.peak_open, __ATOMIC_RELAXED);
  while (now > peak && !__atomic_compare_exchange_n(&sh->t.peak_open, &peak, now, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
}

/* ---- the pool ---- */

/* A worker: accepts and serves one connection at a time until stop. Its exit
 * status: 0, or 1..3 when it could not go on. */
static int worker_main(pserve *ps) {
  const cb_serve_spec *spec = ps->spec;
  cb_conn_table table;
  cb_serve_watch watch;
  if (cb_conn_table_init(&table, 1) != 0) return 1;
  if (cb_serve_watch_start(&watch, spec->stop_fd, &table) != 0) return 2;
  int status = 0;
  for (;;) {
    int fd, rc = cb_serve_accept(spec, &fd);
    if (rc == 0) break;
    if (rc < 0) {
      if (transient(rc) && cb_serve_pause(spec, 10)) continue;
      status = transient(rc) ? 0 : 3;
      break;
    }
    __atomic_fetch_add(&ps->sh->t.accepted, 1, __ATOMIC_RELAXED);
    if (cb_conn_table_add(&table, fd) != 0) { /* stopping */
      __atomic_fetch_add(&ps->sh->t.refused, 1, __ATOMIC_RELAXED);
      close(fd);
      break;
    }
    note_open(ps->sh);
    cb_serve_counts c = {0};
    int end = spec->workload->serve_conn(spec->env, fd, spec->idle_ms, &c);
    cb_conn_table_remove(&table, fd);
    close(fd);
    cb_serve_totals_add(&ps->sh->t, &c, end == -ETIMEDOUT);
    __atomic_fetch_sub(&ps->sh->open, 1, __ATOMIC_RELAXED);
  }
  cb_serve_watch_end(&watch);
  cb_conn_table_free(&table);
  return status;
}

/* Reaps the children still running: the ones that end within the grace, then the
 * rest after SIGKILL. done[k] marks pids[k] reaped. */
static void reap_pool(pserve *ps) {
  uint8_t *done = calloc(ps->npids, 1);
  CB_CHECK(done != NULL);
  uint64_t left = ps->npids;
  int64_t until = cb_now_ns() + (int64_t)STOP_GRACE_MS * 1000000;
  while (left > 0 && cb_now_ns() < until) {
    for (uint64_t k = 0; k < ps->npids; k++)
      if (!done[k] && reap(ps, ps->pids[k], 0, 0)) done[k] = 1, left--;
    if (left > 0) poll(NULL, 0, 10);
  }
  for (uint64_t k = 0; k < ps->npids; k++)
    if (!done[k]) kill(ps->pids[k], SIGKILL);
  for (uint64_t k = 0; k < ps->npids; k++)
    if (!done[k]) reap(ps, ps->pids[k], 1, 1);
  free(done);
}

static int pool(pserve *ps, uint64_t n) {
  ps->pids = calloc(n, sizeof *ps->pids);
  if (!ps->pids) {
    cb_report_error(ps->report, "procs: cannot allocate a pool of %llu", (unsigned long long)n);
    return -ENOMEM;
  }
  int rc = 0;
  pid_t parent = getpid();
  for (; ps->npids < n; ps->npids++) {
    pid_t pid = fork();
    if (pid < 0) {
      rc = -errno;
      cb_report_error(ps->report, "procs: fork failed for worker %llu of %llu: %s",
                      (unsigned long long)ps->npids + 1, (unsigned long long)n, strerror(errno));
      break;
    }
    if (pid == 0) {
      if (cb_die_with_parent(parent) != 0) _exit(127);
      _exit(worker_main(ps));
    }
    ps->pids[ps->npids] = pid;
  }
  ps->report->created = ps->npids;
  if (rc == 0) {
    cb_serve_ready(ps->spec);
    struct pollfd pf = {.fd = ps->spec->stop_fd, .events = POLLIN};
    while (poll(&pf, 1, -1) < 0 && errno == EINTR) {
    }
  } else {
    for (uint64_t k = 0; k < ps->npids; k++) kill(ps->pids[k], SIGKILL);
  }
  reap_pool(ps);
  free(ps->pids);
  return rc;
}

/* ---- a process per connection ---- */

/* In the child: serve fd, add what it did, end. The descriptors of the parent's
 * other connections are closed first: a child holding one would keep that
 * connection open after its own child has closed it. */
static void conn_child(pserve *ps, int fd) {
  const cb_serve_spec *spec = ps->spec;
  for (uint64_t j = 0; j < ps->table.n; j++)
    if (ps->table.fds[j] != fd) close(ps->table.fds[j]);
  close(spec->listen_fd);
  close(ps->ep);
  cb_serve_counts c = {0};
  int end = spec->workload->serve_conn(spec->env, fd, spec->idle_ms, &c);
  close(fd);
  cb_serve_totals_add(&ps->sh->t, &c, end == -ETIMEDOUT);
  _exit(0);
}

/* The child in slot k ended (or is killed): reap it, close the parent's copy. */
static void end_slot(pserve *ps, uint32_t k, int killed) {
  slot *s = &ps->slots[k];
  CB_CHECK(s->pid > 0);
  reap(ps, s->pid, 1, killed);
  /* out of the set before closing: a sibling forked meanwhile holds a copy of the
   * pidfd, which would keep it registered */
  epoll_ctl(ps->ep, EPOLL_CTL_DEL, s->pidfd, NULL);
  close(s->pidfd);
  cb_conn_table_remove(&ps->table, s->fd);
  close(s->fd);
  s->pid = 0;
  ps->free_slots[ps->nfree++] = k;
  ps->running--;
}

/* Ends the slots whose children have ended, waiting up to ms for one (0: none). */
static void end_exited(pserve *ps, int ms) {
  struct epoll_event ev[64];
  int n;
  while ((n = epoll_wait(ps->ep, ev, 64, ms)) > 0) {
    for (int j = 0; j < n; j++) end_slot(ps, ev[j].data.u32, 0);
    ms = 0;
  }
}

static void start_child(pserve *ps, int fd) {
  if (cb_conn_table_add(&ps->table, fd) != 0) {
    ps->sh->t.refused++;
    close(fd);
    return;
  }
  pid_t parent = getpid(), pid = fork();
  if (pid == 0) {
    if (cb_die_with_parent(parent) != 0) _exit(127);
    conn_child(ps, fd);
  }
  int pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
  uint32_t k = ps->free_slots[ps->nfree - 1];
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = k};
  if (pidfd < 0 || epoll_ctl(ps->ep, EPOLL_CTL_ADD, pidfd, &ev) != 0) { /* no fork, or no way to see it end */
    if (pid > 0) {
      kill(pid, SIGKILL);
      reap(ps, pid, 1, 1);
      ps->report->created++;
    }
    if (pidfd >= 0) close(pidfd);
    cb_conn_table_remove(&ps->table, fd);
    ps->sh->t.refused++;
    close(fd);
    return;
  }
  ps->nfree--;
  ps->slots[k] = (slot){.pid = pid, .fd = fd, .pidfd = pidfd};
  ps->running++;
  ps->report->created++;
}

static int per_connection(pserve *ps) {
  const cb_serve_spec *spec = ps->spec;
  uint64_t n = ps->table.cap;
  ps->slots = calloc(n, sizeof *ps->slots);
  ps->free_slots = malloc(n * sizeof *ps->free_slots);
  if (!ps->slots || !ps->free_slots || n > UINT32_MAX || (ps->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
    free(ps->slots);
    free(ps->free_slots);
    cb_report_error(ps->report, "procs: cannot set up for %llu connections", (unsigned long long)n);
    return -ENOMEM;
  }
  for (uint64_t k = 0; k < n; k++) ps->free_slots[ps->nfree++] = (uint32_t)(n - 1 - k);
  cb_serve_ready(spec);
  int result = 0;
  for (;;) {
    int fd, rc = cb_serve_accept_or(spec, ps->ep, &fd);
    if (rc == 0) break;
    if (rc == 2) {
      end_exited(ps, 0);
      continue;
    }
    if (rc < 0) {
      if (transient(rc) && cb_serve_pause(spec, 10)) continue;
      if (!transient(rc)) {
        cb_report_error(ps->report, "procs: accept failed: %s", strerror(-rc));
        result = rc;
      }
      break;
    }
    ps->sh->t.accepted++;
    start_child(ps, fd);
  }
  /* stop: shut every connection down; the children finish and report */
  cb_conn_table_shutdown_all(&ps->table);
  int64_t until = cb_now_ns() + (int64_t)STOP_GRACE_MS * 1000000;
  while (ps->running > 0) {
    int64_t left_ms = (until - cb_now_ns()) / 1000000;
    if (left_ms <= 0) break;
    end_exited(ps, (int)left_ms);
  }
  for (uint64_t k = 0; k < n; k++)
    if (ps->slots[k].pid > 0) kill(ps->slots[k].pid, SIGKILL);
  for (uint64_t k = 0; k < n; k++)
    if (ps->slots[k].pid > 0) end_slot(ps, (uint32_t)k, 1);
  close(ps->ep);
  free(ps->slots);
  free(ps->free_slots);
  return result;
}

int cb__procs_serve(const cb_serve_spec *spec, cb_run_report *report) {
  if (!spec->workload->serve_conn) return -ENOTSUP;
  int per_conn = spec->concurrency == 0;
  report->concurrency = per_conn ? spec->max_conns : spec->concurrency;
  report->created_kind = "processes";
  pserve ps = {.spec = spec, .report = report, .ep = -1};
  ps.sh = mmap(NULL, sizeof *ps.sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (ps.sh == MAP_FAILED) {
    cb_report_error(report, "procs: cannot map the shared totals: %s", strerror(errno));
    return -ENOMEM;
  }
  int rc = per_conn ? cb_conn_table_init(&ps.table, spec->max_conns) : 0;
  if (rc != 0) {
    cb_report_error(report, "procs: cannot set up the connection table: %s", strerror(-rc));
  } else {
    /* a dying connection child must not kill the parent (or a worker) with SIGPIPE */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGPIPE, &ign, &old);
    rc = per_conn ? per_connection(&ps) : pool(&ps, spec->concurrency);
    sigaction(SIGPIPE, &old, NULL);
    report->serve = ps.sh->t;
    if (per_conn) {
      report->serve.peak_open = ps.table.peak;
      cb_conn_table_free(&ps.table);
    }
  }
  munmap(ps.sh, sizeof *ps.sh);
  return rc;
}
