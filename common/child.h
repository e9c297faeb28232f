/* child.h — a child process that never outlives its parent. */
#ifndef CB_CHILD_H
#define CB_CHILD_H

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

/* In a child right after fork() (async-signal-safe): asks the kernel for SIGKILL
 * when the thread that forked it ends, however it ends (SIGKILL included), then
 * checks that `parent` (its getpid() before the fork) is still the parent: if it
 * died first, the request came too late. 0, or -1: the caller must _exit. */
static inline int cb_die_with_parent(pid_t parent) {
  return prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 && getppid() == parent ? 0 : -1;
}

/* Starts path with argv (no shell) as a child that dies with the calling thread,
 * pinned to cpus (NULL: inherited), its stdout a pipe whose read end (CLOEXEC)
 * goes to *out_rd. 0 with *pid set, or a negative errno (nothing left open). */
int cb_spawn_piped(const char *path, char *const argv[], const cpu_set_t *cpus, pid_t *pid, int *out_rd);

#endif
