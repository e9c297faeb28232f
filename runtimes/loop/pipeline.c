/* pipeline.c — the pipeline under loop: per pipeline a source task, a task per stage
 * and a sink task (stages + 2) on one cb_loop, consecutive ones joined by the loop's
 * Queue (cb_queue, FIFO, maxsize `queue`; the item is the entry's value). A put parks
 * only on a full queue, a get only on an empty one; a woken task runs on the loop's
 * next turn. Every unit moves exactly `items` items (no end marker). C = 0 (or
 * C >= N): every pipeline at once; otherwise C at first, and each sink that finishes
 * starts the next pipeline. When the sink has its last item every unit upstream has
 * returned (each made its last put and ended in that same step), so the sink frees its
 * pipeline's queues: memory stays bounded by the pipelines in flight. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/loop/loop_int.h"
#include "runtimes/loop/model.h"
#include "runtimes/loop/queue.h"
#include "runtimes/pipeline.h"

typedef struct run_ctx {
  const cb_run_spec *spec;
  const cb_pipeline_spec *p;
  cb_run_report *report;
  cb_loop *loop;
  cb__pipe_lat lat;
  struct pline *pl; /* N */
  uint64_t next;
  int rc;
} run_ctx;

typedef struct pline {
  run_ctx *c;
  uint64_t i;
  cb_queue *q; /* stages + 1; NULL once freed */
} pline;

typedef struct unit_frame {
  cb_co co;
  pline *pl;
  uint64_t s, k, v;
  cb_qitem it;
} unit_frame;

static int launch(run_ctx *c);

static void pline_free(pline *pl) {
  if (!pl->q) return;
  for (uint64_t s = 0; s <= pl->c->p->stages; s++) free(pl->q[s].buf); /* waiters, if any, died with the loop */
  free(pl->q);
  pl->q = NULL;
}

static int source_co(cb_task *task, void *vf) {
  unit_frame *f = vf;
  CB_CO_BEGIN(task, f);
  f->pl->c->report->jobs[f->pl->i].start_ns = cb_now_ns();
  for (f->k = 0; f->k < f->pl->c->p->items; f->k++) {
    cb__pipe_stamp(&f->pl->c->lat, f->pl->i, f->k);
    f->v = f->pl->c->p->source(f->pl->c->p, f->pl->i, f->k);
    CB_QUEUE_PUT(&f->pl->q[0], 0, ((cb_val){.u = f->v}));
  }
  CB_CO_END();
}

static int stage_co(cb_task *task, void *vf) {
  unit_frame *f = vf;
  CB_CO_BEGIN(task, f);
  for (f->k = 0; f->k < f->pl->c->p->items; f->k++) {
    CB_QUEUE_GET(&f->pl->q[f->s], &f->it);
    f->v = f->pl->c->p->stage(f->pl->c->p, f->s, f->it.v.u);
    CB_QUEUE_PUT(&f->pl->q[f->s + 1], 0, ((cb_val){.u = f->v}));
  }
  CB_CO_END();
}

static int sink_co(cb_task *task, void *vf) {
  unit_frame *f = vf;
  CB_CO_BEGIN(task, f);
  f->v = f->pl->c->p->fold_init;
  for (f->k = 0; f->k < f->pl->c->p->items; f->k++) {
    CB_QUEUE_GET(&f->pl->q[f->pl->c->p->stages], &f->it);
    cb__pipe_arrive(&f->pl->c->lat, f->pl->i, f->k);
    f->v = f->pl->c->p->fold(f->v, f->it.v.u);
  }
  {
    run_ctx *c = f->pl->c;
    cb__pipe_done(&c->report->jobs[f->pl->i], f->v);
    for (uint64_t s = 0; s <= c->p->stages; s++) cb_queue_destroy(&f->pl->q[s]); /* checks: no waiter left */
    free(f->pl->q);
    f->pl->q = NULL;
    if (c->rc == 0 && c->next < c->spec->tasks) launch(c);
  }
  CB_CO_END();
}

/* Starts the next pipeline: its queues and its units' tasks. */
static int launch(run_ctx *c) {
  uint64_t S = c->p->stages, i = c->next++;
  pline *pl = &c->pl[i];
  *pl = (pline){.c = c, .i = i, .q = calloc(S + 1, sizeof(cb_queue))};
  int rc = pl->q ? 0 : -ENOMEM;
  for (uint64_t s = 0; s <= S && rc == 0; s++) rc = cb_queue_init(&pl->q[s], CB_QUEUE_FIFO, c->p->queue);
  cb_task *made[2] = {NULL, NULL};
  for (uint64_t u = 0; u < S + 2 && rc == 0; u++) {
    cb_co_fn fn = u == 0 ? source_co : u <= S ? stage_co : sink_co;
    cb_task *t = cb_create_task(c->loop, fn, sizeof(unit_frame), NULL);
    if (!t) {
      rc = -ENOMEM;
      break;
    }
    unit_frame *f = cb_task_frame(t);
    f->pl = pl;
    f->s = u == 0 || u > S ? 0 : u - 1;
    cb_task_release(t); /* the loop's reference keeps it until it is done */
    made[u == 0] = t;
  }
  (void)made;
  if (rc != 0) {
    /* the tasks already made stay parked: the loop ends with them pending and
     * frees them at close; nothing further starts */
    if (c->rc == 0) c->rc = rc;
    cb_report_error(c->report, "loop: pipeline %llu: cannot create its queues or tasks: %s", (unsigned long long)i,
                    strerror(-rc));
  }
  return rc;
}

int cb__loop_pipeline(const cb_run_spec *spec, const cb_pipeline_spec *p, cb_run_report *report) {
  report->concurrency = cb_spec_concurrency(spec);
  report->created_kind = "tasks";
  run_ctx c = {.spec = spec, .p = p, .report = report, .loop = cb_loop_new()};
  c.pl = calloc(spec->tasks, sizeof *c.pl);
  if (!c.loop || !c.pl || cb__pipe_lat_init(&c.lat, spec->tasks, p->items, 0) != 0) {
    if (c.loop) cb_loop_close(c.loop);
    free(c.pl);
    cb__pipe_lat_free(&c.lat);
    cb_report_error(report, "loop: out of memory for %llu pipelines", (unsigned long long)spec->tasks);
    return -ENOMEM;
  }
  int64_t t0 = cb_now_ns();
  for (uint64_t k = 0; k < report->concurrency && c.rc == 0; k++) launch(&c);
  int r = cb_loop_run_forever(c.loop); /* -EDEADLK: nothing left to run */
  int64_t t1 = cb_now_ns();
  uint64_t unfinished = 0;
  for (uint64_t i = 0; i < spec->tasks; i++) unfinished += !report->jobs[i].done;
  if (r != -EDEADLK && r != 0 && c.rc == 0) c.rc = r;
  if (unfinished && c.rc == 0)
    cb_report_error(report, "loop: %llu of %llu pipelines can never finish (deadlock)", (unsigned long long)unfinished,
                    (unsigned long long)spec->tasks);
  report->created = cb_loop_tasks_created(c.loop);
  cb_loop_close(c.loop);
  for (uint64_t i = 0; i < c.next; i++) pline_free(&c.pl[i]);
  free(c.pl);
  if (c.rc == 0 && !unfinished) cb__pipeline_report(report, spec, p, &c.lat, t0, t1, p->queue);
  cb__pipe_lat_free(&c.lat);
  return c.rc;
}
