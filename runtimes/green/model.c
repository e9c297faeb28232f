/* model.c — the `green` model: every job in a green thread of one M:1 scheduler.
 *
 * run: C = 0 (or C >= N): one green thread per job; otherwise C green threads pulling
 * job indices from a counter. Each job thread spawns the next one before its first
 * job, so jobs start while later threads are still being made. The unchanged
 * sync-world job runs in the green thread; CPU jobs therefore run one after another,
 * while jobs blocked in hooked calls (libcurl's sockets and poll, nanosleep) park and
 * let the others run.
 * pingpong: each pair is two green threads handing an int back and forth over two
 * unbuffered channels. spawn_tree: the skynet tree, each node a green thread that
 * spawns its children and joins them. serve: a green thread per connection (serve.c).
 *
 * --param shared_stack=1 (copy mode, copystack.c): run's job threads are spawned with
 * cb_green_spawn_copy, all on one shared stack, each parked one keeping only its used
 * bytes. Only jobs that park in sleeps and yields can run so (green.h): a cell whose
 * workload needs a server (its jobs wait on sockets) and the coordination workloads
 * (channels, joins) and servers are refused before any work (-ERANGE: exit 2); a job
 * that parks otherwise ends the process with exit 2 (cb__cs_refuse_park). A run in
 * copy mode adds the figures shared_stack (1, so that its record is never taken for a
 * default green cell's), saved_stack_bytes (the used bytes a save copied, on average:
 * what a parked thread holds) and save_buffer_bytes (the save buffers' capacity
 * summed, malloc's usable sizes). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/green/green_int.h"
#include "runtimes/pipeline.h"
#include "runtimes/runtime.h"

enum { P_SHARED_STACK };

static const cb_param_def green_params[] = {
    [P_SHARED_STACK] = {"shared_stack", 0, 0, 1,
                        "1: job threads share one stack, a parked one keeps only its used bytes (libaco's copy "
                        "stack); jobs may only sleep and yield (sleep, CPU workloads)",
                        NULL},
};

static int shared_stack(const int64_t *params) { return params && params[P_SHARED_STACK] == 1; }

/* -ERANGE with the one line naming the option, for what copy mode cannot run. */
static int refuse_shared(cb_run_report *report, const char *what) {
  cb_report_error(report,
                  "green: --param shared_stack=1 runs only jobs that sleep and yield (its parked threads' stacks "
                  "move); %s",
                  what);
  return -ERANGE;
}

/* Refuses to run without the hooks, or with a stack size the scheduler cannot use, with a message naming the flag. */
static int new_sched(const cb_run_spec *spec, cb_run_report *report, cb_green_sched **s) {
  if (cb_green_hooks_check() != 0) {
    cb_report_error(report, "green: the syscall hooks are not interposed (link the program with -rdynamic)");
    return -ENOSYS;
  }
  int rc = cb_green_sched_new(spec->stack_size, s);
  if (rc == -EINVAL)
    cb_report_error(report, "green: --stack-size must be from %d KiB to %d MiB, got %zu bytes",
                    CB_GREEN_STACK_MIN / 1024, CB_GREEN_STACK_MAX / (1024 * 1024), spec->stack_size);
  else if (rc != 0)
    cb_report_error(report, "green: cannot create the scheduler: %s", strerror(-rc));
  return rc;
}

/* Runs the scheduler to the end (also after rc != 0: what was spawned still runs),
 * reports a deadlock, fills *st, report->created and (unless NULL) m's end, frees the
 * scheduler. */
static int finish(cb_green_sched *s, cb_run_report *report, int rc, cb_green_stats *st, cb__green_mem *m) {
  int r = cb_green_sched_run(s);
  if (r == -EDEADLK) cb_report_error(report, "green: every green thread is blocked and nothing can wake one");
  if (m) cb__green_mem_end(m);
  cb_green_sched_stats(s, st);
  report->created = st->created;
  report->created_kind = "green threads";
  cb_green_sched_free(s);
  return rc != 0 ? rc : r;
}

/* Spawns fn(arg) detached; on failure reports it with what was being made. From the
 * main context or a green thread of s. */
static int spawn(cb_green_sched *s, void (*fn)(void *), void *arg, const char *what, cb_run_report *report) {
  int rc = cb_green_spawn(s, fn, arg, NULL);
  if (rc != 0) cb_report_error(report, "green: cannot spawn %s: %s", what, strerror(-rc));
  return rc;
}

typedef struct runner {
  const cb_run_spec *spec;
  cb_run_report *report;
  cb_green_sched *sched;
  uint64_t next;     /* next job index */
  uint64_t to_spawn; /* job threads not made yet */
  int one_each;      /* one job per green thread */
  int copy;          /* copy mode (--param shared_stack=1) */
  int rc;            /* first spawn failure */
} runner;

static void job_thread(void *p);

