/* bandwidth.c — the report's memory bandwidth section: for each workload whose cells
 * report gb_per_s (workloads/membw.c), the run's STREAM ceiling (meta.json, measured
 * at the start of the bench; stream.h) and a table model × cores of each cell's GB/s
 * and its share of the ceiling: the 1-thread figure on one core, the all-threads
 * figure on more. A run without a STREAM figure says so and shows no share. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness/bench/bench.h"
#include "harness/report/report.h"

static int has_gb(const cb_cell_summary *c) { return !isnan(cb_results_figure(c, "gb_per_s")); }

static void section(const cb_run_results *r, size_t first, const cb_stream_figures *s, int have, cb__doc *d) {
  const char *w = r->cells[first].workload;
  char title[96];
  snprintf(title, sizeof title, "Memory bandwidth: %s", w);
  cb__doc_heading(d, 2, title);
  if (have)
    cb__doc_para(d, "Memory bandwidth ceiling (STREAM triad, measured at the start of this run): 1 thread %.1f GB/s, "
                    "%d threads %.1f GB/s. Each cell: the model's GB/s (gb_per_s: the sweeps' bytes over the whole job "
                    "phase, which also maps, first-touches and reads back each job's arrays; median over the runs) and "
                    "its share of the ceiling (the 1-thread figure on one core, the %d-thread figure on more).",
                 s->threads_1, s->cores, s->threads_all, s->cores);
  else
    cb__doc_para(d, "No memory bandwidth ceiling for this run: its meta.json has no STREAM figure (stream_gb_per_s; "
                    "runs from before it was measured), so each model's GB/s (gb_per_s, median over the runs) stands "
                    "alone.");
  int cores[CB_BENCH_MAX_LIST], ncores = 0;
  for (size_t k = first; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (strcmp(c->workload, w) != 0 || strcmp(c->status, cb_class_name(CB_CLASS_UNSUPPORTED)) == 0) continue;
    int seen = 0;
    for (int j = 0; j < ncores; j++) seen |= cores[j] == c->cores;
    if (!seen && ncores < CB_BENCH_MAX_LIST) cores[ncores++] = c->cores;
  }
  const char *head[CB_BENCH_MAX_LIST + 1];
  char heads[CB_BENCH_MAX_LIST][32], align[CB_BENCH_MAX_LIST + 2] = "l";
  head[0] = "model";
  for (int j = 0; j < ncores; j++) {
    snprintf(heads[j], sizeof heads[j], "%d core%s: GB/s%s", cores[j], cores[j] == 1 ? "" : "s", have ? " (% of ceiling)" : "");
    head[j + 1] = heads[j];
    strcat(align, "r");
  }
  cb__doc_table(d, head, align, ncores + 1);
  for (size_t k = first; k < r->ncells; k++) {
    const cb_cell_summary *m = &r->cells[k];
    if (strcmp(m->workload, w) != 0 || strcmp(m->status, cb_class_name(CB_CLASS_UNSUPPORTED)) == 0) continue;
    int seen = 0; /* a row per model, at its first cell */
    for (size_t j = first; j < k && !seen; j++)
      seen = strcmp(r->cells[j].workload, w) == 0 && strcmp(r->cells[j].model, m->model) == 0 &&
             strcmp(r->cells[j].status, cb_class_name(CB_CLASS_UNSUPPORTED)) != 0;
    if (seen) continue;
    const char *row[CB_BENCH_MAX_LIST + 1];
    char cells[CB_BENCH_MAX_LIST][64];
    row[0] = m->model;
    for (int j = 0; j < ncores; j++) {
      snprintf(cells[j], sizeof cells[j], "—");
      for (size_t i = first; i < r->ncells; i++) {
        const cb_cell_summary *c = &r->cells[i];
        if (strcmp(c->workload, w) != 0 || strcmp(c->model, m->model) != 0 || c->cores != cores[j]) continue;
        double gb = cb_results_figure(c, "gb_per_s"), ceil = cores[j] == 1 ? s->threads_1 : s->threads_all;
        if (!c->verified) snprintf(cells[j], sizeof cells[j], "**%s**", c->status);
        else if (isnan(gb)) continue;
        else if (have) snprintf(cells[j], sizeof cells[j], "%.2f (%.0f%%)", gb, 100 * gb / ceil);
        else snprintf(cells[j], sizeof cells[j], "%.2f", gb);
        break;
      }
      row[j + 1] = cells[j];
    }
    cb__doc_row(d, row, ncores + 1);
  }
  cb__doc_table_end(d);
}

void cb__report_membw(const cb_run_results *r, cb__doc *d) {
  cb_stream_figures s = {0};
  int have = cb_results_stream(r, &s) == 0;
  for (size_t k = 0; k < r->ncells; k++) {
    int first = 1, any = 0;
    for (size_t j = 0; j < r->ncells; j++) {
      if (strcmp(r->cells[j].workload, r->cells[k].workload) != 0) continue;
      first &= j >= k;
      any |= has_gb(&r->cells[j]);
    }
    if (first && any) section(r, k, &s, have, d);
  }
}
