/* opts.c — the profiles of `concbench bench` and its argument parsing.
 *
 * A profile sets every option; flags given after override it. Parameter overrides
 * ("name=value") apply to each workload that has a parameter of that name (the
 * names are the CLI contract: delay_ms, requests, ms, ...), so a new workload that
 * follows the naming gets short bench sizes without being listed anywhere; a name
 * that means different things in different workloads is scoped to one
 * ("pingpong:rounds=1000": mixed has rounds too). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/bench/bench.h"
#include "harness/run/cell.h"
#include "common/util.h"

/* A run id names a folder under --results: nothing a shell or a path would read. */
#define RUN_ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

#define reject(...) cb_usage_error("concbench bench", __VA_ARGS__)

static void cores_upto(cb_bench_opts *o, int ncpu) {
  o->ncores = 0;
  for (int k = 1; k <= ncpu && o->ncores < CB_BENCH_MAX_LIST; k++) o->cores[o->ncores++] = k;
}

/* Server workloads: the sweep of connections (closed loop), then open loop at
 * these % of the best closed-loop throughput at 100 connections. */
static void servers(cb_bench_opts *o, const long long *conns, int nconns, const long long *loads, int nloads, int runs) {
  for (int k = 0; k < nconns; k++) o->conns[o->nconns++] = conns[k];
  for (int k = 0; k < nloads; k++) o->loads[o->nloads++] = loads[k];
  o->open_conns = 100;
  o->server_runs = runs;
}

/* The map: the mixed workload over cpu_us x io_ms, rounds per job, at these N and
 * cores (0: every core). */
static void grid(cb_bench_opts *o, const long long *cpu, int ncpu, const long long *io, int nio, const long long *tasks,
                 int ntasks, const int *cores, int ncores, long long rounds, int runs) {
  for (int k = 0; k < ncpu; k++) o->grid_cpu_us[o->ngrid_cpu++] = cpu[k];
  for (int k = 0; k < nio; k++) o->grid_io_ms[o->ngrid_io++] = io[k];
  for (int k = 0; k < ntasks; k++) o->grid_tasks[o->ngrid_tasks++] = tasks[k];
  for (int k = 0; k < ncores; k++) o->grid_cores[o->ngrid_cores++] = cores[k];
  o->grid_rounds = rounds;
  o->grid_runs = runs;
}

/* Pipelines against stages, at the swept N closest to stages_tasks. */
static void stages(cb_bench_opts *o, const long long *v, int n) {
  for (int k = 0; k < n; k++) o->stages[o->nstages++] = v[k];
}

/* quick: the tests' end-to-end run (≤ 90 s here); default: `make bench` (aimed at 10 min;
 * 11.4 min on the 2-core reference VM, quiet: the cells near the 10 s limit set it);
 * full: the sweeps, with each workload's own default parameters; peers: the seed's
 * experiment, the C models beside the installed peers (≤ 10 min). */
