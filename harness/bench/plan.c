/* plan.c — which cells a bench runs, in which order, under which key.
 *
 * cpu workloads: N = cpu_tasks, swept over cores (affinity to the first k CPUs);
 * io, mixed and coord workloads: swept over N on every core; server workloads:
 * closed loop swept over connections on every core, then (cb_bench_plan_open) open
 * loop at fractions of the best closed-loop throughput; mixed workloads (the map):
 * a grid of job shapes, cpu_us x io_ms, at grid_tasks jobs on grid_cores cores;
 * workloads with a `stages` parameter (pipeline): after the N sweep, a sweep of
 * stages at one N (cb_bench_stages_n). Groups (workload ×
 * size) run smallest size first, so a model that gave out at a small N is known
 * before its larger cells; inside a group every model runs back to back in an
 * order that rotates from group to group. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/bench/bench.h"
#include "common/check.h"
#include "harness/bench/results.h"

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

static void params_text(const cb_plan_cell *c, char *buf, size_t cap) {
  const cb_workload *w = c->workload;
  size_t used = 0;
  buf[0] = '\0';
  for (int k = 0; k < w->nparams && used < cap; k++) {
    const cb_param_def *d = &w->params[k];
    if (d->choices)
      used += (size_t)snprintf(buf + used, cap - used, "%s%s=%s", k ? " " : "", d->name, d->choices[c->params.v[k]]);
    else
      used += (size_t)snprintf(buf + used, cap - used, "%s%s=%lld", k ? " " : "", d->name, (long long)c->params.v[k]);
  }
}

json_t *cb_plan_params_json(const cb_plan_cell *c) {
  const cb_workload *w = c->workload;
  json_t *o = json_object();
  for (int k = 0; k < w->nparams; k++)
    json_object_set_new(o, w->params[k].name, w->params[k].choices ? json_string(w->params[k].choices[c->params.v[k]])
                                                                    : json_integer(c->params.v[k]));
  return o;
}

/* Puts kv ("name=value", storage that outlives the plan) among c's overrides,
 * replacing an earlier one of the same name (the cell's argv would give it twice). */
static void put_override(cb_plan_cell *c, const char *kv) {
  size_t len = (size_t)(strchr(kv, '=') - kv);
  int out = 0;
  for (int j = 0; j < c->noverrides; j++)
    if (!(strncmp(c->overrides[j], kv, len) == 0 && c->overrides[j][len] == '=')) c->overrides[out++] = c->overrides[j];
  c->noverrides = out;
  c->overrides[c->noverrides++] = kv;
}

/* Defaults, then every plain override whose name the workload has, then those
 * scoped to it, which win (values were checked against the bounds when parsed). */
static void resolve_params(const cb_bench_opts *o, cb_plan_cell *c) {
  const cb_workload *w = c->workload;
  for (int k = 0; k < w->nparams; k++) c->params.v[k] = w->params[k].def;
  for (int scoped = 0; scoped < 2; scoped++)
    for (int j = 0; j < o->nparams; j++) {
      size_t scope;
      const char *kv = cb_bench_param_scope(o->params[j], &scope), *eq = strchr(kv, '=');
      if ((scope > 0) != scoped || (scope && (strlen(w->name) != scope || strncmp(w->name, o->params[j], scope) != 0)))
        continue;
      for (int k = 0; k < w->nparams; k++) {
        const cb_param_def *d = &w->params[k];
        if (strlen(d->name) != (size_t)(eq - kv) || strncmp(d->name, kv, (size_t)(eq - kv)) != 0) continue;
        if (d->choices) {
          for (int ch = 0; d->choices[ch]; ch++)
            if (strcmp(d->choices[ch], eq + 1) == 0) c->params.v[k] = ch;
        } else {
          c->params.v[k] = strtoll(eq + 1, NULL, 10);
        }
        put_override(c, kv);
      }
    }
}

static void name_cell(cb_plan_cell *c, const char *binary, const char *host) {
  char ptext[512], key[1024];
  params_text(c, ptext, sizeof ptext);
  snprintf(key, sizeof key, "%s|%s|%s|%lld|%lld|%d|%s|%s", c->model->name, c->workload->name, ptext, c->tasks,
           c->concurrency, c->cores, binary, host);
  snprintf(c->key, sizeof c->key, "%016llx", (unsigned long long)fnv1a(key));
  snprintf(c->id, sizeof c->id, "%s-%s-n%lld-c%lld-k%d-%06llx", c->workload->name, c->model->name, c->tasks,
           c->concurrency, c->cores, (unsigned long long)(fnv1a(ptext) & 0xffffff));
}

