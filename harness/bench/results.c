/* results.c — see results.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Medians of the per-operation figures over the runs: the numbers beyond the run
 * record's keys (record.h), by key and as "key=value ...". */
static void per_op(json_t *runs, cb_cell_summary *c) {
  const char *key;
  json_t *v;
  size_t used = 0, m = json_array_size(runs);
  double *vals = malloc((m ? m : 1) * sizeof *vals);
  CB_CHECK(vals != NULL);
  const int cap = (int)(sizeof c->figure / sizeof *c->figure);
  json_object_foreach(json_array_get(runs, 0), key, v) {
    if (cb_run_key_find(key) >= 0 || !json_is_number(v) || c->nfigures == cap) continue;
    size_t n = 0;
    for (size_t k = 0; k < m; k++) {
      json_t *x = json_object_get(json_array_get(runs, k), key);
      if (json_is_number(x)) vals[n++] = json_number_value(x);
    }
    cb_stats s;
    cb_stats_of(vals, n, &s);
    snprintf(c->figure[c->nfigures].key, sizeof c->figure[0].key, "%s", key);
    c->figure[c->nfigures++].median = s.median;
    char item[96]; /* whole "key=value" items only: one that does not fit is left out */
    int len = snprintf(item, sizeof item, "%s%s=%.4g", used ? " " : "", key, s.median);
    if (len > 0 && used + (size_t)len < sizeof c->per_op) {
      memcpy(c->per_op + used, item, (size_t)len + 1);
      used += (size_t)len;
    }
  }
  free(vals);
}

double cb_results_figure(const cb_cell_summary *c, const char *key) {
  for (int k = 0; k < c->nfigures; k++)
    if (strcmp(c->figure[k].key, key) == 0) return c->figure[k].median;
  return NAN;
}

int cb_results_stream(const cb_run_results *r, cb_stream_figures *out) {
  return cb_stream_from_json(json_object_get(r->meta, CB_STREAM_META_KEY), out) == 0 ? 0 : -ENOENT;
}

/* The integer parameter name of a cell, -1 when it has none. */
static long long param_of(const cb_cell_summary *c, const char *name) {
  json_t *v = json_object_get(c->params, name);
  return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* Sizes (distinct N) at which the workload's cells have stages == v. */
static int sizes_with(const cb_run_results *r, const char *w, long long v) {
  int n = 0;
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (strcmp(c->workload, w) != 0 || param_of(c, "stages") != v) continue;
    int seen = 0;
    for (size_t j = 0; j < k && !seen; j++)
      seen = strcmp(r->cells[j].workload, w) == 0 && param_of(&r->cells[j], "stages") == v && r->cells[j].tasks == c->tasks;
    n += !seen;
  }
  return n;
}

int cb_results_stages_cell(const cb_run_results *r, const cb_cell_summary *c) {
  long long mine = param_of(c, "stages"), top = 0, sweep = -1;
  if (mine < 0) return 0;
  for (size_t k = 0; k < r->ncells; k++)
    if (strcmp(r->cells[k].workload, c->workload) == 0 && r->cells[k].tasks > top) top = r->cells[k].tasks;
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *e = &r->cells[k];
    long long v = param_of(e, "stages");
    if (strcmp(e->workload, c->workload) == 0 && e->tasks == top && v != sweep &&
        (sweep < 0 || sizes_with(r, c->workload, v) > sizes_with(r, c->workload, sweep)))
      sweep = v;
  }
  return mine != sweep;
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

static double median_of(double *v, size_t n) {
  cb_stats s;
  cb_stats_of(v, n, &s);
  return s.median;
}

