/* map.h — the map (issue 17): which model wins each job shape of a run's mixed
 * cells (cpu_us × io_ms, at the N closest to 100, the most cores), by the median
 * wall time, with its margin over the runner-up. Data for scripts/map.gp and a
 * table for the report. */
#ifndef CB_MAP_H
#define CB_MAP_H

#include <stdio.h>

#include "harness/bench/results.h"
#include "harness/report/doc.h"

#define CB_MAP_MAX 16 /* distinct cpu_us and io_ms values each */

typedef struct cb_map_square {
  int measured;            /* at least one model verified */
  char best[32], runner[32]; /* runner empty: only one model verified */
  double best_s, margin;   /* runner-up's wall / the best's (0 without a runner-up) */
  int best_index;          /* the best model's place in the model list (its colour) */
  int failed;              /* models that did not verify here */
} cb_map_square;

typedef struct cb_map {
  long long n;             /* the N the squares are at (0: no mixed cells) */
  int cores;
  double cpu_us[CB_MAP_MAX], io_ms[CB_MAP_MAX]; /* ascending */
  int ncpu, nio;
  cb_map_square sq[CB_MAP_MAX][CB_MAP_MAX]; /* [cpu][io] */
  int present[CB_MAP_MAX][CB_MAP_MAX];      /* a cell of that shape exists */
} cb_map;

/* Fills m from the cells whose params have cpu_us and io_ms; 0 squares when none. */
void cb_map_build(const cb_run_results *r, cb_map *m);

/* map.dat: one row per square with a measured best:
 * xi yi cpu_us io_ms best runner_up margin best_index (names made chart-safe;
 * runner_up "-" and margin 0 when only one model verified). Returns the rows. */
int cb_map_data(const cb_map *m, FILE *f);

/* The report's section: a table, rows io_ms, columns cpu_us, "best (margin×)". */
void cb_map_section(const cb_map *m, cb__doc *d);

#endif
