/* results.h — a bench run folder loaded into memory: one summary per cell, from
 * the run's cells.jsonl (see bench.h). Report, compare and advise read runs only
 * through this. */
#ifndef CB_RESULTS_H
#define CB_RESULTS_H

#include <jansson.h>
#include <stddef.h>

#include "harness/bench/stream.h"
#include "harness/run/record.h" /* the status names */
#include "runtimes/runtime.h"     /* CB_MAX_EXTRA */

typedef struct cb_stats {
  size_t n;
  double median, min, max, mean, stddev, cv; /* cv = stddev / mean */
} cb_stats;

typedef struct cb_cell_summary {
  char id[160];
  char model[32], workload[32], kind[16];
  long long tasks;
  long long concurrency;     /* as requested: 0 = one execution unit per job */
  long long eff_concurrency; /* what the model reported it ran with (its JSON's concurrency) */
  int cores;                 /* CPUs the cell was pinned to */
  json_t *params;            /* owned */
  char status[24];           /* a class name of harness/run/record.h (ok, timeout, ...) */
  char error[512];           /* why, when not ok */
  int verified;              /* status ok: every run verified; only then are the figures set */
  double *times;             /* hyperfine's timed runs of the whole command, s (owned) */
  cb_stats wall;             /* of times */
  cb_stats job_wall;         /* job phase from the cell JSON, s */
  double last_start_s;       /* median of the runs' last_start_s (the last job began); NAN if
                                the runs predate the field */
  double cpu_s;              /* median user+sys, s */
  double tree_rss_kb;        /* median */
  double rss_per_task_kb;    /* slope of tree RSS over N in this cell's series; NAN if < 2 sizes */
  long long created;
  char created_kind[32];
  char per_op[160];          /* a model's own per-operation figures (cell JSON keys beyond
                                the contract's, e.g. ns_per_switch), medians, "k=v ..." */
  struct { char key[40]; double median; } figure[CB_MAX_EXTRA]; /* the same, by key: cb_results_figure */
  int nfigures;
  int server;                /* a server workload's cell: the figures below, not times */
  struct {
    double rate;             /* offered requests/s; 0: closed loop */
    cb_stats req_per_s;      /* over the runs */
    double p50_ms, p99_ms, p999_ms, max_ms; /* medians over the runs (corrected in open loop) */
    double p99_uncorrected_ms;
    double generator_cpu;    /* median, cores */
    int generator_bound;     /* in any run */
    char server_cpus[32], generator_cpus[32];
  } srv;
} cb_cell_summary;

typedef struct cb_run_results {
  char dir[512];
  json_t *meta; /* owned, may be NULL */
  cb_cell_summary *cells;
  size_t ncells;
} cb_run_results;

/* cb_results_load's flags: read a damaged run without its damaged lines (each one
 * listed on stderr as skipped) instead of refusing it. */
#define CB_RESULTS_SKIP_DAMAGED 1

/* Loads a run folder's meta.json (none is fine) and cells.jsonl (a later record of
 * the same cell replaces an earlier one). A damaged line — cut short, not JSON, or
 * JSON that is not a cell record — gets one line on stderr naming the file, its
 * line and what is wrong, and the run is refused (-EINVAL) unless flags has
 * CB_RESULTS_SKIP_DAMAGED. 0, or negative errno with its message on stderr. */
int cb_results_load(const char *dir, unsigned flags, cb_run_results *out);

/* The one check of a cells.jsonl line (the reader's and the bench's on resume):
 * line is len bytes without its newline, ended whether a newline ended it (a last
 * line without one was cut short by a crash, unless complete). 0 with *rec the
 * record (new reference), or -EINVAL with why (cap bytes, printable) saying what
 * is wrong. */
int cb_results_check_line(const char *line, size_t len, int ended, json_t **rec, char *why, size_t cap);
void cb_results_free(cb_run_results *r);

/* Statistics of n values (sorted in place). */
void cb_stats_of(double *v, size_t n, cb_stats *s);

/* The median of a JSON array of numbers (a cells.jsonl record's "times"), 0 when
 * empty. */
double cb_stats_median_json(json_t *numbers);

/* The median of a cell's own figure key over its runs (a workload's or model's extra:
 * items_per_s, gb_per_s, ...), NAN when the cell has none. */
double cb_results_figure(const cb_cell_summary *c, const char *key);

/* The machine's memory bandwidth measured at the start of the run (meta.json,
 * stream.h): 0, or -ENOENT when the run has none (runs from before it was measured). */
int cb_results_stream(const cb_run_results *r, cb_stream_figures *out);

/* A cell of the stages sweep (docs/measuring.md): its workload has a `stages`
 * parameter and c's differs from that of the N sweep (the value at the workload's
 * largest N, the one found at the most sizes when several are). */
int cb_results_stages_cell(const cb_run_results *r, const cb_cell_summary *c);

/* Same model, workload, params, C and cores: one series over N. */
int cb_results_same_series(const cb_cell_summary *a, const cb_cell_summary *b);

/* Whether the cell's model is the baseline (cb_model.baseline: sync). */
int cb_results_is_baseline(const cb_cell_summary *c);

/* The baseline cell with the same workload, params and tasks (same cores if measured,
 * else the fewest cores), or NULL. */
const cb_cell_summary *cb_results_baseline(const cb_run_results *r, const cb_cell_summary *c);

/* The ideal (docs/measuring.md) for a cell's job phase, in seconds, or -1 when it cannot be drawn:
 * CPU: sync job phase / min(cores, C); IO: wait per job × ceil(N / C). */
double cb_results_ideal(const cb_run_results *r, const cb_cell_summary *c);

/* How long one job of the cell's workload waits (its wait_s() for the cell's
 * params), s; -1 when the workload does not wait. */
double cb_results_wait_s(const cb_cell_summary *c);

#endif
