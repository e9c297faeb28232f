/* peer.c — runs a cell's jobs in a peer program (runtimes/peer/README.md).
 *
 * The program is started with an argument vector (no shell), in a process group of
 * its own, asked to die with this thread (cb_die_with_parent), its stdout a pipe.
 * It runs every job and then writes its answer: the job phase it timed itself,
 * what it created and one line per job. When it has exited (not yet reaped) the
 * rest of its group is killed, then it is reaped with wait4, whose usage counts
 * its whole tree (its reaped children included). A peer that dies, answers out of
 * protocol or leaves jobs out has those jobs not done: the cell fails, no speed. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/check.h"
#include "common/child.h"
#include "runtimes/peer/peer_int.h"

#define MAX_ARGS (16 + 2 * CB_MAX_PARAMS)
#define ARG_LEN 96

/* 1 when the space-separated list has the word. */
static int has_word(const char *list, const char *word) {
  size_t n = strlen(word);
  for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
    if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return 1;
  return 0;
}

/* argv: program [script] style --workload W --tasks N --concurrency C [--server URL]
 * --param NAME=VALUE for every parameter. */
static void build_argv(const cb_peer *p, const cb_run_spec *spec, char *argv0, char *script,
                       char bufs[MAX_ARGS][ARG_LEN], char *argv[MAX_ARGS + 1]) {
  const cb_workload *w = spec->workload;
  int n = 0, b = 0;
  argv[n++] = argv0;
  if (script[0]) argv[n++] = "-E", argv[n++] = "-s", argv[n++] = script; /* no PYTHON* variables, no user site */
  argv[n++] = (char *)p->style;
  argv[n++] = "--workload", argv[n++] = (char *)w->name;
  snprintf(bufs[b], ARG_LEN, "%" PRIu64, spec->tasks);
  argv[n++] = "--tasks", argv[n++] = bufs[b++];
  snprintf(bufs[b], ARG_LEN, "%" PRIu64, spec->concurrency);
  argv[n++] = "--concurrency", argv[n++] = bufs[b++];
  if (spec->env->server_url) argv[n++] = "--server", argv[n++] = (char *)spec->env->server_url;
  for (int k = 0; k < w->nparams; k++) {
    snprintf(bufs[b], ARG_LEN, "%s=%" PRId64, w->params[k].name, spec->env->params->v[k]);
    argv[n++] = "--param", argv[n++] = bufs[b++];
  }
  CB_CHECK(n <= MAX_ARGS);
  argv[n] = NULL;
}

/* Reads fd to its end into a NUL-terminated malloc'd buffer (NULL: out of memory). */
static char *read_all(int fd) {
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (len + 1 == cap) {
      char *grown = realloc(buf, cap *= 2);
      if (!grown) free(buf);
      buf = grown;
      if (!buf) break;
    }
    ssize_t r = read(fd, buf + len, cap - 1 - len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    len += (size_t)r;
  }
  if (buf) buf[len] = '\0';
  return buf;
}

/* Parses one answer line into the report; 0, or -EPROTO with the reason in report. */
static int parse_line(char *line, const cb_run_spec *spec, cb_run_report *report) {
  uint64_t i, result, created;
  int64_t start, end;
  int used = 0;
  char kind[32];
  if (sscanf(line, "phase %" SCNd64 " %" SCNd64 "%n", &start, &end, &used) == 2 && !line[used]) {
    if (start <= 0 || end < start) goto bad;
    report->phase_start_ns = start, report->phase_end_ns = end;
    return 0;
  }
  if (sscanf(line, "created %" SCNu64 " %31[a-z ]%n", &created, kind, &used) == 2 && !line[used]) {
    static const char *const kinds[] = {"none", "threads", "processes", "greenlets", "tasks", "goroutines"};
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
      if (strcmp(kind, kinds[k]) == 0) report->created_kind = kinds[k];
    if (!report->created_kind) goto bad;
    report->created = created;
    return 0;
  }
  int failed = strncmp(line, "fail ", 5) == 0;
  if (failed ? sscanf(line, "fail %" SCNu64 " %" SCNd64 " %" SCNd64 " %n", &i, &start, &end, &used) == 3
             : sscanf(line, "job %" SCNu64 " %" SCNx64 " %" SCNd64 " %" SCNd64 "%n", &i, &result, &start, &end,
                      &used) == 4 && !line[used]) {
    if (i >= spec->tasks || report->jobs[i].done || end < start) goto bad;
    cb_job_record *rec = &report->jobs[i];
    rec->start_ns = start, rec->end_ns = end;
    rec->result = failed ? 0 : result;
    rec->status = failed ? -EIO : 0;
    rec->done = 1;
    if (failed) cb_report_error(report, "job %" PRIu64 ": %.200s", i, line + used);
    return 0;
  }
bad:
  cb_report_error(report, "the peer answered out of protocol: '%.120s'", line);
  return -EPROTO;
}

static void parse_answer(char *text, const cb_run_spec *spec, cb_run_report *report) {
  char *save = NULL, *line = strtok_r(text, "\n", &save);
  if (!line || strcmp(line, "concbench-peer 1") != 0) {
    cb_report_error(report, "the peer gave no answer (its first line is not 'concbench-peer 1')");
    return;
  }
  while ((line = strtok_r(NULL, "\n", &save)) != NULL)
    if (parse_line(line, spec, report) != 0) return;
  if (!report->phase_end_ns) cb_report_error(report, "the peer did not say when its job phase ran");
}

int cb__peer_run(const cb_peer *p, const cb_run_spec *spec, cb_run_report *report) {
  report->concurrency = p->sequential ? 1 : cb_spec_concurrency(spec);
  if (!has_word(p->workloads, spec->workload->name)) return -ENOTSUP;
  char argv0[PATH_MAX], script[PATH_MAX], why[PATH_MAX + 64];
  if (cb__peer_locate(p, argv0, script, sizeof argv0, why, sizeof why) != 0) {
    cb_report_error(report, "%s", why);
    return -ENOENT;
  }
  char bufs[MAX_ARGS][ARG_LEN], *argv[MAX_ARGS + 1];
  build_argv(p, spec, argv0, script, bufs, argv);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    cb_report_error(report, "pipe: %s", strerror(errno));
    return -errno;
  }
  pid_t parent = getpid(), pid = fork();
  if (pid == 0) { /* the child: only async-signal-safe calls until exec */
    if (cb_die_with_parent(parent) != 0 || setpgid(0, 0) != 0 || dup2(fds[1], STDOUT_FILENO) < 0) _exit(127);
    execv(argv0, argv);
    _exit(127);
  }
  int e = errno;
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    cb_report_error(report, "fork: %s", strerror(e));
    return -e;
  }
  setpgid(pid, pid); /* also here, so the group exists whichever runs first */
  char *answer = read_all(fds[0]);
  close(fds[0]);
  siginfo_t si;
  while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
  }
  kill(-pid, SIGKILL); /* whatever the peer left behind in its group */
  int status = 0;
  struct rusage ru;
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  cb_report_add_child(report, &ru);
  if (!answer) {
    cb_report_error(report, "out of memory reading the peer's answer");
    return -ENOMEM;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 4) {
    free(answer);
    return -ENOTSUP;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) parse_answer(answer, spec, report);
  else if (WIFEXITED(status))
    cb_report_error(report, "the peer %s exited with status %d", p->style, WEXITSTATUS(status));
  else
    cb_report_error(report, "the peer %s was killed by signal %d", p->style, WTERMSIG(status));
  free(answer);
  return 0;
}
