/* bench.h — `concbench bench`: the options (profiles), the plan of cells, running
 * one cell under a time limit, and the run folder's cells.jsonl.
 *
 * A bench run lives in results/<run-id>/: meta.json, cells.jsonl (one line per
 * finished cell, appended as it finishes: the resume log and the report's input),
 * hyperfine/ID.json (raw exports), cells/ID.jsonl (each timed run's cell JSON) and
 * logs/ (probe and hyperfine output). */
#ifndef CB_BENCH_H
#define CB_BENCH_H

#include <jansson.h>
#include <signal.h>

#include "harness/run/record.h"
#include "runtimes/runtime.h"

#define CB_BENCH_MAX_LIST 32

typedef struct cb_bench_opts {
  const char *profile;                 /* quick | default | full | peers */
  const char *models[CB_BENCH_MAX_LIST];
  int nmodels;                         /* 0 = every model */
  const char *workloads[CB_BENCH_MAX_LIST];
  int nworkloads;                      /* 0 = every workload */
  long long tasks[CB_BENCH_MAX_LIST];  /* N sweep for io/mixed/coord workloads */
  int ntasks;
  int cores[CB_BENCH_MAX_LIST];        /* cores sweep (taskset) for cpu workloads */
  int ncores;
  long long cpu_tasks;                 /* N of cpu cells */
  long long conns[CB_BENCH_MAX_LIST];  /* connections sweep of server workloads (closed loop) */
  int nconns;
  long long loads[CB_BENCH_MAX_LIST];  /* open loop: offered rates, in % of the best closed-loop
                                          req/s of the workload at open_conns connections */
  int nloads;
  long long open_conns;                /* connections of the open-loop cells: the swept
                                          value closest to this (100) */
  int server_runs;                     /* timed runs of a server cell (each one lasts its window) */
  /* The map (docs/measuring.md): the mixed workload over a grid of job shapes,
   * cpu_us x io_ms, at each of grid_tasks jobs and grid_cores cores, rounds each. */
  long long grid_cpu_us[CB_BENCH_MAX_LIST], grid_io_ms[CB_BENCH_MAX_LIST];
  int ngrid_cpu, ngrid_io;
  long long grid_tasks[CB_BENCH_MAX_LIST];
  int ngrid_tasks;
  int grid_cores[CB_BENCH_MAX_LIST];   /* 0: every core */
  int ngrid_cores;
  long long grid_rounds;
  int grid_runs;                       /* timed runs of a map cell */
  /* Pipelines against stages: workloads with a `stages` parameter also run at each
   * of these stages, at the swept N closest to stages_tasks (100). */
  long long stages[CB_BENCH_MAX_LIST];
  int nstages;
  long long stages_tasks;
  long long concurrency;               /* C; 0 = one execution unit per job */
  const char *params[CB_BENCH_MAX_LIST]; /* "[workload:]name=value": see cb_bench_param_scope */
  int nparams;
  int runs;                            /* hyperfine timed runs (after the probe/warm-up) */
  double limit_s;                      /* time limit of one `concbench run` */
  const char *run_id;
  const char *results_dir;             /* default "results" */
  int fresh;
  int peers;                           /* --peers (the peers profile too): the installed
                                          peers join the models (runtimes/peer) */
} cb_bench_opts;

/* A parameter override "name=value" applies to every workload with a parameter of
 * that name; "workload:name=value" to that workload only, and wins over a plain one
 * of the same name. Returns the "name=value" part of kv (the cell's --param) and sets
 * *scope_len to the length of the workload's name before it (0: plain). */
const char *cb_bench_param_scope(const char *kv, size_t *scope_len);

/* The swept N (o->tasks) closest to o->stages_tasks: the N of the stages cells. */
long long cb_bench_stages_n(const cb_bench_opts *o);

/* Fills opts from the arguments of `concbench bench` (profile first, flags over it).
 * Bad input: one line on stderr naming the argument and what is allowed, -EINVAL. */
int cb_bench_parse(int argc, char **argv, cb_bench_opts *opts);

typedef struct cb_plan_cell {
  const cb_model *model;
  const cb_workload *workload;
  cb_params params;                    /* resolved: defaults + overrides */
  const char *overrides[CB_BENCH_MAX_LIST]; /* the "k=v" of opts that this workload has */
  int noverrides;
  long long tasks, concurrency;
  int cores;                           /* CPUs the cell may run on */
  char rate_kv[40];                    /* open-loop cells: "rate=R", one of the overrides */
  char grid_kv[3][40];                 /* map cells: "cpu_us=X", "io_ms=Y", "rounds=R" */
  char stages_kv[40];                  /* stages cells: "stages=S" */
  char id[160];                        /* file name stem, unique in a run */
  char key[17];                        /* resume key, hex */
} cb_plan_cell;

/* The interleaved plan: for each workload and size, every model back to back, the
 * model order rotating from one group to the next so that no model always runs
 * first or last. Returns a malloc'd array (count in *n). binary and host go into
 * every key. */
cb_plan_cell *cb_bench_plan(const cb_bench_opts *o, const char *binary, const char *host, size_t *n);

/* The open-loop cells of the server workloads in plan: for each one with a verified
 * closed-loop cell at the swept connections closest to o->open_conns in store, every model whose own
 * closed-loop cell there verified, at each of o->loads % of the best such req/s. */
cb_plan_cell *cb_bench_plan_open(const cb_bench_opts *o, const cb_plan_cell *plan, size_t nplan, json_t *store,
                                 const char *binary, const char *host, size_t *n);

/* The resolved params as a JSON object (as `concbench run` prints them). */
json_t *cb_plan_params_json(const cb_plan_cell *c);

/* A process run by the bench or the report, from an argument vector (no shell): in
 * its own process group, on the first `cores` CPUs (0: wherever the caller may run),
 * stdout and stderr to files (NULL: the caller's), stdin from /dev/null, killed
 * with its whole group at the limit or when *stop is set. */
typedef struct cb_proc_result {
  int timed_out, interrupted;
  int exited;      /* 1: exited with code; 0: killed by signal `code` */
  int code;
  double elapsed_s;
} cb_proc_result;

int cb_proc_run(char *const argv[], const char *out_path, const char *err_path, int cores,
                double limit_s, volatile sig_atomic_t *stop, cb_proc_result *r);

/* Runs one planned cell: a probe run (warm-up and classifier), then hyperfine for
 * the timed runs. Returns the cells.jsonl record (new reference), or NULL when
 * interrupted (nothing is recorded then). */
typedef struct cb_bench_ctx {
  const cb_bench_opts *opts;
  const char *dir;        /* run folder */
  const char *concbench;  /* path of this binary */
  const char *server_url; /* shared delayd */
  const char *binary, *host;
  volatile sig_atomic_t *stop;
} cb_bench_ctx;

json_t *cb_bench_run_cell(const cb_bench_ctx *ctx, const cb_plan_cell *c);

/* A record for a cell not run: its status (skipped, or unsupported as found at a
 * smaller N) with the reason. */
json_t *cb_bench_record_skip(const cb_bench_ctx *ctx, const cb_plan_cell *c, cb_class status, const char *why);

/* cells.jsonl: keys of the records already there (a JSON object used as a set:
 * key -> record), and durable appends (one line, fsync'd). Loading moves damaged
 * lines (cut short, not a record) to cells.jsonl.damaged with one line each on
 * stderr; NULL (message printed) when they cannot be moved. */
json_t *cb_store_load(const char *path);
int cb_store_append(const char *path, json_t *record);

#endif
