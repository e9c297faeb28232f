/* child.c — see child.h. */
#include <errno.h>
#include <fcntl.h>

#include "common/child.h"

int cb_spawn_piped(const char *path, char *const argv[], const cpu_set_t *cpus, pid_t *pid, int *out_rd) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -errno;
  pid_t parent = getpid();
  *pid = fork();
  if (*pid == 0) { /* the child: only async-signal-safe calls until exec */
    if (cb_die_with_parent(parent) != 0) _exit(127);
    if (cpus) sched_setaffinity(0, sizeof *cpus, cpus);
    if (dup2(fds[1], STDOUT_FILENO) < 0) _exit(127);
    execv(path, argv);
    _exit(127);
  }
  int e = errno;
  close(fds[1]);
  if (*pid < 0) {
    close(fds[0]);
    *pid = 0;
    return -e;
  }
  *out_rd = fds[0];
  return 0;
}
