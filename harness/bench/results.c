/* results.c — see results.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "harness/bench/results.h"
#include "runtimes/runtime.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

void cb_stats_of(double *v, size_t n, cb_stats *s) {
  *s = (cb_stats){.n = n};
  if (n == 0) return;
  qsort(v, n, sizeof *v, cmp_double);
  s->min = v[0];
  s->max = v[n - 1];
  s->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  double sum = 0, sq = 0;
  for (size_t k = 0; k < n; k++) sum += v[k];
  s->mean = sum / (double)n;
  for (size_t k = 0; k < n; k++) sq += (v[k] - s->mean) * (v[k] - s->mean);
  s->stddev = n > 1 ? sqrt(sq / (double)(n - 1)) : 0;
  s->cv = s->mean > 0 ? s->stddev / s->mean : 0;
}

double cb_stats_median_json(json_t *numbers) {
  size_t n = json_array_size(numbers);
  double *v = malloc((n ? n : 1) * sizeof *v);
  CB_CHECK(v != NULL);
  for (size_t k = 0; k < n; k++) v[k] = json_number_value(json_array_get(numbers, k));
  cb_stats s;
  cb_stats_of(v, n, &s);
  free(v);
  return s.median;
}

static void copy_str(char *dst, size_t cap, json_t *o, const char *key) {
  const char *v = json_string_value(json_object_get(o, key));
  snprintf(dst, cap, "%s", v ? v : "");
}

static double num(json_t *o, const char *key) { return json_number_value(json_object_get(o, key)); }

/* Medians of the per-operation figures over the runs, as "key=value ...": the
 * numbers beyond the run record's keys (record.h). */
static void per_op(json_t *runs, cb_cell_summary *c) {
  const char *key;
  json_t *v;
  size_t used = 0, m = json_array_size(runs);
  double *vals = malloc((m ? m : 1) * sizeof *vals);
  CB_CHECK(vals != NULL);
  json_object_foreach(json_array_get(runs, 0), key, v) {
    if (cb_run_key_find(key) >= 0 || !json_is_number(v) || used >= sizeof c->per_op) continue;
    size_t n = 0;
    for (size_t k = 0; k < m; k++) {
      json_t *x = json_object_get(json_array_get(runs, k), key);
      if (json_is_number(x)) vals[n++] = json_number_value(x);
    }
    cb_stats s;
    cb_stats_of(vals, n, &s);
    used += (size_t)snprintf(c->per_op + used, sizeof c->per_op - used, "%s%s=%.4g", used ? " " : "", key, s.median);
  }
  free(vals);
}

/* The figures of an ok cell: hyperfine times and its runs' cell JSON. */
static void load_figures(json_t *rec, cb_cell_summary *c) {
  json_t *times = json_object_get(rec, "times"), *runs = json_object_get(rec, "runs");
  size_t n = json_array_size(times), m = json_array_size(runs);
  c->times = malloc((n ? n : 1) * sizeof *c->times);
  double *sorted = malloc((n ? n : 1) * sizeof *sorted);
  double *jw = malloc((m ? m : 1) * sizeof *jw), *cpu = malloc((m ? m : 1) * sizeof *cpu),
         *rss = malloc((m ? m : 1) * sizeof *rss), *ls = malloc((m ? m : 1) * sizeof *ls);
  CB_CHECK(c->times && sorted && jw && cpu && rss && ls);
  size_t nls = 0;
  for (size_t k = 0; k < n; k++) c->times[k] = sorted[k] = json_number_value(json_array_get(times, k));
  cb_stats_of(sorted, n, &c->wall);
  for (size_t k = 0; k < m; k++) {
    json_t *o = json_array_get(runs, k);
    jw[k] = num(o, "wall_s");
    cpu[k] = num(o, "user_s") + num(o, "sys_s");
    rss[k] = num(o, "tree_rss_kb");
    if (json_is_number(json_object_get(o, "last_start_s"))) ls[nls++] = num(o, "last_start_s");
  }
  cb_stats s;
  cb_stats_of(jw, m, &c->job_wall);
  cb_stats_of(cpu, m, &s);
  c->cpu_s = s.median;
  cb_stats_of(rss, m, &s);
  c->tree_rss_kb = s.median;
  if (nls == m && m > 0) {
    cb_stats_of(ls, nls, &s);
    c->last_start_s = s.median;
  }
  per_op(runs, c);
  free(sorted), free(jw), free(cpu), free(rss), free(ls);
}