/* Sets name=value on cell c. kv: storage in c that outlives the plan. */
static void set_override(cb_plan_cell *c, char *kv, size_t cap, const char *name, long long value) {
  int k = cb_param_index(c->workload, name);
  CB_CHECK(k >= 0);
  c->params.v[k] = value;
  snprintf(kv, cap, "%s=%lld", name, value);
  put_override(c, kv);
}

/* Whether w is planned as the map's grid rather than swept over N. */
static int is_grid(const cb_bench_opts *o, const cb_workload *w) {
  return w->kind == CB_KIND_MIXED && o->ngrid_cpu > 0 && o->ngrid_io > 0 && cb_param_index(w, "cpu_us") >= 0 &&
         cb_param_index(w, "io_ms") >= 0 && cb_param_index(w, "rounds") >= 0;
}

/* The map's cells of w: for each N and cores, shapes in order of cpu then io (small
 * first, so a model that gave out is known before the larger shapes), every model
 * back to back. Returns the cells added at plan + n. */
static size_t plan_grid(const cb_bench_opts *o, const cb_workload *w, const cb_model *const *models, size_t nm,
                        const char *binary, const char *host, cb_plan_cell *plan, size_t n, size_t *group) {
  int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
  size_t start = n;
  for (int t = 0; t < o->ngrid_tasks; t++)
    for (int k = 0; k < o->ngrid_cores; k++)
      for (int a = 0; a < o->ngrid_cpu; a++)
        for (int b = 0; b < o->ngrid_io; b++, (*group)++)
          for (size_t j = 0; j < nm; j++) {
            const cb_model *m = models[(j + *group) % nm];
            if (m->reference) continue;
            cb_plan_cell *c = &plan[n++];
            c->model = m;
            c->workload = w;
            c->tasks = o->grid_tasks[t];
            c->concurrency = o->concurrency;
            c->cores = o->grid_cores[k] > 0 ? o->grid_cores[k] : (ncpu > 0 ? ncpu : 1);
            resolve_params(o, c);
            set_override(c, c->grid_kv[0], sizeof c->grid_kv[0], "cpu_us", o->grid_cpu_us[a]);
            set_override(c, c->grid_kv[1], sizeof c->grid_kv[1], "io_ms", o->grid_io_ms[b]);
            set_override(c, c->grid_kv[2], sizeof c->grid_kv[2], "rounds", o->grid_rounds);
            name_cell(c, binary, host);
          }
  return n - start;
}

long long cb_bench_stages_n(const cb_bench_opts *o) {
  long long best = 0;
  for (int k = 0; k < o->ntasks; k++)
    if (!best || llabs(o->tasks[k] - o->stages_tasks) < llabs(best - o->stages_tasks)) best = o->tasks[k];
  return best;
}

static const cb_workload *nth_workload(const cb_bench_opts *o, size_t k) {
  if (o->nworkloads) return cb_workload_find(o->workloads[k]);
  size_t n;
  return cb_workload_all(&n)[k];
}

cb_plan_cell *cb_bench_plan(const cb_bench_opts *o, const char *binary, const char *host, size_t *count) {
  size_t nm, nw;
  const cb_model *const *all_models = cb_model_all(&nm);
  cb_workload_all(&nw);
  if (o->nmodels) nm = (size_t)o->nmodels;
  if (o->nworkloads) nw = (size_t)o->nworkloads;
  int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
  int nsizes = o->ntasks + o->nstages > o->ncores ? o->ntasks + o->nstages : o->ncores;
  if (o->nconns > nsizes) nsizes = o->nconns;
  size_t grid = (size_t)o->ngrid_tasks * (size_t)o->ngrid_cores * (size_t)o->ngrid_cpu * (size_t)o->ngrid_io;
  size_t cap = ((size_t)nsizes + grid) * nw * nm, n = 0, group = 0;
  cb_plan_cell *plan = calloc(cap ? cap : 1, sizeof *plan);
  CB_CHECK(plan != NULL);
  const cb_model *models[CB_BENCH_MAX_LIST + 16];
  CB_CHECK(nm <= sizeof models / sizeof *models);
  for (size_t j = 0; j < nm; j++) models[j] = o->nmodels ? cb_model_find(o->models[j]) : all_models[j];
  for (int s = 0; s < nsizes; s++) {
    for (size_t k = 0; k < nw; k++) {
      const cb_workload *w = nth_workload(o, k);
      int cpu = w->kind == CB_KIND_CPU, server = w->kind == CB_KIND_SERVER;
      if (is_grid(o, w)) {
        if (s == 0) n += plan_grid(o, w, models, nm, binary, host, plan, n, &group);
        continue;
      }
      int staged = !cpu && !server && cb_param_index(w, "stages") >= 0; /* after its N sweep, the stages sweep */
      if (s >= (cpu ? o->ncores : server ? o->nconns : o->ntasks + (staged ? o->nstages : 0))) continue;
      int stage = staged && s >= o->ntasks ? s - o->ntasks : -1;
      for (size_t j = 0; j < nm; j++) {
        size_t mi = (j + group) % nm;
        const cb_model *m = models[mi];
        if (m->reference && !server) continue; /* a reference (nginx) only serves */
        cb_plan_cell *c = &plan[n];
        memset(c, 0, sizeof *c);
        c->model = m;
        c->workload = w;
        c->tasks = cpu ? o->cpu_tasks : server ? o->conns[s] : stage >= 0 ? cb_bench_stages_n(o) : o->tasks[s];
        c->concurrency = o->concurrency;
        c->cores = cpu ? o->cores[s] : (ncpu > 0 ? ncpu : 1);
        resolve_params(o, c);
        if (stage >= 0) {
          if (c->params.v[cb_param_index(w, "stages")] == o->stages[stage]) continue; /* the N sweep's own cell */
          set_override(c, c->stages_kv, sizeof c->stages_kv, "stages", o->stages[stage]);
        }
        name_cell(c, binary, host);
        n++;
      }
      group++;
    }
  }
  *count = n;
  return plan;
}

