/* cell.h — one cell: one model × one workload × N tasks × C, run in this process.
 * `concbench run` parses a cell from its arguments, runs it, verifies every job and
 * prints one JSON object. */
#ifndef CB_CELL_H
#define CB_CELL_H

#include <stdio.h>

#include "harness/run/record.h" /* exit codes, the JSON keys */
#include "runtimes/runtime.h"

#define CB_MAX_TASKS 10000000
#define CB_MAX_CONCURRENCY 1000000

typedef struct cb_cell {
  const cb_model *model;
  const cb_workload *workload;
  cb_params params;
  int64_t model_params[CB_MAX_PARAMS]; /* the model's own --param values (cb_model.params) */
  uint64_t tasks;
  uint64_t concurrency; /* 0 = one execution unit per job */
  size_t stack_size;    /* 0 = model default */
  const char *server;   /* --server URL, or NULL to start delayd when needed */
  const char *out_path; /* --out FILE: also append the JSON line there */
  /* Server workloads across two machines (docs/DESIGN.md "Servers"): */
  const char *target;   /* run --target HOST:PORT: load a server already running there */
  const char *listen;   /* serve --listen HOST:PORT: only serve, until stopped */
  int allow_remote;     /* --allow-remote: HOST may be other than loopback */
  int64_t seconds;      /* serve --seconds S: stop after S s (0: at SIGINT/SIGTERM) */
  FILE *out;            /* out_path, opened for appending by cb_cell_parse, or NULL */
} cb_cell;

/* Parses `run` arguments (serve = 0) or `serve` arguments (serve = 1: --listen,
 * --allow-remote, --seconds; --tasks is the connections to expect, default 10000).
 * On bad input prints one line naming the argument and what is allowed to stderr and
 * returns -EINVAL. */
int cb_cell_parse(int argc, char **argv, int serve, cb_cell *cell);

/* Set (to 1) in the environment of the runs a bench starts: a run started by
 * hyperfine then dies with it (docs/DESIGN.md, "Processes"). */
#define CB_ENV_UNDER_BENCH "CONCBENCH_UNDER_BENCH"

/* Runs the cell, prints its JSON to stdout (and appends to out), returns the
 * exit code. With cell->listen set it only serves (concbench serve) and prints the
 * server's totals when stopped. From its start until the process ends, SIGINT, SIGTERM and SIGHUP end
 * the process with one line on stderr and CB_EXIT_INTERRUPTED, its children with it. */
int cb_cell_run(const cb_cell *cell);

/* The verdict over a finished run: jobs that succeeded, that failed, and whether
 * every result equals the workload's expected one. */
typedef struct cb_verdict {
  uint64_t ok, failed, wrong;
  uint64_t checksum, expected_checksum;
  int verified;
} cb_verdict;

void cb_verify(const cb_run_spec *spec, const cb_job_record *jobs, cb_verdict *v);

/* A run's checksum is the sum (mod 2^64) over its jobs of cb_verify_fold(i, result
 * of job i): each result is bound to its job index. Tools that check the same work
 * outside `concbench run` (bin/httpfloor) fold with it too. */
uint64_t cb_verify_fold(uint64_t i, uint64_t result);

#endif
