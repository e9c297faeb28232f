/* run_cmd.c — see run_cmd.h. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/helpers/run_cmd.h"

extern char **environ;

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
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, po[1], 1);
  posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
  posix_spawn_file_actions_addclose(&fa, po[0]);
  posix_spawn_file_actions_addclose(&fa, pe[0]);
  pid_t pid;
  if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) abort();
  posix_spawn_file_actions_destroy(&fa);
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
      kill(pid, SIGKILL);
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
