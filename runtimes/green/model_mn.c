/* model_mn.c — the `green-mn` model: green threads over W worker OS threads (mn.c).
 *
 * --param workers=W (1..CB_GREEN_GROUP_MAX_WORKERS; default: the CPUs this process may
 * run on). The jobs are the same sync-world code as under `green`.
 * run: C = 0 (or C >= N): one green thread per job; otherwise C green threads pulling
 * job indices from an atomic counter. One chain head per worker (placed on the
 * least-loaded worker: one each); each job thread spawns its successor on its own
 * worker before its first job, and idle workers steal successors not yet started.
 * pingpong: two figures, each a full run of the pairs: both sides of every pair on
 * one worker (ns_per_switch, comparable with green's), then the two sides on
 * different workers (ns_per_switch_cross; with W >= 2). The records are the second
 * run's. spawn_tree: the skynet tree of green's model (model.c): every node spawns its
 * children on its own worker, idle workers steal the ones not started.
 * pipeline, serve: green's (pipeline.c, serve.c: a green thread per connection) on
 * the group. pingpong, spawn and pipeline add the figure workers (spawn: and steals);
 * run adds none (a workload's own figure, membw's, stays the only one). */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/green/green_int.h"
#include "runtimes/runtime.h"

#define NAME "green-mn"

static const cb_param_def mn_params[] = {
    {"workers", 0, 1, CB_GREEN_GROUP_MAX_WORKERS,
     "worker OS threads, each with its own scheduler (default: the CPUs the cell may use)", NULL},
};

/* The worker count: the parameter, else the CPUs this process may run on. */
static unsigned workers_of(const int64_t *params) {
  if (params && params[0] > 0) return (unsigned)params[0];
  cpu_set_t set;
  int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  if (n < 1) n = 1;
  return n > CB_GREEN_GROUP_MAX_WORKERS ? CB_GREEN_GROUP_MAX_WORKERS : (unsigned)n;
}

static int new_group(const cb_run_spec *spec, cb_run_report *report, cb_green_group **gr) {
  if (cb_green_hooks_check() != 0) {
    cb_report_error(report, NAME ": the syscall hooks are not interposed (link the program with -rdynamic)");
    return -ENOSYS;
  }
  int rc = cb_green_group_new(workers_of(spec->model_params), spec->stack_size, gr);
  if (rc == -EINVAL)
    cb_report_error(report, NAME ": --stack-size must be from %d KiB to %d MiB, got %zu bytes",
                    CB_GREEN_STACK_MIN / 1024, CB_GREEN_STACK_MAX / (1024 * 1024), spec->stack_size);
  else if (rc != 0)
    cb_report_error(report, NAME ": cannot create the workers' schedulers: %s", strerror(-rc));
  return rc;
}

/* Runs the group to the end, reports a deadlock, fills *st, report->created, *mn and
 * m's end (each unless NULL); frees the group. */
static int finish(cb_green_group *gr, cb_run_report *report, int rc, cb_green_stats *st,
                  cb_green_group_stats_mn *mn, cb__green_mem *m) {
  int r = cb_green_group_run(gr);
  if (r == -EDEADLK) cb_report_error(report, NAME ": every green thread is blocked and nothing can wake one");
  else if (r != 0) cb_report_error(report, NAME ": cannot start the workers: %s", strerror(-r));
  if (m) cb__green_mem_end(m);
  cb_green_group_stats(gr, st);
  if (mn) cb_green_group_stats_mn_get(gr, mn);
  report->created = st->created;
  report->created_kind = "green threads";
  cb_green_group_free(gr);
  return rc != 0 ? rc : r;
}

static int spawn_failed(cb_run_report *report, const char *what, int rc) {
  cb_report_error(report, NAME ": cannot spawn %s: %s", what, strerror(-rc));
  return rc;
}

/* ---- run ---- */

typedef struct runner {
  const cb_run_spec *spec;
  cb_run_report *report;
  uint64_t next;     /* next job index (atomic) */
  uint64_t to_spawn; /* job threads not made yet (atomic) */
  int one_each;      /* one job per green thread */
  int rc;            /* first spawn failure (atomic) */
} runner;

static void job_thread(void *p);

