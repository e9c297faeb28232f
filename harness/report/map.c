/* map.c — see map.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness/report/map.h"
#include "harness/report/report.h"
#include "runtimes/runtime.h"

static int param_num(const cb_cell_summary *c, const char *name, double *out) {
  json_t *v = c->params ? json_object_get(c->params, name) : NULL;
  if (!json_is_number(v)) return 0;
  *out = json_number_value(v);
  return 1;
}

static int add_value(double *vals, int *n, double x) {
  for (int k = 0; k < *n; k++)
    if (vals[k] == x) return k;
  if (*n == CB_MAP_MAX) return -1;
  int k = (*n)++;
  while (k > 0 && vals[k - 1] > x) {
    vals[k] = vals[k - 1];
    k--;
  }
  vals[k] = x;
  return k;
}

static int index_of(const double *vals, int n, double x) {
  for (int k = 0; k < n; k++)
    if (vals[k] == x) return k;
  return -1;
}

static int model_index(const char *name) {
  size_t n;
  const cb_model *const *all = cb_model_all(&n);
  for (size_t k = 0; k < n; k++)
    if (strcmp(all[k]->name, name) == 0) return (int)k + 1;
  return 0;
}

void cb_map_build(const cb_run_results *r, cb_map *m) {
  memset(m, 0, sizeof *m);
  double cpu, io;
  /* the N closest to 100, then the most cores at it */
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (!param_num(c, "cpu_us", &cpu) || !param_num(c, "io_ms", &io)) continue;
    if (m->n == 0 || llabs(c->tasks - 100) < llabs(m->n - 100)) m->n = c->tasks, m->cores = c->cores;
    if (c->tasks == m->n && c->cores > m->cores) m->cores = c->cores;
  }
  if (m->n == 0) return;
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (!param_num(c, "cpu_us", &cpu) || !param_num(c, "io_ms", &io) || c->tasks != m->n || c->cores != m->cores) continue;
    int x = add_value(m->cpu_us, &m->ncpu, cpu), y = add_value(m->io_ms, &m->nio, io);
    if (x < 0 || y < 0) continue;
  }
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (!param_num(c, "cpu_us", &cpu) || !param_num(c, "io_ms", &io) || c->tasks != m->n || c->cores != m->cores) continue;
    int x = index_of(m->cpu_us, m->ncpu, cpu), y = index_of(m->io_ms, m->nio, io);
    if (x < 0 || y < 0) continue;
    m->present[x][y] = 1;
    cb_map_square *s = &m->sq[x][y];
    if (!c->verified || !(c->wall.median > 0)) {
      s->failed++;
      continue;
    }
    double t = c->wall.median;
    if (!s->measured || t < s->best_s) {
      if (s->measured) {
        memcpy(s->runner, s->best, sizeof s->runner);
        s->margin = s->best_s; /* the runner-up's time, divided below */
      }
      snprintf(s->best, sizeof s->best, "%s", c->model);
      s->best_s = t;
      s->measured = 1;
    } else if (!s->runner[0] || t < s->margin) {
      snprintf(s->runner, sizeof s->runner, "%s", c->model);
      s->margin = t;
    }
  }
  for (int x = 0; x < m->ncpu; x++)
    for (int y = 0; y < m->nio; y++) {
      cb_map_square *s = &m->sq[x][y];
      if (!s->measured) continue;
      s->margin = s->runner[0] ? s->margin / s->best_s : 0;
      s->best_index = model_index(s->best);
    }
}

int cb_map_data(const cb_map *m, FILE *f) {
  int rows = 0;
  for (int x = 0; x < m->ncpu; x++)
    for (int y = 0; y < m->nio; y++) {
      const cb_map_square *s = &m->sq[x][y];
      if (!s->measured) continue;
      char best[32], runner[32] = "-";
      cb__safe_word(best, s->best, sizeof best);
      if (s->runner[0]) cb__safe_word(runner, s->runner, sizeof runner);
      fprintf(f, "%d %d %g %g %s %s %.3f %d\n", x, y, m->cpu_us[x], m->io_ms[y], best, runner, s->margin, s->best_index);
      rows++;
    }
  return rows;
}

void cb_map_section(const cb_map *m, cb__doc *d) {
  if (m->n == 0 || m->ncpu == 0) return;
  cb__doc_heading(d, 3, "Which model wins each job shape (the map)");
  cb__doc_para(d, "Mixed cells at N=%lld on %d cores: each job alternates cpu_us of CPU and io_ms of waiting. Each "
                  "square: the model with the lowest median wall time and how far the runner-up is behind it "
                  "(×); *only* when no other model verified; — when none did.", m->n, m->cores);
  const char *head[CB_MAP_MAX + 1];
  char heads[CB_MAP_MAX][32], align[CB_MAP_MAX + 2];
  head[0] = "io_ms \\ cpu_us";
  align[0] = 'r';
  for (int x = 0; x < m->ncpu; x++) {
    snprintf(heads[x], sizeof heads[x], "%g", m->cpu_us[x]);
    head[x + 1] = heads[x];
    align[x + 1] = 'l';
  }
  align[m->ncpu + 1] = '\0';
  cb__doc_table(d, head, align, m->ncpu + 1);
  for (int y = 0; y < m->nio; y++) {
    char cells[CB_MAP_MAX + 1][96];
    const char *row[CB_MAP_MAX + 1];
    snprintf(cells[0], sizeof cells[0], "%g", m->io_ms[y]);
    row[0] = cells[0];
    for (int x = 0; x < m->ncpu; x++) {
      const cb_map_square *s = &m->sq[x][y];
      if (!m->present[x][y]) snprintf(cells[x + 1], sizeof cells[x + 1], " ");
      else if (!s->measured) snprintf(cells[x + 1], sizeof cells[x + 1], "— (none verified)");
      else if (!s->runner[0]) snprintf(cells[x + 1], sizeof cells[x + 1], "%.31s (only)", s->best);
      else snprintf(cells[x + 1], sizeof cells[x + 1], "%.31s (%.2f× over %.31s)", s->best, s->margin, s->runner);
      row[x + 1] = cells[x + 1];
    }
    cb__doc_row(d, row, m->ncpu + 1);
  }
  cb__doc_table_end(d);
}