/* A server cell's figures: medians over its runs' records (harness/run/serve_cell.c). */
static void load_server_figures(json_t *rec, cb_cell_summary *c) {
  json_t *runs = json_object_get(rec, "runs");
  size_t m = json_array_size(runs);
  double *v[7];
  for (int k = 0; k < 7; k++) CB_CHECK((v[k] = malloc((m ? m : 1) * sizeof(double))) != NULL);
  for (size_t k = 0; k < m; k++) {
    json_t *o = json_array_get(runs, k), *lat = json_object_get(o, "latency_ms");
    v[0][k] = num(o, "req_per_s");
    v[1][k] = num(lat, "p50"), v[2][k] = num(lat, "p99"), v[3][k] = num(lat, "p999"), v[4][k] = num(lat, "max");
    v[5][k] = num(json_object_get(o, "latency_uncorrected_ms"), "p99");
    v[6][k] = num(o, "generator_cpu");
    c->srv.generator_bound |= json_is_true(json_object_get(o, "generator_bound"));
  }
  json_t *first = json_array_get(runs, 0);
  c->srv.rate = num(first, "rate");
  copy_str(c->srv.server_cpus, sizeof c->srv.server_cpus, first, "server_cpus");
  copy_str(c->srv.generator_cpus, sizeof c->srv.generator_cpus, first, "generator_cpus");
  cb_stats_of(v[0], m, &c->srv.req_per_s);
  c->srv.p50_ms = median_of(v[1], m), c->srv.p99_ms = median_of(v[2], m), c->srv.p999_ms = median_of(v[3], m);
  c->srv.max_ms = median_of(v[4], m), c->srv.p99_uncorrected_ms = median_of(v[5], m);
  c->srv.generator_cpu = median_of(v[6], m);
  for (int k = 0; k < 7; k++) free(v[k]);
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
  c->server = strcmp(c->kind, "server") == 0;
  if (c->verified) load_figures(rec, c);
  if (c->verified && c->server) load_server_figures(rec, c);
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

/* Control bytes and non-ASCII in text quoted from a damaged file become '?', so
 * that one message stays one printable line. */
static void printable(char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) *s = '?';
}