static int set_profile(cb_bench_opts *o, const char *name, int ncpu) {
  static const char *const quick_params[] = {"delay_ms=10", "requests=1", "ms=10", "bytes=1024", "pingpong:rounds=100",
                                             "leaves=100", "duration_ms=300", "warmup_ms=100",
                                             "timeout_ms=500", "items=1000", "mb=4", "passes=1"};
  static const char *const default_params[] = {"delay_ms=20", "requests=2", "ms=20", "bytes=4096", "pingpong:rounds=1000",
                                               "leaves=10000", "duration_ms=1000", "warmup_ms=200",
                                               "items=1000", "mb=16", "passes=2"};
  /* bytes stays plain: the size of a message (echo), a body (http, serve) alike. */
  memset(o, 0, sizeof *o);
  o->results_dir = "results";
  o->runs = 5;
  o->stages_tasks = 100;
  if (strcmp(name, "quick") == 0) {
    o->tasks[0] = 10, o->tasks[1] = 100, o->ntasks = 2;
    o->cpu_tasks = 4;
    o->limit_s = 5;
    o->cores[o->ncores++] = 1;
    if (ncpu > 1) o->cores[o->ncores++] = ncpu;
    servers(o, (const long long[]){100}, 1, (const long long[]){50}, 1, 2);
    grid(o, (const long long[]){0, 1000}, 2, (const long long[]){0, 10}, 2, (const long long[]){20}, 1, (const int[]){0}, 1,
         2, 2);
    stages(o, (const long long[]){1, 4}, 2);
    for (size_t k = 0; k < sizeof quick_params / sizeof *quick_params; k++) o->params[o->nparams++] = quick_params[k];
  } else if (strcmp(name, "default") == 0) {
    o->tasks[0] = 10, o->tasks[1] = 100, o->tasks[2] = 1000, o->tasks[3] = 10000, o->ntasks = 4;
    o->cpu_tasks = 32;
    o->limit_s = 10;
    o->runs = 3; /* with the servers, pipelines and the map, 5 would take 14 min here */
    cores_upto(o, ncpu);
    servers(o, (const long long[]){100, 1000}, 2, (const long long[]){50, 90}, 2, 2);
    grid(o, (const long long[]){0, 100, 1000, 10000}, 4, (const long long[]){0, 1, 10, 100}, 4, (const long long[]){100},
         1, (const int[]){0}, 1, 2, 2);
    stages(o, (const long long[]){1, 2, 4, 8}, 4);
    for (size_t k = 0; k < sizeof default_params / sizeof *default_params; k++) o->params[o->nparams++] = default_params[k];
  } else if (strcmp(name, "full") == 0) {
    o->tasks[0] = 10, o->tasks[1] = 100, o->tasks[2] = 1000, o->tasks[3] = 10000, o->tasks[4] = 100000, o->ntasks = 5;
    o->cpu_tasks = 64;
    o->runs = 10;
    o->limit_s = 30;
    cores_upto(o, ncpu);
    servers(o, (const long long[]){10, 100, 1000, 10000}, 4, (const long long[]){10, 25, 50, 75, 90, 100, 110}, 7, 5);
    grid(o, (const long long[]){0, 100, 1000, 10000}, 4, (const long long[]){0, 1, 10, 100}, 4,
         (const long long[]){100, 1000}, 2, (const int[]){0, 1}, 2, 5, 5);
    stages(o, (const long long[]){1, 2, 4, 8, 16}, 5);
  } else if (strcmp(name, "peers") == 0) {
    /* The seed's experiment (seed 003) beside the peers: its N = 10 of 7777 ** 200000
     * on every core, its four URLs per job (delayd: 100 ms, 16 KiB) and a sleep of
     * 100 ms at N = 10, 100, 1000, skynet trees of 100 leaves (Python's million-leaf
     * tree takes ~15 s: full only). */
    static const char *const models[] = {"sync", "threads", "procs", "green", "loop"};
    static const char *const workloads[] = {"pow", "http", "sleep", "spawn"};
    static const char *const peers_params[] = {"ms=100", "leaves=100"};
    for (size_t k = 0; k < sizeof models / sizeof *models; k++) o->models[o->nmodels++] = models[k];
    for (size_t k = 0; k < sizeof workloads / sizeof *workloads; k++) o->workloads[o->nworkloads++] = workloads[k];
    o->tasks[0] = 10, o->tasks[1] = 100, o->tasks[2] = 1000, o->ntasks = 3;
    o->cpu_tasks = 10;
    o->cores[o->ncores++] = ncpu;
    o->runs = 3;
    /* 12 s, not 10: the bench extrapolates a cell's time linearly in N from the smaller
     * one, and a Python interpreter's start-up made ~10.5 s of an asyncio http cell at
     * N = 1000 that takes 2 s; not 20: Python's skynet of threads (13 s at N = 1000)
     * and a process per http job (12 s) would take the profile past 10 minutes. */
    o->limit_s = 12;
    o->peers = 1;
    for (size_t k = 0; k < sizeof peers_params / sizeof *peers_params; k++) o->params[o->nparams++] = peers_params[k];
  } else {
    return reject("--profile: unknown profile '%s'; one of: quick, default, full, peers", name);
  }
  o->profile = name;
  o->run_id = name;
  return 0;
}

/* Splits a comma list into out (pointers into s, which is modified): the number of
 * items, or -EINVAL after the usage line when an item is empty or there are more than
 * cap. */
