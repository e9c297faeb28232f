/* results.c — see results.h. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check.h"
#include "harness/results.h"
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

static void copy_str(char *dst, size_t cap, json_t *o, const char *key) {
  const char *v = json_string_value(json_object_get(o, key));
  snprintf(dst, cap, "%s", v ? v : "");
}

static double num(json_t *o, const char *key) { return json_number_value(json_object_get(o, key)); }

/* Reads cells/ID.jsonl: one JSON object per timed run. */
static int load_cell_lines(const char *path, cb_cell_summary *c) {
  FILE *f = fopen(path, "r");
  if (!f) return -errno;
  double walls[1024], cpus[1024], rss[1024];
  size_t n = 0, nw = 0;
  char *line = NULL;
  size_t cap = 0;
  c->verified = 1;
  while (getline(&line, &cap, f) > 0 && n < 1024) {
    json_error_t je;
    json_t *o = json_loads(line, 0, &je);
    if (!o) {
      c->verified = 0;
      snprintf(c->error, sizeof c->error, "unreadable cell JSON: %s", je.text);
      continue;
    }
    if (n == 0) {
      copy_str(c->model, sizeof c->model, o, "model");
      copy_str(c->workload, sizeof c->workload, o, "workload");
      copy_str(c->kind, sizeof c->kind, o, "kind");
      copy_str(c->created_kind, sizeof c->created_kind, o, "created_kind");
      c->tasks = json_integer_value(json_object_get(o, "tasks"));
      c->concurrency = json_integer_value(json_object_get(o, "concurrency"));
      c->created = json_integer_value(json_object_get(o, "created"));
      c->params = json_incref(json_object_get(o, "params"));
    }
    if (!json_is_true(json_object_get(o, "verified"))) {
      c->verified = 0;
      if (!c->error[0]) {
        const char *e = json_string_value(json_object_get(o, "error"));
        snprintf(c->error, sizeof c->error, "%s", e ? e : "not verified");
      }
    } else {
      walls[nw++] = num(o, "wall_s");
    }
    cpus[n] = num(o, "user_s") + num(o, "sys_s");
    rss[n] = num(o, "tree_rss_kb");
    n++;
    json_decref(o);
  }
  free(line);
  fclose(f);
  c->runs = (int)n;
  if (n == 0) {
    c->verified = 0;
    snprintf(c->error, sizeof c->error, "no run finished");
    return 0;
  }
  cb_stats s;
  cb_stats_of(walls, nw, &c->job_wall);
  cb_stats_of(cpus, n, &s);
  c->cpu_s = s.median;
  cb_stats_of(rss, n, &s);
  c->tree_rss_kb = s.median;
  return 0;
}

/* Reads hyperfine/ID.json: the timed runs of the whole command. */
static void load_hyperfine(const char *path, cb_cell_summary *c) {
  json_error_t je;
  json_t *o = json_load_file(path, 0, &je);
  json_t *times = o ? json_object_get(json_array_get(json_object_get(o, "results"), 0), "times") : NULL;
  if (!json_is_array(times) || json_array_size(times) == 0) {
    if (c->verified) snprintf(c->error, sizeof c->error, "hyperfine did not finish (no export)");
    c->verified = 0;
  } else {
    size_t n = json_array_size(times);
    double *v = malloc(n * sizeof *v);
    CB_CHECK(v != NULL);
    for (size_t k = 0; k < n; k++) v[k] = json_number_value(json_array_get(times, k));
    cb_stats_of(v, n, &c->wall);
    free(v);
  }
  json_decref(o);
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
  if (d == 0) d = (x->tasks > y->tasks) - (x->tasks < y->tasks);
  if (d == 0) d = rank_of(x->model, 1) - rank_of(y->model, 1);
  if (d == 0) d = (x->concurrency > y->concurrency) - (x->concurrency < y->concurrency);
  return d != 0 ? d : strcmp(x->id, y->id);
}

int cb_results_load(const char *dir, cb_run_results *out) {
  memset(out, 0, sizeof *out);
  snprintf(out->dir, sizeof out->dir, "%s", dir);
  char path[1024];
  snprintf(path, sizeof path, "%s/meta.json", dir);
  out->meta = json_load_file(path, 0, NULL);
  snprintf(path, sizeof path, "%s/cells", dir);
  struct dirent **names;
  int n = scandir(path, &names, NULL, alphasort);
  if (n < 0) {
    fprintf(stderr, "concbench report: %s: %s\n", path, strerror(errno));
    return -errno;
  }
  out->cells = calloc((size_t)n + 1, sizeof *out->cells);
  CB_CHECK(out->cells != NULL);
  for (int k = 0; k < n; k++) {
    const char *name = names[k]->d_name;
    size_t len = strlen(name);
    if (len > 6 && len - 6 < sizeof out->cells[0].id && strcmp(name + len - 6, ".jsonl") == 0) {
      cb_cell_summary *c = &out->cells[out->ncells++];
      snprintf(c->id, sizeof c->id, "%.*s", (int)(len - 6), name);
      snprintf(path, sizeof path, "%s/cells/%s", dir, name);
      load_cell_lines(path, c);
      snprintf(path, sizeof path, "%s/hyperfine/%s.json", dir, c->id);
      load_hyperfine(path, c);
    }
    free(names[k]);
  }
  free(names);
  qsort(out->cells, out->ncells, sizeof *out->cells, cmp_cells);
  return 0;
}

void cb_results_free(cb_run_results *r) {
  for (size_t k = 0; k < r->ncells; k++) json_decref(r->cells[k].params);
  free(r->cells);
  json_decref(r->meta);
}

const cb_cell_summary *cb_results_baseline(const cb_run_results *r, const cb_cell_summary *c) {
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *b = &r->cells[k];
    if (strcmp(b->model, "sync") == 0 && strcmp(b->workload, c->workload) == 0 &&
        b->tasks == c->tasks && json_equal(b->params, c->params))
      return b;
  }
  return NULL;
}

double cb_results_ideal(const cb_run_results *r, const cb_cell_summary *c) {
  long long conc = c->concurrency > 0 ? c->concurrency : 1;
  if (strcmp(c->kind, "cpu") == 0) {
    const cb_cell_summary *b = cb_results_baseline(r, c);
    long long cores = r->meta ? json_integer_value(json_object_get(r->meta, "cores")) : 0;
    if (!b || !b->verified || cores <= 0) return -1;
    return b->wall.median / (double)(cores < conc ? cores : conc);
  }
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
  return w->wait_s(&env) * (double)((c->tasks + conc - 1) / conc);
}