/* Makes the next job thread, if one is left. Each job thread makes its successor
 * before it starts on its jobs, so that a job starts as soon as its thread exists
 * (made all before the first runs, every job would wait for all N spawns). */
static void spawn_next(runner *r) {
  if (r->to_spawn == 0 || r->rc != 0) return;
  r->to_spawn--;
  if (!r->copy) {
    r->rc = spawn(r->sched, job_thread, r, "a job's green thread", r->report);
    return;
  }
  r->rc = cb_green_spawn_copy(r->sched, job_thread, r, NULL);
  if (r->rc != 0) cb_report_error(r->report, "green: cannot spawn a job's green thread: %s", strerror(-r->rc));
}

static void job_thread(void *p) {
  runner *r = p;
  spawn_next(r);
  do {
    uint64_t i = r->next++; /* M:1: no other thread can interleave here */
    if (i >= r->spec->tasks) return;
    cb_job_execute(r->spec, i, &r->report->jobs[i], r->report);
  } while (!r->one_each);
}

static int green_run(const cb_run_spec *spec, cb_run_report *report) {
  report->concurrency = cb_spec_concurrency(spec);
  int copy = shared_stack(spec->model_params);
  if (copy && spec->workload->needs_server)
    return refuse_shared(report, "this workload's jobs wait on sockets");
  cb_green_sched *s;
  int rc = new_sched(spec, report, &s);
  if (rc != 0) return rc;
  runner r = {.spec = spec, .report = report, .sched = s, .copy = copy};
  r.one_each = spec->concurrency == 0 || spec->concurrency >= spec->tasks;
  r.to_spawn = r.one_each ? spec->tasks : spec->concurrency;
  cb__green_mem mem;
  cb__green_mem_begin(&mem);
  spawn_next(&r);
  cb_green_stats st;
  rc = finish(s, report, 0, &st, &mem);
  rc = r.rc != 0 ? r.rc : rc;
  if (copy && rc == 0) {
    cb_report_extra(report, "shared_stack", 1);
    cb_report_extra(report, "saved_stack_bytes",
                    st.copy_saves ? (double)st.copy_saved_bytes / (double)st.copy_saves : 0.0);
    cb_report_extra(report, "save_buffer_bytes", (double)st.copy_buffer_bytes);
  }
  if (rc == 0 && cb__green_run_reports_memory(spec)) cb__green_report_memory(report, &mem, &st);
  return rc;
}

/* ---- pingpong ---- */

/* The sides end on different OS threads under M:N (model_mn.c): the count of ended
 * sides is atomic, and `seen` alternates between them through the channels. */
static void pp_end(cb__green_pp_pair *p) {
  if (__atomic_add_fetch(&p->ended, 1, __ATOMIC_ACQ_REL) == 2) {
    p->rec->end_ns = cb_now_ns();
    p->rec->result = p->seen;
    p->rec->status = 0;
    p->rec->done = 1;
  }
}

void cb__green_pp_a(void *arg) {
  cb__green_pp_pair *p = arg;
  p->rec->start_ns = cb_now_ns();
  for (uint64_t k = 0; k < p->rounds; k++) {
    uint64_t v = k, w;
    if (cb_green_chan_send(p->to_b, &v) != 0 || cb_green_chan_recv(p->to_a, &w) != 0) break;
    p->seen++;
  }
  pp_end(p);
}

void cb__green_pp_b(void *arg) {
  cb__green_pp_pair *p = arg;
  for (uint64_t k = 0; k < p->rounds; k++) {
    uint64_t v;
    if (cb_green_chan_recv(p->to_b, &v) != 0 || v != k) break;
    p->seen++;
    if (cb_green_chan_send(p->to_a, &v) != 0) break;
  }
  pp_end(p);
}

static int green_pingpong(const cb_run_spec *spec, uint64_t rounds, cb_run_report *report) {
  report->concurrency = cb_spec_concurrency(spec);
  if (shared_stack(spec->model_params)) return refuse_shared(report, "pingpong's sides park on channels");
  cb_green_sched *s;
  int rc = new_sched(spec, report, &s);
  if (rc != 0) return rc;
  cb__green_pp_pair *pairs = calloc(spec->tasks, sizeof *pairs);
  if (!pairs) {
    cb_green_sched_free(s);
    cb_report_error(report, "green: out of memory for %llu pairs", (unsigned long long)spec->tasks);
    return -ENOMEM;
  }
  for (uint64_t i = 0; i < spec->tasks && rc == 0; i++) {
    pairs[i] = (cb__green_pp_pair){.rounds = rounds, .rec = &report->jobs[i]};
    rc = cb_green_chan_new(sizeof(uint64_t), 0, &pairs[i].to_b);
    if (rc == 0) rc = cb_green_chan_new(sizeof(uint64_t), 0, &pairs[i].to_a);
  }
  if (rc != 0) cb_report_error(report, "green: cannot create channels: %s", strerror(-rc));
  for (uint64_t i = 0; i < spec->tasks && rc == 0; i++) {
    rc = spawn(s, cb__green_pp_b, &pairs[i], "a pingpong side", report);
    if (rc == 0) rc = spawn(s, cb__green_pp_a, &pairs[i], "a pingpong side", report);
  }
  cb_green_stats st;
  int64_t t0 = cb_now_ns();
  rc = finish(s, report, rc, &st, NULL);
  int64_t t1 = cb_now_ns();
  uint64_t handoffs = 0;
  for (uint64_t i = 0; i < spec->tasks; i++) {
    handoffs += pairs[i].seen;
    cb_green_chan_free(pairs[i].to_b);
    cb_green_chan_free(pairs[i].to_a);
  }
  free(pairs);
  if (rc == 0 && handoffs > 0) cb_report_extra(report, "ns_per_switch", (double)(t1 - t0) / (double)handoffs);
  return rc;
}