static int split(const char *flag, char *s, const char **out, int cap) {
  int n = 1;
  for (const char *p = s; *p; p++) n += *p == ',';
  if (!*s || *s == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,"))
    return reject("%s: an empty item in '%s'; give a comma list with no empty items", flag, s);
  if (n > cap) return reject("%s: at most %d items, got '%s'", flag, cap, s);
  for (int k = 0; k < n; k++) {
    out[k] = s;
    if ((s = strchr(s, ','))) *s++ = '\0';
  }
  return n;
}

static int parse_int_list(const char *flag, char *s, long long *out, int *n, long long min, long long max) {
  const char *items[CB_BENCH_MAX_LIST];
  int k = split(flag, s, items, CB_BENCH_MAX_LIST);
  if (k < 0) return -EINVAL;
  for (int j = 0; j < k; j++) {
    int64_t v;
    if (cb_parse_int(items[j], min, max, &v) != 0)
      return reject("%s: each value must be an integer from %lld to %lld, got '%s'", flag, min, max, items[j]);
    out[j] = v;
  }
  *n = k;
  return 0;
}

const char *cb_bench_param_scope(const char *kv, size_t *scope_len) {
  const char *colon = strchr(kv, ':'), *eq = strchr(kv, '=');
  int scoped = colon && (!eq || colon < eq);
  *scope_len = scoped ? (size_t)(colon - kv) : 0;
  return scoped ? colon + 1 : kv;
}

/* The names of every model or workload, comma-separated. */
static void all_names(int models, char *out, size_t cap) {
  size_t cnt, used = 0;
  out[0] = '\0';
  if (models) {
    const cb_model *const *m = cb_model_all(&cnt);
    for (size_t j = 0; j < cnt && used < cap; j++) used += (size_t)snprintf(out + used, cap - used, "%s%s", j ? "," : "", m[j]->name);
  } else {
    const cb_workload *const *w = cb_workload_all(&cnt);
    for (size_t j = 0; j < cnt && used < cap; j++) used += (size_t)snprintf(out + used, cap - used, "%s%s", j ? "," : "", w[j]->name);
  }
}

/* The parameter of w named by the first len bytes of name, or NULL. */
static const cb_param_def *param_of(const cb_workload *w, const char *name, size_t len) {
  for (int j = 0; j < w->nparams; j++)
    if (strlen(w->params[j].name) == len && strncmp(w->params[j].name, name, len) == 0) return &w->params[j];
  return NULL;
}

static int value_ok(const cb_param_def *d, const char *v) {
  int64_t x;
  if (!d->choices) return cb_parse_int(v, d->min, d->max, &x) == 0;
  for (int c = 0; d->choices[c]; c++)
    if (strcmp(d->choices[c], v) == 0) return 1;
  return 0;
}

/* "[workload:]name=value": the workload exists and has the parameter, and the value
 * is allowed for every workload the override applies to. */
static int check_param(const char *kv) {
  size_t scope;
  const char *nv = cb_bench_param_scope(kv, &scope), *eq = strchr(nv, '=');
  if (!eq || eq == nv || (nv != kv && scope == 0))
    return reject("--param: expected NAME=VALUE or WORKLOAD:NAME=VALUE, got '%s'", kv);
  size_t nw, len = (size_t)(eq - nv);
  const cb_workload *const *all = cb_workload_all(&nw);
  int found = 0;
  for (size_t k = 0; k < nw; k++) {
    const cb_workload *w = all[k];
    if (scope && (strlen(w->name) != scope || strncmp(w->name, kv, scope) != 0)) continue;
    const cb_param_def *d = param_of(w, nv, len);
    if (scope && !d) {
      char names[512] = "";
      size_t used = 0;
      for (int j = 0; j < w->nparams && used < sizeof names; j++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", j ? "," : "", w->params[j].name);
      return reject("--param: workload %s has no parameter '%.*s' in '%s'; its parameters: %s", w->name, (int)len, nv,
                    kv, names);
    }
    if (!d) continue;
    found = 1;
    if (!value_ok(d, eq + 1)) return reject("--param: '%s' is out of range for %s (see concbench list)", kv, w->name);
  }
  if (!found && scope) {
    char names[512];
    all_names(0, names, sizeof names);
    return reject("--param: unknown workload '%.*s' in '%s'; one of: %s", (int)scope, kv, kv, names);
  }
  if (!found) return reject("--param: no workload has a parameter named '%.*s' (see concbench list)", (int)len, nv);
  return 0;
}

/* The values every workload with a `stages` parameter allows. */
static void stages_bounds(long long *lo, long long *hi) {
  size_t nw;
  const cb_workload *const *all = cb_workload_all(&nw);
  *lo = 1, *hi = CB_MAX_TASKS;
  for (size_t k = 0; k < nw; k++) {
    const cb_param_def *d = param_of(all[k], "stages", 6);
    if (d && d->min > *lo) *lo = d->min;
    if (d && d->max < *hi) *hi = d->max;
  }
}

static int check_names(const char *flag, const char **names, int n, int models) {
  for (int k = 0; k < n; k++) {
    const cb_model *m = models ? cb_model_find(names[k]) : NULL;
    char why[512];
    if (m && m->available && m->available(why, sizeof why) != 0)
      return reject("%s: %s is not installed here: it %s; make deps PEERS=1 installs the peers", flag, names[k], why);
    if (models ? m != NULL : cb_workload_find(names[k]) != NULL) continue;
    char all[512];
    all_names(models, all, sizeof all);
    return reject("%s: unknown %s '%s'; one of: %s (or a peer: see concbench list)", flag, models ? "model" : "workload",
                  names[k], all);
  }
  return 0;
}

/* --peers: the models (every one when none were named) and then every installed
 * peer not named already; the missing ones are named on stderr. */
static int add_peers(cb_bench_opts *o) {
  size_t n;
  if (o->nmodels == 0) {
    const cb_model *const *all = cb_model_all(&n);
    for (size_t k = 0; k < n && o->nmodels < CB_BENCH_MAX_LIST; k++) o->models[o->nmodels++] = all[k]->name;
  }
  const cb_model *const *peers = cb_peer_all(&n);
  for (size_t k = 0; k < n; k++) {
    char why[512];
    int named = 0;
    for (int j = 0; j < o->nmodels; j++) named |= strcmp(o->models[j], peers[k]->name) == 0;
    if (named) continue;
    if (peers[k]->available && peers[k]->available(why, sizeof why) != 0) {
      fprintf(stderr, "bench: peer %s left out: it %s\n", peers[k]->name, why);
      continue;
    }
    if (o->nmodels == CB_BENCH_MAX_LIST) return reject("--peers: more than %d models in all", CB_BENCH_MAX_LIST);
    o->models[o->nmodels++] = peers[k]->name;
  }
  return 0;
}

int cb_bench_parse(int argc, char **argv, cb_bench_opts *o) {
  int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (ncpu < 1) ncpu = 1;
  const char *profile = "default";
  for (int k = 0; k + 1 < argc; k++)
    if (strcmp(argv[k], "--profile") == 0) profile = argv[k + 1];
  if (set_profile(o, profile, ncpu) != 0) return -EINVAL;
  int cli_params = 0;
  for (int k = 0; k < argc; k++) {
    const char *a = argv[k];
    if (strcmp(a, "--fresh") == 0 || strcmp(a, "--peers") == 0) {
      *(a[2] == 'f' ? &o->fresh : &o->peers) = 1;
      continue;
    }
    static const char *const valued[] = {"--profile", "--models", "--workloads", "--tasks", "--cores",
                                         "--cpu-tasks", "--concurrency", "--param", "--runs", "--limit",
                                         "--run-id", "--results", "--conns", "--loads", "--server-runs",
                                         "--grid-cpu-us", "--grid-io-ms", "--grid-tasks", "--stages", NULL};
    int known = 0;
    for (int j = 0; valued[j]; j++) known |= strcmp(a, valued[j]) == 0;
    if (!known) return reject("unknown argument '%s'; see concbench help", a);
    if (k + 1 >= argc) return reject("%s needs a value", a);
    char *v = argv[++k];
    int64_t x;
    if (strcmp(a, "--profile") == 0) continue;
    if (strcmp(a, "--models") == 0) {
      if ((o->nmodels = split(a, v, o->models, CB_BENCH_MAX_LIST)) < 0) return -EINVAL;
      if (check_names(a, o->models, o->nmodels, 1) != 0) return -EINVAL;
    } else if (strcmp(a, "--workloads") == 0) {
      if ((o->nworkloads = split(a, v, o->workloads, CB_BENCH_MAX_LIST)) < 0) return -EINVAL;
      if (check_names(a, o->workloads, o->nworkloads, 0) != 0) return -EINVAL;
    } else if (strcmp(a, "--tasks") == 0) {
      if (parse_int_list(a, v, o->tasks, &o->ntasks, 1, CB_MAX_TASKS) != 0) return -EINVAL;
    } else if (strcmp(a, "--conns") == 0) {
      if (parse_int_list(a, v, o->conns, &o->nconns, 1, CB_MAX_TASKS) != 0) return -EINVAL;
    } else if (strcmp(a, "--loads") == 0) {
      if (parse_int_list(a, v, o->loads, &o->nloads, 1, 1000) != 0) return -EINVAL;
    } else if (strcmp(a, "--grid-cpu-us") == 0) {
      if (parse_int_list(a, v, o->grid_cpu_us, &o->ngrid_cpu, 0, 10000000) != 0) return -EINVAL;
    } else if (strcmp(a, "--grid-io-ms") == 0) {
      if (parse_int_list(a, v, o->grid_io_ms, &o->ngrid_io, 0, 600000) != 0) return -EINVAL;
    } else if (strcmp(a, "--grid-tasks") == 0) {
      if (parse_int_list(a, v, o->grid_tasks, &o->ngrid_tasks, 1, CB_MAX_TASKS) != 0) return -EINVAL;
    } else if (strcmp(a, "--stages") == 0) {
      long long lo, hi;
      stages_bounds(&lo, &hi);
      if (parse_int_list(a, v, o->stages, &o->nstages, lo, hi) != 0) return -EINVAL;
    } else if (strcmp(a, "--server-runs") == 0) {
      if (cb_parse_int(v, 2, 1000, &x) != 0) return reject("--server-runs: must be an integer from 2 to 1000, got '%s'", v);
      o->server_runs = (int)x;
    } else if (strcmp(a, "--cores") == 0) {
      long long c[CB_BENCH_MAX_LIST];
      if (parse_int_list(a, v, c, &o->ncores, 1, ncpu) != 0) return -EINVAL;
      for (int j = 0; j < o->ncores; j++) o->cores[j] = (int)c[j];
    } else if (strcmp(a, "--cpu-tasks") == 0) {
      if (cb_parse_int(v, 1, CB_MAX_TASKS, &x) != 0) return reject("--cpu-tasks: must be an integer from 1 to %d, got '%s'", CB_MAX_TASKS, v);
      o->cpu_tasks = x;
    } else if (strcmp(a, "--concurrency") == 0) {
      if (cb_parse_int(v, 0, CB_MAX_CONCURRENCY, &x) != 0) return reject("--concurrency: must be an integer from 0 (one per job) to %d, got '%s'", CB_MAX_CONCURRENCY, v);
      o->concurrency = x;
    } else if (strcmp(a, "--param") == 0) {
      if (check_param(v) != 0) return -EINVAL;
      if (!cli_params) o->nparams = 0; /* flags replace the profile's overrides */
      cli_params = 1;
      if (o->nparams == CB_BENCH_MAX_LIST) return reject("--param: at most %d", CB_BENCH_MAX_LIST);
      o->params[o->nparams++] = v;
    } else if (strcmp(a, "--runs") == 0) {
      if (cb_parse_int(v, 2, 1000, &x) != 0) return reject("--runs: must be an integer from 2 to 1000, got '%s'", v);
      o->runs = (int)x;
    } else if (strcmp(a, "--limit") == 0) {
      char *end;
      double s = strtod(v, &end); /* which skips white space: the number must come first */
      if (!(isdigit((unsigned char)*v) || *v == '.') || *end || !(s >= 0.1 && s <= 86400)) return reject("--limit: seconds from 0.1 to 86400, got '%s'", v);
      o->limit_s = s;
    } else if (strcmp(a, "--run-id") == 0) {
      if (!*v || v[0] == '.' || strlen(v) > 100 || v[strspn(v, RUN_ID_CHARS)] != '\0')
        return reject("--run-id: 1 to 100 of letters, digits, '.', '_', '-', not starting with '.', got '%s'", v);
      o->run_id = v;
    } else if (strcmp(a, "--results") == 0) {
      if (!*v) return reject("--results: a folder, got ''");
      o->results_dir = v;
    }
  }
  return o->peers ? add_peers(o) : 0;
}
