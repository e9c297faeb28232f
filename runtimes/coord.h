/* coord.h — the coordination micro-workloads (pingpong, spawn) for the OS-level
 * models; the green model has its own in runtimes/green/model.c. sync offers neither:
 * a single thread has no one to hand a token to and spawns nothing. */
#ifndef CB_COORD_H
#define CB_COORD_H

#include "runtimes/runtime.h"

int cb__threads_pingpong(const cb_run_spec *spec, uint64_t rounds, cb_run_report *report);
int cb__threads_spawn_tree(const cb_run_spec *spec, uint64_t leaves, uint64_t fanout, uint64_t *sum,
                           cb_run_report *report);
int cb__procs_pingpong(const cb_run_spec *spec, uint64_t rounds, cb_run_report *report);
int cb__procs_spawn_tree(const cb_run_spec *spec, uint64_t leaves, uint64_t fanout, uint64_t *sum,
                         cb_run_report *report);

/* The largest tree procs builds (a fork per node: ~1.11 x leaves processes). */
#define CB_PROCS_SPAWN_MAX_LEAVES 10000
/* Children per node for the OS-level trees (their frames hold one slot each). */
#define CB_COORD_MAX_FANOUT 100

#endif
