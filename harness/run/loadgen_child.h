/* loadgen_child.h — bin/loadgen as a child of a server cell: spawned with an
 * argument vector, pinned, tied to this process's life, its JSON read from a pipe. */
#ifndef CB_LOADGEN_CHILD_H
#define CB_LOADGEN_CHILD_H

#include <jansson.h>
#include <sched.h>
#include <sys/types.h>

typedef struct cb_loadgen_child {
  pid_t pid;
  int out_fd;      /* read end of its stdout */
  json_t *result;  /* its JSON object, once it ended (NULL if it printed none) */
  int exited, code; /* how it ended: exit code, or the signal when !exited */
  int64_t start_ns;
  double ran_s;    /* from start to end */
} cb_loadgen_child;

/* Starts bin/loadgen (next to this executable, or $CONCBENCH_LOADGEN) with args
 * (argv[1..], NULL-ended), pinned to cpus. 0, or negative errno with err filled. */
int cb_loadgen_child_start(cb_loadgen_child *lg, char *const args[], const cpu_set_t *cpus, char *err, size_t errlen);

/* Waits for it to end, at most limit_s (then kills it: exited = 0, code = SIGKILL),
 * and parses what it printed. When the process `watch` (> 0, not reaped here) ends
 * first, the generator is asked to stop (SIGINT: it prints what it measured so far)
 * and 1 is returned; else 0. */
int cb_loadgen_child_wait(cb_loadgen_child *lg, double limit_s, pid_t watch);

void cb_loadgen_child_free(cb_loadgen_child *lg);

#endif
