/* proc.c — runs one program for the bench: its own process group (so the
 * whole tree it makes, forked workers included, can be killed at once), pinned to
 * the first `cores` CPUs it may use, output to files, with a time limit. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/child.h"
#include "harness/bench/bench.h"
#include "runtimes/runtime.h"

static void pin(int cores) {
  cpu_set_t have, want;
  CPU_ZERO(&want);
  if (sched_getaffinity(0, sizeof have, &have) != 0) return;
  for (int cpu = 0, n = 0; cpu < CPU_SETSIZE && n < cores; cpu++)
    if (CPU_ISSET(cpu, &have)) CPU_SET(cpu, &want), n++;
  sched_setaffinity(0, sizeof want, &want);
}

/* path NULL: the child keeps the caller's descriptor. */
static void redirect(const char *path, int fd) {
  if (!path) return;
  int f = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (f >= 0) dup2(f, fd);
}

/* Cost: polls every 10 ms while the program runs. */
int cb_proc_run(char *const argv[], const char *out_path, const char *err_path, int cores, double limit_s,
                volatile sig_atomic_t *stop, cb_proc_result *r) {
  memset(r, 0, sizeof *r);
  int64_t t0 = cb_now_ns();
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return -errno;
  if (pid == 0) {
    setpgid(0, 0);
    /* A child never outlives the bench, even one killed with SIGKILL. */
    if (cb_die_with_parent(parent) != 0) _exit(127);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    redirect(out_path, STDOUT_FILENO);
    redirect(err_path, STDERR_FILENO);
    if (cores > 0) pin(cores);
    execvp(argv[0], argv);
    fprintf(stderr, "cannot execute %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  setpgid(pid, pid); /* also in the parent: no window where a kill misses the group */
  int64_t deadline = t0 + (int64_t)(limit_s * 1e9);
  int status = 0;
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) return -errno;
    if (*stop || cb_now_ns() >= deadline) {
      if (*stop) r->interrupted = 1;
      else r->timed_out = 1;
      kill(-pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  kill(-pid, SIGKILL); /* whatever the program left behind in its group */
  r->elapsed_s = (cb_now_ns() - t0) / 1e9;
  r->exited = WIFEXITED(status);
  r->code = r->exited ? WEXITSTATUS(status) : WTERMSIG(status);
  return 0;
}
