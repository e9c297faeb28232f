/* figures.c — the data of the charts drawn from the cells' own figures (results.h,
 * cb_results_figure), one row per verified cell that has the figure, names made
 * safe for the scripts' awk:
 *   pipeline.dat:        workload model N items_per_s p99_us ("?" when absent): the N
 *                        sweep of workloads with a `stages` parameter;
 *   pipeline_stages.dat: workload model stages items_per_s: every cell at the N of
 *                        the stages sweep, per model in order of stages;
 *   membw.dat:           workload model cores gb_per_s;
 *   membw_ceiling.dat:   threads gb_per_s, the run's STREAM figures (none when the
 *                        run has none).
 * items_per_s and item_latency_us_p99 come from runtimes/pipeline.c, gb_per_s from
 * workloads/membw.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "harness/report/report.h"

static long long stages_of(const cb_cell_summary *c) {
  json_t *v = json_object_get(c->params, "stages");
  return json_is_integer(v) ? json_integer_value(v) : -1;
}

static int by_model_then_stages(const void *a, const void *b) {
  const cb_cell_summary *x = *(const cb_cell_summary *const *)a, *y = *(const cb_cell_summary *const *)b;
  int d = strcmp(x->model, y->model);
  return d ? d : (stages_of(x) > stages_of(y)) - (stages_of(x) < stages_of(y));
}

static int has(const cb_cell_summary *c, const char *figure) { return c->verified && !isnan(cb_results_figure(c, figure)); }

int cb__report_pipeline_data(const cb_run_results *r, FILE *by_n, FILE *by_stages) {
  int rows = 0;
  const cb_cell_summary **at = calloc(r->ncells + 1, sizeof *at);
  CB_CHECK(at != NULL);
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (stages_of(c) < 0 || !has(c, "items_per_s")) continue;
    char w[sizeof c->workload], m[sizeof c->model];
    cb__safe_word(w, c->workload, sizeof w);
    cb__safe_word(m, c->model, sizeof m);
    if (!cb_results_stages_cell(r, c)) {
      double p99 = cb_results_figure(c, "item_latency_us_p99");
      fprintf(by_n, "%s %s %lld %.6g ", w, m, c->tasks, cb_results_figure(c, "items_per_s"));
      if (isnan(p99)) fprintf(by_n, "?\n");
      else fprintf(by_n, "%.6g\n", p99);
      rows++;
      continue;
    }
    int first = 1; /* of the workload's stages cells: its N is the sweep's */
    for (size_t j = 0; j < k && first; j++)
      first = !(strcmp(r->cells[j].workload, c->workload) == 0 && has(&r->cells[j], "items_per_s") &&
                cb_results_stages_cell(r, &r->cells[j]));
    if (!first) continue;
    size_t n = 0;
    for (size_t j = 0; j < r->ncells; j++)
      if (strcmp(r->cells[j].workload, c->workload) == 0 && r->cells[j].tasks == c->tasks &&
          has(&r->cells[j], "items_per_s") && stages_of(&r->cells[j]) >= 0)
        at[n++] = &r->cells[j];
    qsort(at, n, sizeof *at, by_model_then_stages);
    for (size_t j = 0; j < n; j++) {
      cb__safe_word(m, at[j]->model, sizeof m);
      fprintf(by_stages, "%s %s %lld %.6g\n", w, m, stages_of(at[j]), cb_results_figure(at[j], "items_per_s"));
      rows++;
    }
  }
  free(at);
  return rows;
}

int cb__report_membw_data(const cb_run_results *r, FILE *f, FILE *ceiling) {
  int rows = 0;
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (!has(c, "gb_per_s")) continue;
    char w[sizeof c->workload], m[sizeof c->model];
    cb__safe_word(w, c->workload, sizeof w);
    cb__safe_word(m, c->model, sizeof m);
    fprintf(f, "%s %s %d %.4f\n", w, m, c->cores, cb_results_figure(c, "gb_per_s"));
    rows++;
  }
  cb_stream_figures s;
  if (cb_results_stream(r, &s) == 0) fprintf(ceiling, "1 %.4f\n%d %.4f\n", s.threads_1, s.cores, s.threads_all);
  return rows;
}