/* ---- spawn tree (skynet) ---- */

/* A leaf's value is its number; an inner node splits its range over min(fanout,
 * count) children as evenly as possible, spawns them all, then joins them all. The
 * children's records live in this node's frame (<= 100 x 48 bytes). */
void cb__green_tree_fn(void *p) {
  cb__green_tree_node *n = p;
  if (n->count == 1) {
    n->sum = n->first;
    return;
  }
  uint64_t k = n->count < n->fanout ? n->count : n->fanout;
  cb__green_tree_node kids[CB_GREEN_MAX_FANOUT];
  cb_green *g[CB_GREEN_MAX_FANOUT];
  uint64_t first = n->first, spawned = 0;
  for (uint64_t j = 0; j < k; j++) {
    uint64_t c = n->count / k + (j < n->count % k);
    kids[j] = (cb__green_tree_node){.first = first, .count = c, .fanout = n->fanout};
    first += c;
    if (cb_green_spawn(cb_green_current_sched(), cb__green_tree_fn, &kids[j], &g[j]) != 0) {
      n->failed = 1;
      break;
    }
    spawned++;
  }
  for (uint64_t j = 0; j < spawned; j++) {
    cb_green_join(g[j]);
    n->sum += kids[j].sum;
    n->failed |= kids[j].failed;
  }
}

static int green_spawn_tree(const cb_run_spec *spec, uint64_t leaves, uint64_t fanout, uint64_t *sum,
                            cb_run_report *report) {
  report->concurrency = cb_spec_concurrency(spec);
  if (shared_stack(spec->model_params)) return refuse_shared(report, "spawn's nodes park in joins");
  if (fanout < 2 || fanout > CB_GREEN_MAX_FANOUT || leaves < 1) {
    cb_report_error(report, "green: spawn needs leaves >= 1 and fanout from 2 to %d", CB_GREEN_MAX_FANOUT);
    return -EINVAL;
  }
  cb_green_sched *s;
  int rc = new_sched(spec, report, &s);
  if (rc != 0) return rc;
  cb__green_tree_node root = {.first = 0, .count = leaves, .fanout = fanout};
  cb__green_mem mem;
  cb__green_mem_begin(&mem);
  int64_t t0 = cb_now_ns();
  rc = spawn(s, cb__green_tree_fn, &root, "the root of the tree", report);
  cb_green_stats st;
  rc = finish(s, report, rc, &st, &mem);
  int64_t t1 = cb_now_ns();
  if (root.failed && rc == 0) {
    cb_report_error(report, "green: a node could not spawn its children (out of memory?)");
    rc = -ENOMEM;
  }
  *sum = root.sum;
  if (rc == 0) {
    cb_report_extra(report, "ns_per_spawn", (double)(t1 - t0) / (double)st.created);
    cb__green_report_memory(report, &mem, &st);
  }
  return rc;
}

static int green_pipeline(const cb_run_spec *spec, const cb_pipeline_spec *p, cb_run_report *report) {
  if (shared_stack(spec->model_params)) {
    report->concurrency = cb_spec_concurrency(spec);
    return refuse_shared(report, "pipeline's stages park on channels");
  }
  return cb__green_pipeline(spec, p, report);
}

static int green_serve(const cb_serve_spec *spec, cb_run_report *report) {
  if (shared_stack(spec->model_params)) return refuse_shared(report, "a server's connections wait on sockets");
  return cb__green_serve(spec, report);
}

const cb_model cb_model_green = {
    .name = "green",
    .summary = "stackful green threads, M:1, blocking calls made cooperative (gevent in C)",
    .params = green_params,
    .nparams = sizeof green_params / sizeof green_params[0],
    .run = green_run,
    .pingpong = green_pingpong,
    .spawn_tree = green_spawn_tree,
    .pipeline = green_pipeline,
    .serve = green_serve,
};