/* Whether the closed-loop cell c (by its key) verified. */
static int closed_ok(json_t *store, const cb_plan_cell *c) {
  const char *status = json_string_value(json_object_get(json_object_get(store, c->key), "status"));
  return status && strcmp(status, "ok") == 0;
}

/* The best verified closed-loop req/s of workload w at conns connections, 0 if none. */
static double best_closed(json_t *store, const cb_workload *w, long long conns) {
  double best = 0;
  const char *key;
  json_t *rec;
  json_object_foreach(store, key, rec) {
    const char *status = json_string_value(json_object_get(rec, "status"));
    if (strcmp(json_string_value(json_object_get(rec, "workload")), w->name) != 0 ||
        json_integer_value(json_object_get(rec, "tasks")) != conns || !status || strcmp(status, "ok") != 0 ||
        json_integer_value(json_object_get(json_object_get(rec, "params"), "rate")) != 0)
      continue;
    json_t *runs = json_object_get(rec, "runs");
    size_t m = json_array_size(runs);
    double *v = calloc(m ? m : 1, sizeof *v);
    CB_CHECK(v != NULL);
    for (size_t k = 0; k < m; k++) v[k] = json_number_value(json_object_get(json_array_get(runs, k), "req_per_s"));
    cb_stats s;
    cb_stats_of(v, m, &s);
    free(v);
    if (s.median > best) best = s.median;
  }
  return best;
}

cb_plan_cell *cb_bench_plan_open(const cb_bench_opts *o, const cb_plan_cell *plan, size_t nplan, json_t *store,
                                 const char *binary, const char *host, size_t *count) {
  cb_plan_cell *open = calloc(nplan * (size_t)(o->nloads ? o->nloads : 1) + 1, sizeof *open);
  CB_CHECK(open != NULL);
  size_t n = 0;
  long long conns = 0; /* the swept connections closest to open_conns */
  for (int k = 0; k < o->nconns; k++)
    if (!conns || llabs(o->conns[k] - o->open_conns) < llabs(conns - o->open_conns)) conns = o->conns[k];
  /* Lowest load first; at each load every model back to back, as in the closed plan. */
  for (int j = 0; j < o->nloads; j++) {
    for (size_t k = 0; k < nplan; k++) {
      const cb_plan_cell *c = &plan[k];
      int rate = cb_param_index(c->workload, "rate");
      if (c->workload->kind != CB_KIND_SERVER || c->tasks != conns || rate < 0 || c->params.v[rate] != 0)
        continue;
      double best = best_closed(store, c->workload, conns);
      if (best <= 0 || !closed_ok(store, c)) continue; /* a model that gave out in closed loop is not offered more */
      cb_plan_cell *e = &open[n++];
      *e = *c;
      e->params.v[rate] = (int64_t)(best * (double)o->loads[j] / 100.0 + 0.5);
      if (e->params.v[rate] < 1) e->params.v[rate] = 1;
      snprintf(e->rate_kv, sizeof e->rate_kv, "rate=%lld", (long long)e->params.v[rate]);
      e->overrides[e->noverrides++] = e->rate_kv;
      name_cell(e, binary, host);
    }
  }
  *count = n;
  return open;
}
