/* coord.c — pingpong and spawn for the procs model.
 *
 * pingpong: each pair is two fork()ed processes joined by two pipes; a hand-off is
 * one byte written by one side and read by the other (a pipe wake-up and an OS
 * context switch). Each side reports how many bytes it received over a result pipe.
 * spawn: the skynet tree with a fork()ed process per node; a node forks one child,
 * reads its sum from a pipe, reaps it, then forks the next, so at most depth + 1
 * processes live at once. A fork per node is expensive, so trees are limited to
 * CB_PROCS_SPAWN_MAX_LEAVES leaves. Every process is reaped; usage of the children
 * the model reaped itself goes into the report. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/child.h"
#include "runtimes/coord.h"
#include "runtimes/runtime.h"

static int write_full(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

static int read_full(int fd, void *buf, size_t len) {
  char *p = buf;
  while (len > 0) {
    ssize_t r = read(fd, p, len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r;
    len -= (size_t)r;
  }
  return 0;
}

/* One side of a pair: A (first = 1) sends first. Reports its count, then exits. */
static void pp_side(int first, int rd, int wr, uint64_t rounds, uint64_t pair, int result_fd) {
  uint64_t seen = 0;
  char b = 1;
  for (uint64_t k = 0; k < rounds; k++) {
    if (first && write_full(wr, &b, 1) != 0) break;
    if (read_full(rd, &b, 1) != 0) break;
    seen++;
    if (!first && write_full(wr, &b, 1) != 0) break;
  }
  uint64_t rec[2] = {pair, seen};
  _exit(write_full(result_fd, rec, sizeof rec) == 0 ? 0 : 1);
}

int cb__procs_pingpong(const cb_run_spec *spec, uint64_t rounds, cb_run_report *report) {
  report->concurrency = cb_spec_concurrency(spec);
  uint64_t n = spec->tasks, forked = 0;
  int res[2];
  if (pipe(res) != 0) {
    cb_report_error(report, "procs: pipe: %s", strerror(errno));
    return -errno;
  }
  int rc = 0;
  int64_t t0 = cb_now_ns();
  for (uint64_t i = 0; i < n && rc == 0; i++) {
    int ab[2], ba[2];
    if (pipe(ab) != 0) {
      rc = -errno;
      break;
    }
    if (pipe(ba) != 0) {
      rc = -errno;
      close(ab[0]);
      close(ab[1]);
      break;
    }
    report->jobs[i].start_ns = cb_now_ns();
    for (int side = 0; side < 2 && rc == 0; side++) {
      pid_t parent = getpid(), pid = fork();
      if (pid == 0) {
        if (cb_die_with_parent(parent) != 0) _exit(127);
        close(res[0]);
        if (side == 0) pp_side(1, ba[0], ab[1], rounds, i, res[1]);
        pp_side(0, ab[0], ba[1], rounds, i, res[1]);
      }
      if (pid < 0) rc = -errno;
      else forked++;
    }
    close(ab[0]), close(ab[1]), close(ba[0]), close(ba[1]);
  }
  close(res[1]);
  if (rc != 0) cb_report_error(report, "procs: pingpong: %s", strerror(-rc));
  /* a lone side of a half-forked pair sees EOF and reports what it got */
  uint64_t rec[2], handoffs = 0;
  uint8_t *sides = calloc(n, 1);
  while (read_full(res[0], rec, sizeof rec) == 0) {
    if (rec[0] >= n || !sides) continue;
    cb_job_record *r = &report->jobs[rec[0]];
    r->result += rec[1];
    r->end_ns = cb_now_ns();
    handoffs += rec[1];
    r->done = ++sides[rec[0]] == 2; /* complete once both sides reported */
  }
  if (!sides && rc == 0) {
    cb_report_error(report, "procs: out of memory");
    rc = -ENOMEM;
  }
  free(sides);
  close(res[0]);
  for (uint64_t k = 0; k < forked; k++) {
    struct rusage ru;
    int st;
    if (wait4(-1, &st, 0, &ru) > 0) cb_report_add_child(report, &ru);
  }
  int64_t t1 = cb_now_ns();
  report->created = forked;
  report->created_kind = "processes";
  if (rc == 0 && handoffs > 0) cb_report_extra(report, "ns_per_switch", (double)(t1 - t0) / (double)handoffs);
  return rc;
}

/* ---- spawn tree ---- */

typedef struct pt_stats {
  uint64_t created, max_depth;
} pt_stats;

/* Computes the sum of leaves [first, first + count) in this process, forking one
 * process per child node. Returns 0, or -1 when a fork or pipe failed. */
static int pt_node(uint64_t first, uint64_t count, uint64_t fanout, uint64_t *sum, uint64_t *created) {
  if (count == 1) {
    *sum = first;
    return 0;
  }
  uint64_t k = count < fanout ? count : fanout;
  *sum = 0;
  for (uint64_t j = 0; j < k; j++) {
    uint64_t cnt = count / k + (j < count % k);
    int p[2];
    if (pipe(p) != 0) return -1;
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
      close(p[0]), close(p[1]);
      return -1;
    }
    if (pid == 0) {
      if (cb_die_with_parent(parent) != 0) _exit(127);
      close(p[0]);
      uint64_t out[2] = {0, 0};
      int r = pt_node(first, cnt, fanout, &out[0], &out[1]);
      _exit(r == 0 && write_full(p[1], out, sizeof out) == 0 ? 0 : 1);
    }
    close(p[1]);
    uint64_t in[2];
    int got = read_full(p[0], in, sizeof in);
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    if (got != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return -1;
    *sum += in[0];
    *created += 1 + in[1];
    first += cnt;
  }
  return 0;
}

int cb__procs_spawn_tree(const cb_run_spec *spec, uint64_t leaves, uint64_t fanout, uint64_t *sum,
                         cb_run_report *report) {
  report->concurrency = cb_spec_concurrency(spec);
  if (leaves > CB_PROCS_SPAWN_MAX_LEAVES) {
    cb_report_error(report, "--param leaves: procs builds trees of 1 to %d leaves (a fork per node), got %llu",
                    CB_PROCS_SPAWN_MAX_LEAVES, (unsigned long long)leaves);
    return -ERANGE;
  }
  if (fanout < 2 || fanout > CB_COORD_MAX_FANOUT || leaves < 1) {
    cb_report_error(report, "procs: spawn needs leaves >= 1 and fanout from 2 to %d", CB_COORD_MAX_FANOUT);
    return -EINVAL;
  }
  uint64_t created = 0;
  int64_t t0 = cb_now_ns();
  int r = pt_node(0, leaves, fanout, sum, &created);
  int64_t t1 = cb_now_ns();
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  cb_report_add_child(report, &ru);
  report->created = created;
  report->created_kind = "processes";
  if (r != 0) {
    cb_report_error(report, "procs: a fork or pipe failed in the spawn tree");
    return -EAGAIN;
  }
  if (created > 0) cb_report_extra(report, "ns_per_spawn", (double)(t1 - t0) / (double)created);
  return 0;
}
