/* cmd_report.c — `concbench report [--skip-damaged] [RUN]`: from a bench run folder (default
 * results/latest) writes tables.md, report.html, summary.csv, servers.csv and the charts
 * (bars, scaling, memory, cores, map, hockey, pipeline, membw; PNG and SVG, in each model's look
 * from scripts/palette.tsv). report.html holds the charts itself and works alone. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/cli/commands.h"
#include "harness/report/report.h"

static FILE *open_out(const char *dir, const char *name) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) fprintf(stderr, "concbench report: cannot write %s: %s\n", path, strerror(errno));
  return f;
}

/* The cells of r that are (server = 1) or are not server cells, as a view: its
 * cells array is its own, the cells in it are r's (free only view->cells). */
static void view_of(const cb_run_results *r, int server, cb_run_results *view) {
  *view = *r;
  view->cells = calloc(r->ncells ? r->ncells : 1, sizeof *view->cells);
  view->ncells = 0;
  if (!view->cells) return;
  for (size_t k = 0; k < r->ncells; k++)
    if (r->cells[k].server == server) view->cells[view->ncells++] = r->cells[k];
}

int cb_cmd_report(int argc, char **argv) {
  const char *dir = NULL;
  unsigned flags = 0;
  for (int k = 0; k < argc; k++) {
    if (strcmp(argv[k], "--skip-damaged") == 0) {
      flags |= CB_RESULTS_SKIP_DAMAGED;
    } else if (argv[k][0] == '-' || dir) {
      fprintf(stderr, "concbench report: takes [--skip-damaged] and one run folder, got '%s'\n", argv[k]);
      return 2;
    } else {
      dir = argv[k];
    }
  }
  if (!dir) dir = "results/latest";
  if (access(dir, R_OK) != 0) {
    fprintf(stderr, "concbench report: RUN: cannot read run folder %s: %s\n", dir, strerror(errno));
    return 2;
  }
  cb_run_results r;
  if (cb_results_load(dir, flags, &r) != 0) return 2;
  cb_run_results clients, servers;
  view_of(&r, 0, &clients);
  view_of(&r, 1, &servers);
  if (!clients.cells || !servers.cells) {
    fprintf(stderr, "concbench report: out of memory\n");
    return 1;
  }
  static cb__palette pal; /* each model's look: scripts/palette.tsv */
  if (cb__palette_load(&pal) != 0) {
    free(clients.cells), free(servers.cells), cb_results_free(&r);
    return 1;
  }
  cb__chart charts[CB_REPORT_MAX_CHARTS];
  int ncharts = 0;
  int rc = cb__report_charts(&clients, &servers, &pal, dir, charts, &ncharts) == 0 ? 0 : 1;
  cb__doc doc = {.md = open_out(dir, "tables.md"), .html = open_out(dir, "report.html"), .pal = &pal, .dir = dir};
  FILE *csv = open_out(dir, "summary.csv"), *servers_csv = open_out(dir, "servers.csv");
  if (doc.md && doc.html && csv && servers_csv) cb__report_write(&clients, &servers, &doc, csv, servers_csv, charts, ncharts);
  else rc = 1;
  if (doc.md) fclose(doc.md);
  if (doc.html) fclose(doc.html);
  if (csv) fclose(csv);
  if (servers_csv) fclose(servers_csv);
  free(clients.cells);
  free(servers.cells);
  cb_results_free(&r);
  if (rc == 0) printf("report: %s/tables.md, report.html, summary.csv, servers.csv and %d charts\n", dir, ncharts);
  return rc;
}