static void load_record(json_t *rec, cb_cell_summary *c) {
  memset(c, 0, sizeof *c);
  copy_str(c->id, sizeof c->id, rec, "id");
  copy_str(c->model, sizeof c->model, rec, "model");
  copy_str(c->workload, sizeof c->workload, rec, "workload");
  copy_str(c->kind, sizeof c->kind, rec, "kind");
  copy_str(c->status, sizeof c->status, rec, "status");
  copy_str(c->error, sizeof c->error, rec, "error");
  c->tasks = json_integer_value(json_object_get(rec, "tasks"));
  c->concurrency = json_integer_value(json_object_get(rec, "concurrency"));
  c->cores = (int)json_integer_value(json_object_get(rec, "cores"));
  c->params = json_incref(json_object_get(rec, "params"));
  c->verified = strcmp(c->status, "ok") == 0;
  c->rss_per_task_kb = NAN;
  c->last_start_s = NAN;
  json_t *first = json_array_get(json_object_get(rec, "runs"), 0);
  if (!first) first = json_object_get(rec, "probe");
  c->eff_concurrency = json_integer_value(json_object_get(first, "concurrency"));
  if (c->eff_concurrency <= 0) c->eff_concurrency = c->concurrency > 0 ? c->concurrency : c->tasks;
  c->created = json_integer_value(json_object_get(first, "created"));
  copy_str(c->created_kind, sizeof c->created_kind, first, "created_kind");
  if (c->verified) load_figures(rec, c);
}

int cb_results_same_series(const cb_cell_summary *a, const cb_cell_summary *b) {
  return strcmp(a->model, b->model) == 0 && strcmp(a->workload, b->workload) == 0 &&
         a->concurrency == b->concurrency && a->cores == b->cores && json_equal(a->params, b->params);
}

/* Least-squares slope of tree RSS over N across each series' verified cells. */
static void rss_slopes(cb_run_results *r) {
  for (size_t k = 0; k < r->ncells; k++) {
    cb_cell_summary *c = &r->cells[k];
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int n = 0;
    long long first = -1, distinct = 0;
    for (size_t j = 0; j < r->ncells; j++) {
      const cb_cell_summary *d = &r->cells[j];
      if (!d->verified || !cb_results_same_series(c, d)) continue;
      double x = (double)d->tasks, y = d->tree_rss_kb;
      sx += x, sy += y, sxx += x * x, sxy += x * y, n++;
      if (first < 0) first = d->tasks;
      distinct += d->tasks != first;
    }
    double den = n * sxx - sx * sx;
    if (distinct > 0 && den > 0) c->rss_per_task_kb = (n * sxy - sx * sy) / den;
  }
}

/* Registry order: workloads as `concbench list` shows them, then models likewise. */
static int rank_of(const char *name, int models) {
  size_t n;
  if (models) {
    const cb_model *const *all = cb_model_all(&n);
    for (size_t k = 0; k < n; k++)
      if (strcmp(all[k]->name, name) == 0) return (int)k;
  } else {
    const cb_workload *const *all = cb_workload_all(&n);
    for (size_t k = 0; k < n; k++)
      if (strcmp(all[k]->name, name) == 0) return (int)k;
  }
  return (int)n;
}

static int cmp_cells(const void *a, const void *b) {
  const cb_cell_summary *x = a, *y = b;
  int d = rank_of(x->workload, 0) - rank_of(y->workload, 0);
  if (d == 0) d = strcmp(x->workload, y->workload);
  if (d == 0) d = (x->tasks > y->tasks) - (x->tasks < y->tasks);
  if (d == 0) d = x->cores - y->cores;
  if (d == 0) d = rank_of(x->model, 1) - rank_of(y->model, 1);
  if (d == 0) d = strcmp(x->model, y->model);
  if (d == 0) d = (x->concurrency > y->concurrency) - (x->concurrency < y->concurrency);
  return d != 0 ? d : strcmp(x->id, y->id);
}

static void free_cell(cb_cell_summary *c) {
  json_decref(c->params);
  free(c->times);
}

