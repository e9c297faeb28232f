/* report.h — the parts of `concbench report` (internal, cb__): the text
 * (tables.c) and the charts (charts.c). */
#ifndef CB_REPORT_H
#define CB_REPORT_H

#include <stdio.h>

#include "harness/report/doc.h"
#include "harness/report/palette.h"
#include "harness/bench/results.h"

typedef struct cb__chart {
  char stem[16];   /* bars, scaling, ...: STEM.png and STEM.svg in the run folder */
  char title[128];
} cb__chart;

/* "k=v k=v" of a params object. */
void cb__params_text(json_t *params, char *buf, size_t cap);

/* The report reads a run as two views: the client cells (every kind but server)
 * and the server cells; r holds the client cells, servers the server cells. */

/* Writes the whole document (summary, tables, servers, the charts given),
 * summary.csv (client cells) and servers.csv (server cells). */
void cb__report_write(const cb_run_results *r, const cb_run_results *servers, cb__doc *d, FILE *csv,
                      FILE *servers_csv, const cb__chart *charts, int ncharts);

#define CB_REPORT_MAX_CHARTS 8
/* Writes each chart's data (STEM.dat) and draws it with scripts/STEM.gp as PNG and
 * SVG in the palette's styles (style.gp); a chart without data is left out. Fills charts (cap CB_REPORT_MAX_CHARTS).
 * 0 or -EIO. */
int cb__report_charts(const cb_run_results *r, const cb_run_results *servers, const cb__palette *pal, const char *dir,
                      cb__chart *charts, int *ncharts);

/* servers.c: the servers section of the document (and servers.csv), and the hockey chart's data
 * (workload model rate p99_ms req_per_s; names made safe for the script's awk).
 * Returns the rows written. */
void cb__report_servers(const cb_run_results *servers, cb__doc *d, FILE *csv);
int cb__report_hockey_data(const cb_run_results *servers, FILE *f);

/* figures.c: the pipeline and membw charts' data (see there). Returns the rows
 * written (pipeline: both files; membw: membw.dat). */
int cb__report_pipeline_data(const cb_run_results *r, FILE *by_n, FILE *by_stages);
int cb__report_membw_data(const cb_run_results *r, FILE *f, FILE *ceiling);

/* bandwidth.c: the memory bandwidth section (each model's GB/s against the STREAM
 * ceiling), when the run has cells with a gb_per_s figure. */
void cb__report_membw(const cb_run_results *r, cb__doc *d);

/* Copies in to out (at most cap bytes with the NUL), keeping ASCII letters, digits and
 * the characters of keep, and writing repl for any other byte. */
void cb__keep_chars(char *out, const char *in, size_t cap, const char *keep, char repl);

/* Keeps only [A-Za-z0-9._:+-] of in (others become '_'): names the charts' data
 * passes to the gnuplot scripts' awk. */
void cb__safe_word(char *out, const char *in, size_t cap);

#endif