/* Takes one job thread to make, if any is left and nothing failed. */
static int take_spawn(runner *r) {
  uint64_t t = __atomic_load_n(&r->to_spawn, __ATOMIC_RELAXED);
  while (t > 0 && __atomic_load_n(&r->rc, __ATOMIC_RELAXED) == 0)
    if (__atomic_compare_exchange_n(&r->to_spawn, &t, t - 1, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return 1;
  return 0;
}

static void fail(runner *r, int rc) {
  int zero = 0;
  if (__atomic_compare_exchange_n(&r->rc, &zero, rc, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    spawn_failed(r->report, "a job's green thread", rc);
}

static void job_thread(void *p) {
  runner *r = p;
  if (take_spawn(r)) { /* the successor, on this worker (stolen if another is idle) */
    int rc = cb_green_spawn(cb_green_current_sched(), job_thread, r, NULL);
    if (rc != 0) fail(r, rc);
  }
  do {
    uint64_t i = __atomic_fetch_add(&r->next, 1, __ATOMIC_RELAXED);
    if (i >= r->spec->tasks) return;
    cb_job_execute(r->spec, i, &r->report->jobs[i], r->report);
  } while (!r->one_each);
}

static int mn_run(const cb_run_spec *spec, cb_run_report *report) {
  report->concurrency = cb_spec_concurrency(spec);
  cb_green_group *gr;
  int rc = new_group(spec, report, &gr);
  if (rc != 0) return rc;
  runner r = {.spec = spec, .report = report};
  r.one_each = spec->concurrency == 0 || spec->concurrency >= spec->tasks;
  r.to_spawn = r.one_each ? spec->tasks : spec->concurrency;
  cb__green_mem mem;
  cb__green_mem_begin(&mem);
  for (unsigned k = 0; k < cb_green_group_workers(gr) && rc == 0 && take_spawn(&r); k++)
    if ((rc = cb_green_group_spawn(gr, job_thread, &r, NULL)) != 0) spawn_failed(report, "a job's green thread", rc);
  cb_green_stats st;
  rc = finish(gr, report, rc, &st, NULL, &mem);
  rc = r.rc != 0 ? r.rc : rc;
  if (rc == 0 && cb__green_run_reports_memory(spec)) cb__green_report_memory(report, &mem, &st);
  return rc;
}

/* ---- pingpong ---- */

/* One run of every pair: side b of pair i on worker i % W, side a on (i + shift) % W.
 * Returns 0 and the ns per hand-off, or a negative errno (reported). */
static int pp_round(const cb_run_spec *spec, cb__green_pp_pair *pairs, uint64_t rounds, unsigned shift,
                    cb_run_report *report, double *ns) {
  cb_green_group *gr;
  int rc = new_group(spec, report, &gr);
  if (rc != 0) return rc;
  unsigned w = cb_green_group_workers(gr);
  for (uint64_t i = 0; i < spec->tasks; i++) {
    cb_green_chan *b = pairs[i].to_b, *a = pairs[i].to_a;
    pairs[i] = (cb__green_pp_pair){.to_b = b, .to_a = a, .rounds = rounds, .rec = &report->jobs[i]};
  }
  for (uint64_t i = 0; i < spec->tasks && rc == 0; i++) {
    rc = cb_green_group_spawn_on(gr, (unsigned)(i % w), cb__green_pp_b, &pairs[i], NULL);
    if (rc == 0) rc = cb_green_group_spawn_on(gr, (unsigned)((i + shift) % w), cb__green_pp_a, &pairs[i], NULL);
    if (rc != 0) spawn_failed(report, "a pingpong side", rc);
  }
  int64_t t0 = cb_now_ns();
  cb_green_stats st;
  rc = finish(gr, report, rc, &st, NULL, NULL);
  int64_t t1 = cb_now_ns();
  uint64_t handoffs = 0;
  for (uint64_t i = 0; i < spec->tasks; i++) handoffs += pairs[i].seen;
  *ns = handoffs ? (double)(t1 - t0) / (double)handoffs : 0;
  return rc;
}

static int mn_pingpong(const cb_run_spec *spec, uint64_t rounds, cb_run_report *report) {
  report->concurrency = cb_spec_concurrency(spec);
  cb__green_pp_pair *pairs = calloc(spec->tasks, sizeof *pairs);
  if (!pairs) {
    cb_report_error(report, NAME ": out of memory for %llu pairs", (unsigned long long)spec->tasks);
    return -ENOMEM;
  }
  int rc = 0;
  for (uint64_t i = 0; i < spec->tasks && rc == 0; i++) {
    rc = cb_green_chan_new(sizeof(uint64_t), 0, &pairs[i].to_b);
    if (rc == 0) rc = cb_green_chan_new(sizeof(uint64_t), 0, &pairs[i].to_a);
  }
  if (rc != 0) cb_report_error(report, NAME ": cannot create channels: %s", strerror(-rc));
  double local = 0, cross = 0;
  if (rc == 0) rc = pp_round(spec, pairs, rounds, 0, report, &local);
  unsigned w = workers_of(spec->model_params);
  if (rc == 0 && w >= 2) rc = pp_round(spec, pairs, rounds, 1, report, &cross);
  for (uint64_t i = 0; i < spec->tasks; i++) {
    cb_green_chan_free(pairs[i].to_b);
    cb_green_chan_free(pairs[i].to_a);
  }
  free(pairs);
  if (rc == 0) {
    cb_report_extra(report, "ns_per_switch", local);
    if (w >= 2) cb_report_extra(report, "ns_per_switch_cross", cross);
    cb_report_extra(report, "workers", (double)w);
  }
  return rc;
}

/* ---- spawn tree (skynet) ---- */

static int mn_spawn_tree(const cb_run_spec *spec, uint64_t leaves, uint64_t fanout, uint64_t *sum,
                         cb_run_report *report) {
  report->concurrency = cb_spec_concurrency(spec);
  if (fanout < 2 || fanout > CB_GREEN_MAX_FANOUT || leaves < 1) {
    cb_report_error(report, NAME ": spawn needs leaves >= 1 and fanout from 2 to %d", CB_GREEN_MAX_FANOUT);
    return -EINVAL;
  }
  cb_green_group *gr;
  int rc = new_group(spec, report, &gr);
  if (rc != 0) return rc;
  cb__green_tree_node root = {.first = 0, .count = leaves, .fanout = fanout};
  cb__green_mem mem;
  cb__green_mem_begin(&mem);
  int64_t t0 = cb_now_ns();
  rc = cb_green_group_spawn(gr, cb__green_tree_fn, &root, NULL);
  if (rc != 0) spawn_failed(report, "the root of the tree", rc);
  cb_green_stats st;
  cb_green_group_stats_mn mn;
  unsigned w = cb_green_group_workers(gr);
  rc = finish(gr, report, rc, &st, &mn, &mem);
  int64_t t1 = cb_now_ns();
  if (root.failed && rc == 0) {
    cb_report_error(report, NAME ": a node could not spawn its children (out of memory?)");
    rc = -ENOMEM;
  }
  *sum = root.sum;
  if (rc == 0) {
    cb_report_extra(report, "ns_per_spawn", (double)(t1 - t0) / (double)st.created);
    cb__green_report_memory(report, &mem, &st);
    cb_report_extra(report, "workers", (double)w);
    cb_report_extra(report, "steals", (double)mn.steals);
  }
  return rc;
}

static int mn_pipeline(const cb_run_spec *spec, const cb_pipeline_spec *p, cb_run_report *report) {
  int rc = cb__green_mn_pipeline(spec, p, workers_of(spec->model_params), report);
  if (rc == 0) cb_report_extra(report, "workers", (double)workers_of(spec->model_params));
  return rc;
}

static int mn_serve(const cb_serve_spec *spec, cb_run_report *report) {
  return cb__green_mn_serve(spec, workers_of(spec->model_params), report);
}

const cb_model cb_model_green_mn = {
    .name = NAME,
    .summary = "stackful green threads, M:N: one scheduler per worker OS thread, new threads stolen by idle "
               "workers, started ones pinned (Go's layout, gevent's blocking calls)",
    .params = mn_params,
    .nparams = sizeof mn_params / sizeof mn_params[0],
    .run = mn_run,
    .pingpong = mn_pingpong,
    .spawn_tree = mn_spawn_tree,
    .pipeline = mn_pipeline,
    .serve = mn_serve,
};
