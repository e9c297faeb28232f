/* results.h — a bench run folder loaded into memory: one summary per cell, made
 * from the cell JSON lines of its runs (cells/ID.jsonl) and hyperfine's export
 * (hyperfine/ID.json). Report, compare and advise read runs only through this. */
#ifndef CB_RESULTS_H
#define CB_RESULTS_H

#include <jansson.h>
#include <stddef.h>

typedef struct cb_stats {
  size_t n;
  double median, min, max, mean, stddev, cv; /* cv = stddev / mean */
} cb_stats;

typedef struct cb_cell_summary {
  char id[128];
  char model[32], workload[32], kind[16];
  long long tasks, concurrency;
  json_t *params;      /* owned */
  int runs;            /* cell JSON lines */
  int verified;        /* every run verified and hyperfine finished */
  char error[256];     /* why not, when !verified */
  cb_stats wall;       /* hyperfine: whole command, s */
  cb_stats job_wall;   /* job phase from the cell JSON, s */
  double cpu_s;        /* median user+sys, s */
  double tree_rss_kb;  /* median */
  long long created;
  char created_kind[32];
} cb_cell_summary;

typedef struct cb_run_results {
  char dir[512];
  json_t *meta; /* owned, may be NULL */
  cb_cell_summary *cells;
  size_t ncells;
} cb_run_results;

/* Loads every cell of a run folder. 0, or negative errno with a message on stderr. */
int cb_results_load(const char *dir, cb_run_results *out);
void cb_results_free(cb_run_results *r);

/* Statistics of n values (sorted in place). */
void cb_stats_of(double *v, size_t n, cb_stats *s);

/* The sync cell with the same workload, params and tasks, or NULL. */
const cb_cell_summary *cb_results_baseline(const cb_run_results *r, const cb_cell_summary *c);

/* The ideal of DESIGN.md for a cell, in seconds, or -1 when it cannot be drawn:
 * CPU: sync time / min(cores, C); IO: wait per job × ceil(N / C). */
double cb_results_ideal(const cb_run_results *r, const cb_cell_summary *c);

#endif
