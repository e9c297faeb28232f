/* proctree.h — test helper: what a program left running, read from /proc. */
#ifndef CB_TEST_PROCTREE_H
#define CB_TEST_PROCTREE_H

#include <stddef.h>
#include <sys/types.h>

/* The parent and command name of pid (either may be NULL); 0 when pid is gone or a
 * zombie, 1 while it lives. */
int proc_stat(pid_t pid, pid_t *ppid, char *comm, size_t cap);

/* 1 while pid lives (not gone, not a zombie). */
int proc_alive(pid_t pid);

/* Adds every live descendant of root not yet among set[0..n) (a scan of /proc per
 * level), at most cap in all; returns the new count. */
int proc_add_descendants(pid_t root, pid_t *set, int n, int cap);

#endif
