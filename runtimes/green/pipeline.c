/* pipeline.c — the pipeline under green: per pipeline a source, a green thread per
 * stage and a sink (stages + 2 green threads) on one M:1 scheduler, consecutive ones
 * joined by a cb_green_chan of capacity `queue` (8-byte items: the channel's
 * word-copy path). A send parks only on a full channel, a receive only on an empty
 * one, so with queue > 1 a switch carries up to `queue` items. Every unit moves
 * exactly `items` items (no close needed). C = 0 (or C >= N): every pipeline's green
 * threads at once; otherwise C driver green threads each spawn one pipeline, join
 * its units and take the next. A unit that cannot be spawned stops the model: its
 * pipeline's channels are closed (its parked units wake with -EPIPE and end) and no
 * further pipeline starts.
 * green-mn (cb__green_mn_pipeline): the same on a group of workers (mn.c): the
 * pipelines (or drivers) are placed on the least-loaded worker, a pipeline's units
 * are spawned on the spawner's worker and idle workers steal those not started, so
 * consecutive units may hand items across workers; the shared counters are atomic. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/green/green_int.h"
#include "runtimes/pipeline.h"

typedef struct run_ctx {
  const cb_run_spec *spec;
  const cb_pipeline_spec *p;
  cb_run_report *report;
  const char *name;      /* the model's, for messages */
  cb_green_sched *sched; /* M:1, or NULL */
  cb_green_group *group; /* M:N, or NULL */
  cb__pipe_lat lat;
  uint64_t next; /* atomic */
  int rc;        /* first failure (atomic) */
} run_ctx;

/* From a green thread: on its own scheduler (M:N: its worker, where idle workers may
 * steal it); from the model before the run: M:1 the scheduler, M:N the least-loaded
 * worker. */
static int spawn(run_ctx *c, void (*fn)(void *), void *arg, cb_green **out) {
  cb_green_sched *s = cb_green_current_sched();
  if (s) return cb_green_spawn(s, fn, arg, out);
  return c->group ? cb_green_group_spawn(c->group, fn, arg, out) : cb_green_spawn(c->sched, fn, arg, out);
}

static int failed(run_ctx *c) { return __atomic_load_n(&c->rc, __ATOMIC_RELAXED) != 0; }

typedef struct pline pline;
typedef struct unit {
  pline *pl;
  uint64_t s; /* 0 source, 1..stages stage s-1, stages+1 sink */
} unit;

struct pline {
  run_ctx *c;
  uint64_t i;
  cb_green_chan **ch; /* stages + 1 */
  unit *u;            /* stages + 2 */
  cb_green **g;       /* stages + 2 when joined by a driver, else NULL */
  uint64_t made;
};

static void unit_fn(void *arg) {
  unit *u = arg;
  pline *pl = u->pl;
  const cb_pipeline_spec *p = pl->c->p;
  const cb__pipe_lat *lat = &pl->c->lat;
  uint64_t n = p->items, i = pl->i, v;
  if (u->s == 0) {
    pl->c->report->jobs[i].start_ns = cb_now_ns();
    for (uint64_t k = 0; k < n; k++) {
      cb__pipe_stamp(lat, i, k);
      v = p->source(p, i, k);
      if (cb_green_chan_send(pl->ch[0], &v) != 0) return;
    }
  } else if (u->s <= p->stages) {
    uint64_t s = u->s - 1;
    cb_green_chan *in = pl->ch[s], *out = pl->ch[s + 1];
    for (uint64_t k = 0; k < n; k++) {
      if (cb_green_chan_recv(in, &v) != 0) return;
      v = p->stage(p, s, v);
      if (cb_green_chan_send(out, &v) != 0) return;
    }
  } else {
    cb_green_chan *in = pl->ch[p->stages];
    uint64_t acc = p->fold_init;
    for (uint64_t k = 0; k < n; k++) {
      if (cb_green_chan_recv(in, &v) != 0) return;
      cb__pipe_arrive(lat, i, k);
      acc = p->fold(acc, v);
    }
    cb__pipe_done(&pl->c->report->jobs[i], acc);
  }
}

static void pline_free(pline *pl) {
  if (pl->ch)
    for (uint64_t s = 0; s <= pl->c->p->stages; s++) cb_green_chan_free(pl->ch[s]);
  free(pl->ch);
  free(pl->u);
  free(pl->g);
}

