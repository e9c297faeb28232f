/* cell_int.h — private to harness/run: what the client cell (cell.c) and the server
 * cell (serve_cell.c) share. */
#ifndef CB_CELL_INT_H
#define CB_CELL_INT_H

#include <jansson.h>
#include <sys/time.h>

#include "harness/run/cell.h"

double cb__tv_s(struct timeval t);
/* Every workload parameter, defaults included, as the record's params object. */
json_t *cb__params_json(const cb_workload *w, const cb_params *p);
/* 16 hex digits. */
json_t *cb__hex64(uint64_t x);
/* Prints the record on stdout (one line) and appends it to --out. */
void cb__cell_emit(const cb_cell *cell, json_t *o);
/* From here until the process ends, SIGINT/SIGTERM/SIGHUP end it with exit 130;
 * under a bench, the run dies with hyperfine (docs/DESIGN.md, "Processes"). */
void cb__cell_guard(void);

/* The server cell: everything after the workload's prepare (env ready, delayd
 * started if needed). Returns the exit code. */
int cb__serve_cell_run(const cb_cell *cell, const cb_job_env *env);
/* concbench serve (cell->listen): serves until stopped, prints the totals. */
int cb__serve_only_run(const cb_cell *cell, const cb_job_env *env);

#endif