int cb_results_load(const char *dir, cb_run_results *out) {
  memset(out, 0, sizeof *out);
  snprintf(out->dir, sizeof out->dir, "%s", dir);
  char path[1024];
  snprintf(path, sizeof path, "%s/meta.json", dir);
  out->meta = json_load_file(path, 0, NULL);
  snprintf(path, sizeof path, "%s/cells.jsonl", dir);
  FILE *f = fopen(path, "r");
  if (!f) {
    int e = errno;
    fprintf(stderr, "concbench: %s: %s (not a bench run folder?)\n", path, strerror(e));
    json_decref(out->meta);
    return -e;
  }
  size_t cap = 16;
  out->cells = calloc(cap, sizeof *out->cells);
  CB_CHECK(out->cells != NULL);
  char *line = NULL;
  size_t lcap = 0;
  while (getline(&line, &lcap, f) > 0) {
    json_t *rec = json_loads(line, 0, NULL);
    if (!json_is_object(rec) || !json_is_string(json_object_get(rec, "status"))) {
      json_decref(rec); /* a torn line from a crash mid-write */
      continue;
    }
    cb_cell_summary c;
    load_record(rec, &c);
    json_decref(rec);
    size_t k = 0;
    while (k < out->ncells && !(cb_results_same_series(&out->cells[k], &c) && out->cells[k].tasks == c.tasks)) k++;
    if (k < out->ncells) {
      free_cell(&out->cells[k]);
    } else {
      if (out->ncells == cap) {
        cap *= 2;
        out->cells = realloc(out->cells, cap * sizeof *out->cells);
        CB_CHECK(out->cells != NULL);
      }
      out->ncells++;
    }
    out->cells[k] = c;
  }
  free(line);
  fclose(f);
  qsort(out->cells, out->ncells, sizeof *out->cells, cmp_cells);
  rss_slopes(out);
  return 0;
}

void cb_results_free(cb_run_results *r) {
  for (size_t k = 0; k < r->ncells; k++) free_cell(&r->cells[k]);
  free(r->cells);
  json_decref(r->meta);
}

int cb_results_is_baseline(const cb_cell_summary *c) {
  const cb_model *m = cb_model_find(c->model);
  return m && m->baseline;
}

const cb_cell_summary *cb_results_baseline(const cb_run_results *r, const cb_cell_summary *c) {
  const cb_cell_summary *best = NULL;
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *b = &r->cells[k];
    if (!cb_results_is_baseline(b) || strcmp(b->workload, c->workload) != 0 || b->tasks != c->tasks ||
        !json_equal(b->params, c->params))
      continue;
    if (b->cores == c->cores) return b;
    if (!best || b->cores < best->cores) best = b;
  }
  return best;
}

double cb_results_ideal(const cb_run_results *r, const cb_cell_summary *c) {
  long long conc = c->eff_concurrency > 0 ? c->eff_concurrency : 1;
  if (strcmp(c->kind, "cpu") == 0) {
    const cb_cell_summary *b = cb_results_baseline(r, c);
    long long cores = c->cores;
    if (cores <= 0 && r->meta) cores = json_integer_value(json_object_get(r->meta, "cores"));
    if (!b || !b->verified || cores <= 0) return -1;
    return b->job_wall.median / (double)(cores < conc ? cores : conc);
  }
  double wait = cb_results_wait_s(c);
  return wait < 0 ? -1 : wait * (double)((c->tasks + conc - 1) / conc);
}

double cb_results_wait_s(const cb_cell_summary *c) {
  const cb_workload *w = cb_workload_find(c->workload);
  if (!w || !w->wait_s) return -1;
  cb_params p = {0};
  for (int k = 0; k < w->nparams; k++) {
    json_t *v = json_object_get(c->params, w->params[k].name);
    p.v[k] = w->params[k].def;
    if (json_is_integer(v)) p.v[k] = json_integer_value(v);
    for (int ch = 0; json_is_string(v) && w->params[k].choices && w->params[k].choices[ch]; ch++)
      if (strcmp(w->params[k].choices[ch], json_string_value(v)) == 0) p.v[k] = ch;
  }
  cb_job_env env = {.workload = w, .params = &p};
  return w->wait_s(&env);
}