static const char *const type_names[] = {[JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
                                         [JSON_STRING] = "a string",  [JSON_INTEGER] = "an integer",
                                         [JSON_REAL] = "a real",      [JSON_TRUE] = "true",
                                         [JSON_FALSE] = "false",      [JSON_NULL] = "null"};

static const char *type_name(const json_t *v) { return v ? type_names[json_typeof(v)] : "missing"; }

/* The keys every cells.jsonl record has (store.c's key is the resume's), with the
 * type each must have. */
static const struct {
  const char *key;
  json_type type;
} record_keys[] = {
    {"key", JSON_STRING},    {"id", JSON_STRING},     {"model", JSON_STRING},       {"workload", JSON_STRING},
    {"kind", JSON_STRING},   {"status", JSON_STRING}, {"params", JSON_OBJECT},      {"tasks", JSON_INTEGER},
    {"concurrency", JSON_INTEGER}, {"cores", JSON_INTEGER},
};

/* What is wrong with a parsed line as a cell record, or NULL when nothing is. */
static const char *record_problem(json_t *rec, char *why, size_t cap) {
  if (!json_is_object(rec)) return snprintf(why, cap, "not a cell record: %s, not an object", type_name(rec)), why;
  for (size_t k = 0; k < sizeof record_keys / sizeof *record_keys; k++) {
    json_t *v = json_object_get(rec, record_keys[k].key);
    if (!v || json_typeof(v) != record_keys[k].type)
      return snprintf(why, cap, "not a cell record: \"%s\" is %s, should be %s", record_keys[k].key, type_name(v),
                      type_names[record_keys[k].type]),
             why;
  }
  const char *status = json_string_value(json_object_get(rec, "status"));
  if (cb_class_find(status) < 0)
    return snprintf(why, cap, "not a cell record: status \"%.40s\" is not a class of docs/run-record.md", status), why;
  if (json_integer_value(json_object_get(rec, "tasks")) < 1 || json_integer_value(json_object_get(rec, "concurrency")) < 0 ||
      json_integer_value(json_object_get(rec, "cores")) < 0)
    return snprintf(why, cap, "not a cell record: tasks below 1, or concurrency or cores below 0"), why;
  json_t *err = json_object_get(rec, "error");
  if (err && !json_is_string(err) && !json_is_null(err))
    return snprintf(why, cap, "not a cell record: \"error\" is %s, should be a string or null", type_name(err)), why;
  if (strcmp(status, cb_class_name(CB_CLASS_OK)) != 0) return NULL;
  /* Only ok carries figures: hyperfine's times (compare resamples them) and the runs' records. */
  json_t *times = json_object_get(rec, "times"), *runs = json_object_get(rec, "runs"), *v;
  size_t k;
  if (!json_is_array(times) || json_array_size(times) == 0)
    return snprintf(why, cap, "not a cell record: an ok cell's \"times\" is %s, should be a non-empty array",
                    json_is_array(times) ? "empty" : type_name(times)),
           why;
  json_array_foreach(times, k, v) if (!json_is_number(v) || !(json_number_value(v) >= 0))
    return snprintf(why, cap, "not a cell record: \"times\"[%zu] is not a number of seconds", k), why;
  if (!json_is_array(runs))
    return snprintf(why, cap, "not a cell record: an ok cell's \"runs\" is %s, should be an array", type_name(runs)), why;
  static const char *const figures[] = {"wall_s", "user_s", "sys_s", "tree_rss_kb"}; /* what load_figures takes */
  json_array_foreach(runs, k, v) {
    if (!json_is_object(v))
      return snprintf(why, cap, "not a cell record: \"runs\"[%zu] is %s, should be an object", k, type_name(v)), why;
    for (size_t f = 0; f < sizeof figures / sizeof *figures; f++) {
      json_t *x = json_object_get(v, figures[f]);
      if (!json_is_number(x))
        return snprintf(why, cap, "not a cell record: \"runs\"[%zu].%s is %s, should be a number", k, figures[f],
                        type_name(x)),
               why;
    }
  }
  return NULL;
}

int cb_results_check_line(const char *line, size_t len, int ended, json_t **rec, char *why, size_t cap) {
  json_error_t e;
  *rec = json_loadb(line, len, 0, &e);
  if (!*rec) {
    if (!ended) snprintf(why, cap, "cut short: the last line has no newline and is not complete JSON (a write cut by a crash?)");
    else snprintf(why, cap, "not JSON (cut short or damaged): %s at column %d", e.text, e.column);
  } else if (!record_problem(*rec, why, cap)) {
    return 0;
  }
  json_decref(*rec);
  *rec = NULL;
  printable(why);
  return -EINVAL;
}

/* Shown in full up to this many per file; the rest are counted in one line. */
#define DAMAGED_SHOWN 20

/* One damaged line: its message, shown or counted. */
static void damaged(const char *path, size_t line, const char *why, unsigned flags, size_t *ndamaged) {
  if (++*ndamaged <= DAMAGED_SHOWN)
    fprintf(stderr, "concbench: %s%s:%zu: %s\n", flags & CB_RESULTS_SKIP_DAMAGED ? "skipped " : "", path, line, why);
}

/* meta.json: absent is fine (the report says the machine is unknown); present, it
 * must be one JSON object. */
static void load_meta(const char *dir, unsigned flags, cb_run_results *out, size_t *ndamaged) {
  char path[1024], why[320];
  snprintf(path, sizeof path, "%s/meta.json", dir);
  if (access(path, F_OK) != 0) return;
  json_error_t e;
  out->meta = json_load_file(path, 0, &e);
  if (json_is_object(out->meta)) return;
  if (out->meta) snprintf(why, sizeof why, "not a run's meta.json: %s, not an object", type_name(out->meta)), e.line = 1;
  else snprintf(why, sizeof why, "not JSON (cut short or damaged): %s", e.text);
  printable(why);
  json_decref(out->meta);
  out->meta = NULL;
  damaged(path, e.line > 0 ? (size_t)e.line : 1, why, flags, ndamaged);
}

int cb_results_load(const char *dir, unsigned flags, cb_run_results *out) {
  memset(out, 0, sizeof *out);
  snprintf(out->dir, sizeof out->dir, "%s", dir);
  size_t ndamaged = 0;
  load_meta(dir, flags, out, &ndamaged);
  char path[1024];
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
  char *line = NULL, why[320];
  size_t lcap = 0, lineno = 0;
  ssize_t n;
  while ((n = getline(&line, &lcap, f)) > 0) {
    lineno++;
    int ended = line[n - 1] == '\n';
    json_t *rec;
    if (cb_results_check_line(line, (size_t)n - ended, ended, &rec, why, sizeof why) != 0) {
      damaged(path, lineno, why, flags, &ndamaged);
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
  if (ndamaged > DAMAGED_SHOWN)
    fprintf(stderr, "concbench: %s%zu more damaged lines in %s, not shown\n",
            flags & CB_RESULTS_SKIP_DAMAGED ? "skipped " : "", ndamaged - DAMAGED_SHOWN, dir);
  if (ndamaged > 0 && !(flags & CB_RESULTS_SKIP_DAMAGED)) {
    fprintf(stderr, "concbench: %s is damaged (%zu damaged line%s): --skip-damaged reads the rest and lists what it skips; "
                    "the same bench run again moves damaged cells.jsonl lines aside and re-runs their cells\n", dir, ndamaged, ndamaged == 1 ? "" : "s");
    cb_results_free(out);
    return -EINVAL;
  }
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
