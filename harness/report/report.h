/* report.h — the parts of `concbench report` (internal, cb__): the text
 * (tables.c) and the charts (charts.c). */
#ifndef CB_REPORT_H
#define CB_REPORT_H

#include <stdio.h>

#include "harness/report/doc.h"
#include "harness/bench/results.h"

typedef struct cb__chart {
  char stem[16];   /* bars, scaling, memory, cores: STEM.png and STEM.svg in the run folder */
  char title[128];
} cb__chart;

/* "k=v k=v" of a params object. */
void cb__params_text(json_t *params, char *buf, size_t cap);

/* Writes the whole document (summary, tables, the charts given) and summary.csv. */
void cb__report_write(const cb_run_results *r, cb__doc *d, FILE *csv, const cb__chart *charts, int ncharts);

/* Writes each chart's data (STEM.dat) and draws it with scripts/STEM.gp as PNG and
 * SVG; a chart without data is left out. Fills charts (cap 4). 0 or -EIO. */
int cb__report_charts(const cb_run_results *r, const char *dir, cb__chart *charts, int *ncharts);

#endif
