/* loadgen_child.c — see loadgen_child.h. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/child.h"
#include "common/clock.h"
#include "common/util.h"
#include "harness/run/loadgen_child.h"

#define MAX_ARGS 64

int cb_loadgen_child_start(cb_loadgen_child *lg, char *const args[], const cpu_set_t *cpus, char *err, size_t errlen) {
  memset(lg, 0, sizeof *lg);
  lg->out_fd = -1;
  char path[PATH_MAX + 16];
  if (cb_program_path("loadgen", "CONCBENCH_LOADGEN", path, sizeof path) != 0 || access(path, X_OK) != 0) {
    snprintf(err, errlen, "cannot find the loadgen binary (%s); build it with make", path);
    return -ENOENT;
  }
  char *argv[MAX_ARGS + 2];
  int n = 0;
  argv[n++] = path;
  for (int k = 0; args[k]; k++) {
    if (n > MAX_ARGS) {
      snprintf(err, errlen, "too many loadgen arguments");
      return -E2BIG;
    }
    argv[n++] = args[k];
  }
  argv[n] = NULL;
  lg->start_ns = cb_now_ns();
  int rc = cb_spawn_piped(path, argv, cpus, &lg->pid, &lg->out_fd);
  if (rc != 0) snprintf(err, errlen, "cannot start %s: %s", path, strerror(-rc));
  return rc;
}

/* Whether pid has ended, without reaping it. */
static int ended(pid_t pid) {
  siginfo_t si = {0};
  return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

int cb_loadgen_child_wait(cb_loadgen_child *lg, double limit_s, pid_t watch) {
  int64_t deadline = lg->start_ns + (int64_t)(limit_s * 1e9);
  int status = 0, watched_ended = 0;
  for (;;) {
    pid_t r = waitpid(lg->pid, &status, WNOHANG);
    if (r == lg->pid || (r < 0 && errno != EINTR)) break;
    if (r == 0 && watch > 0 && !watched_ended && ended(watch)) {
      watched_ended = 1;
      kill(lg->pid, SIGINT);
    }
    if (r == 0 && cb_now_ns() > deadline) {
      kill(lg->pid, SIGKILL);
      while (waitpid(lg->pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  lg->ran_s = (double)(cb_now_ns() - lg->start_ns) / 1e9;
  lg->exited = WIFEXITED(status);
  lg->code = lg->exited ? WEXITSTATUS(status) : WIFSIGNALED(status) ? WTERMSIG(status) : -1;
  lg->pid = 0;
  /* Its record is one line of a few KiB; it ended, so the pipe holds all of it. */
  char buf[16384];
  size_t have = 0;
  ssize_t got;
  while (have < sizeof buf - 1 && (got = read(lg->out_fd, buf + have, sizeof buf - 1 - have)) != 0) {
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) break;
    have += (size_t)got;
  }
  buf[have] = '\0';
  close(lg->out_fd);
  lg->out_fd = -1;
  json_t *o = json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
  lg->result = json_is_object(o) ? o : NULL;
  if (!lg->result) json_decref(o);
  return watched_ended;
}

void cb_loadgen_child_free(cb_loadgen_child *lg) {
  if (lg->pid > 0) {
    kill(lg->pid, SIGKILL);
    waitpid(lg->pid, NULL, 0);
  }
  if (lg->out_fd >= 0) close(lg->out_fd);
  json_decref(lg->result);
  memset(lg, 0, sizeof *lg);
}