static void fail(run_ctx *c, int rc, const char *what, uint64_t i) {
  int zero = 0;
  __atomic_compare_exchange_n(&c->rc, &zero, rc, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  cb_report_error(c->report, "%s: pipeline %llu: %s: %s", c->name, (unsigned long long)i, what, strerror(-rc));
}

/* Makes pipeline i's channels and spawns its units, joinable when join is set.
 * On failure closes its channels so the units already spawned end. */
static int pline_start(run_ctx *c, pline *pl, uint64_t i, int join) {
  uint64_t S = c->p->stages;
  *pl = (pline){.c = c, .i = i};
  pl->ch = calloc(S + 1, sizeof *pl->ch);
  pl->u = calloc(S + 2, sizeof *pl->u);
  pl->g = join ? calloc(S + 2, sizeof *pl->g) : NULL;
  int rc = pl->ch && pl->u && (!join || pl->g) ? 0 : -ENOMEM;
  for (uint64_t s = 0; s <= S && rc == 0; s++) rc = cb_green_chan_new(sizeof(uint64_t), c->p->queue, &pl->ch[s]);
  if (rc != 0) {
    fail(c, rc, "cannot make its channels", i);
    return rc;
  }
  for (uint64_t s = 0; s < S + 2 && rc == 0; s++) {
    pl->u[s] = (unit){.pl = pl, .s = s};
    rc = spawn(c, unit_fn, &pl->u[s], join ? &pl->g[s] : NULL);
    if (rc == 0) pl->made++;
  }
  if (rc != 0) {
    fail(c, rc, "cannot spawn a green thread", i);
    for (uint64_t s = 0; s <= S; s++) cb_green_chan_close(pl->ch[s]);
  }
  return rc;
}

static void driver(void *arg) {
  run_ctx *c = arg;
  uint64_t i;
  while (!failed(c) && (i = __atomic_fetch_add(&c->next, 1, __ATOMIC_RELAXED)) < c->spec->tasks) {
    pline pl;
    int rc = pline_start(c, &pl, i, 1);
    for (uint64_t s = 0; s < pl.made; s++) cb_green_join(pl.g[s]);
    pline_free(&pl);
    if (rc != 0) return;
  }
}

/* Runs the pipelines on one scheduler (workers 0) or a group of workers. */
static int run(const cb_run_spec *spec, const cb_pipeline_spec *p, cb_run_report *report, unsigned workers) {
  report->concurrency = cb_spec_concurrency(spec);
  report->created_kind = "green threads";
  run_ctx c = {.spec = spec, .p = p, .report = report, .name = workers ? "green-mn" : "green"};
  int rc = workers ? cb_green_group_new(workers, spec->stack_size, &c.group)
                   : cb_green_sched_new(spec->stack_size, &c.sched);
  if (rc != 0) {
    cb_report_error(report, "%s: cannot create the scheduler: %s", c.name, strerror(-rc));
    return rc;
  }
  if (cb__pipe_lat_init(&c.lat, spec->tasks, p->items, 0) != 0) {
    if (workers) cb_green_group_free(c.group);
    else cb_green_sched_free(c.sched);
    cb_report_error(report, "%s: out of memory for the latency samples", c.name);
    return -ENOMEM;
  }
  uint64_t n = spec->tasks, drivers = report->concurrency < n ? report->concurrency : 0;
  pline *all = drivers ? NULL : calloc(n, sizeof *all);
  uint64_t started = 0;
  int64_t t0 = cb_now_ns();
  if (drivers) {
    for (uint64_t d = 0; d < drivers && !failed(&c); d++) {
      int r = spawn(&c, driver, &c, NULL);
      if (r != 0) fail(&c, r, "cannot spawn a driver", 0);
    }
  } else if (!all) {
    fail(&c, -ENOMEM, "out of memory", 0);
  } else {
    for (; started < n; started++)
      if (pline_start(&c, &all[started], started, 0) != 0) {
        started++; /* its channels are still to free */
        break;
      }
  }
  int r = workers ? cb_green_group_run(c.group) : cb_green_sched_run(c.sched);
  int64_t t1 = cb_now_ns();
  if (r == -EDEADLK) cb_report_error(report, "%s: every green thread is blocked and nothing can wake one", c.name);
  cb_green_stats st;
  if (workers) cb_green_group_stats(c.group, &st);
  else cb_green_sched_stats(c.sched, &st);
  report->created = st.created;
  for (uint64_t i = 0; i < started; i++) pline_free(&all[i]);
  free(all);
  if (workers) cb_green_group_free(c.group);
  else cb_green_sched_free(c.sched);
  rc = c.rc != 0 ? c.rc : r;
  if (rc == 0) cb__pipeline_report(report, spec, p, &c.lat, t0, t1, p->queue);
  cb__pipe_lat_free(&c.lat);
  return rc;
}

int cb__green_pipeline(const cb_run_spec *spec, const cb_pipeline_spec *p, cb_run_report *report) {
  return run(spec, p, report, 0);
}

int cb__green_mn_pipeline(const cb_run_spec *spec, const cb_pipeline_spec *p, unsigned workers,
                          cb_run_report *report) {
  return run(spec, p, report, workers);
}
