/* run_cmd.c — see run_cmd.h. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/helpers/run_cmd.h"

static void append(char **buf, size_t *len, const char *data, size_t n) {
  *buf = realloc(*buf, *len + n + 1);
  memcpy(*buf + *len, data, n);
  *len += n;
  (*buf)[*len] = '\0';
}

void run_cmd(char *const argv[], int timeout_s, cmd_result *r) {
  int po[2], pe[2];
  memset(r, 0, sizeof *r);
  r->out = calloc(1, 1);
  r->err = calloc(1, 1);
  if (pipe(po) != 0 || pipe(pe) != 0) abort();
  pid_t parent = getpid(), pid = fork();
  if (pid < 0) abort();
  if (pid == 0) {
    /* Its own process group, so that a timeout kills all it started (make, a bench
     * and its delayd), and dead with the test even when the test is killed. */
    setpgid(0, 0);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    dup2(po[1], 1);
    dup2(pe[1], 2);
    close(po[0]);
    close(pe[0]);
    execv(argv[0], argv);
    _exit(127);
  }
  setpgid(pid, pid); /* also here: no window where a kill misses the group */
  close(po[1]);
  close(pe[1]);
  size_t lo = 0, le = 0;
  time_t deadline = time(NULL) + timeout_s;
  int open_fds = 2, killed = 0;
  struct pollfd pf[2] = {{.fd = po[0], .events = POLLIN}, {.fd = pe[0], .events = POLLIN}};
  while (open_fds > 0) {
    int n = poll(pf, 2, 200);
    if (n < 0 && errno == EINTR) continue;
    if (time(NULL) > deadline && !killed) {
      kill(-pid, SIGKILL);
      killed = 1;
    }
    for (int k = 0; k < 2; k++) {
      if (pf[k].fd < 0 || !(pf[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      ssize_t got = read(pf[k].fd, buf, sizeof buf);
      if (got <= 0) {
        close(pf[k].fd);
        pf[k].fd = -1;
        open_fds--;
      } else if (k == 0) {
        append(&r->out, &lo, buf, (size_t)got);
      } else {
        append(&r->err, &le, buf, (size_t)got);
      }
    }
  }
  int status;
  waitpid(pid, &status, 0);
  kill(-pid, SIGKILL); /* whatever it left behind in its group */
  r->exited = WIFEXITED(status);
  r->code = killed ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
}

void cmd_result_free(cmd_result *r) {
  free(r->out);
  free(r->err);
}

int count_lines(const char *s) {
  int n = 0;
  for (; *s; s++)
    if (*s == '\n') n++;
  return n;
}
