/* pipeline.c — the pipeline under threads: per pipeline a source thread, a thread
 * per stage and a sink thread (stages + 2), consecutive ones joined by a bounded
 * queue of `queue` items: a ring under a mutex with two condition variables, a
 * waiter signalled only when one waits (a put wakes a getter parked on empty, a get
 * a putter parked on full). Every unit moves exactly `items` items, so no end marker.
 * C = 0 (or C >= N): every pipeline's threads at once; otherwise C driver threads
 * each build one pipeline, join it and take the next, so at most C run at once.
 * A thread that cannot be created stops the model (-EAGAIN etc.): the pipeline it
 * belonged to is torn down (its queues marked dead wake and end its threads), the
 * others already running are joined, and no further one is started. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/pipeline.h"

typedef struct tq {
  pthread_mutex_t mu;
  pthread_cond_t not_empty, not_full;
  uint64_t *ring;
  size_t cap, head, count;
  int getters, putters; /* parked */
  int dead;
} tq;

static int tq_init(tq *q, size_t cap) {
  q->ring = malloc(cap * sizeof *q->ring);
  if (!q->ring) return -ENOMEM;
  q->cap = cap;
  q->head = q->count = 0;
  q->getters = q->putters = q->dead = 0;
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->not_empty, NULL);
  pthread_cond_init(&q->not_full, NULL);
  return 0;
}

static void tq_destroy(tq *q) {
  if (!q->ring) return;
  pthread_mutex_destroy(&q->mu);
  pthread_cond_destroy(&q->not_empty);
  pthread_cond_destroy(&q->not_full);
  free(q->ring);
  q->ring = NULL;
}

static int tq_put(tq *q, uint64_t v) {
  pthread_mutex_lock(&q->mu);
  while (q->count == q->cap && !q->dead) {
    q->putters++;
    pthread_cond_wait(&q->not_full, &q->mu);
    q->putters--;
  }
  if (q->dead) {
    pthread_mutex_unlock(&q->mu);
    return -ECANCELED;
  }
  size_t at = q->head + q->count;
  q->ring[at >= q->cap ? at - q->cap : at] = v;
  q->count++;
  if (q->getters) pthread_cond_signal(&q->not_empty);
  pthread_mutex_unlock(&q->mu);
  return 0;
}

static int tq_get(tq *q, uint64_t *v) {
  pthread_mutex_lock(&q->mu);
  while (q->count == 0 && !q->dead) {
    q->getters++;
    pthread_cond_wait(&q->not_empty, &q->mu);
    q->getters--;
  }
  if (q->dead) {
    pthread_mutex_unlock(&q->mu);
    return -ECANCELED;
  }
  *v = q->ring[q->head];
  q->head = q->head + 1 == q->cap ? 0 : q->head + 1;
  q->count--;
  if (q->putters) pthread_cond_signal(&q->not_full);
  pthread_mutex_unlock(&q->mu);
  return 0;
}

static void tq_kill(tq *q) {
  pthread_mutex_lock(&q->mu);
  q->dead = 1;
  pthread_cond_broadcast(&q->not_empty);
  pthread_cond_broadcast(&q->not_full);
  pthread_mutex_unlock(&q->mu);
}

typedef struct run_ctx {
  const cb_run_spec *spec;
  const cb_pipeline_spec *p;
  cb_run_report *report;
  cb__pipe_lat lat;
  uint64_t next;    /* next pipeline (atomic; drivers) */
  uint64_t created; /* threads (atomic) */
  int failed;       /* atomic: a creation failed, start nothing more */
  int err;          /* its errno (positive), set by the one that failed first */
} run_ctx;

typedef struct pipe_unit {
  struct pline *pl;
  uint64_t s; /* 0: source, 1..stages: stage s-1, stages+1: sink */
} pipe_unit;

typedef struct pline {
  run_ctx *c;
  uint64_t i;
  uint64_t made; /* threads created */
  tq *q;         /* stages + 1 */
  pthread_t *tid;
  pipe_unit *unit;
} pline;

static void *unit_main(void *arg) {
  pipe_unit *u = arg;
  pline *pl = u->pl;
  const cb_pipeline_spec *p = pl->c->p;
  const cb__pipe_lat *lat = &pl->c->lat;
  uint64_t n = p->items, i = pl->i, v;
  if (u->s == 0) {
    for (uint64_t k = 0; k < n; k++) {
      cb__pipe_stamp(lat, i, k);
      if (tq_put(&pl->q[0], p->source(p, i, k)) != 0) return NULL;
    }
  } else if (u->s <= p->stages) {
    uint64_t s = u->s - 1;
    for (uint64_t k = 0; k < n; k++)
      if (tq_get(&pl->q[s], &v) != 0 || tq_put(&pl->q[s + 1], p->stage(p, s, v)) != 0) return NULL;
  } else {
    uint64_t acc = p->fold_init;
    for (uint64_t k = 0; k < n; k++) {
      if (tq_get(&pl->q[p->stages], &v) != 0) return NULL;
      cb__pipe_arrive(lat, i, k);
      acc = p->fold(acc, v);
    }
    cb__pipe_done(&pl->c->report->jobs[i], acc);
  }
  return NULL;
}

static void pline_free(pline *pl) {
  if (pl->q)
    for (uint64_t s = 0; s <= pl->c->p->stages; s++) tq_destroy(&pl->q[s]);
  free(pl->q);
  free(pl->tid);
  free(pl->unit);
}

static void fail(run_ctx *c, int err, const char *what, uint64_t i) {
  if (__atomic_exchange_n(&c->failed, 1, __ATOMIC_ACQ_REL) == 0) c->err = err;
  cb_report_error(c->report, "threads: pipeline %llu: %s: %s", (unsigned long long)i, what, strerror(err));
}

/* Builds pipeline i and starts its threads. 0, or a positive errno after tearing
 * down what it had made (its threads joined, its memory freed). */
static int pline_start(run_ctx *c, pline *pl, uint64_t i) {
  uint64_t S = c->p->stages;
  *pl = (pline){.c = c, .i = i};
  pl->q = calloc(S + 1, sizeof *pl->q);
  pl->tid = calloc(S + 2, sizeof *pl->tid);
  pl->unit = calloc(S + 2, sizeof *pl->unit);
  int rc = pl->q && pl->tid && pl->unit ? 0 : ENOMEM;
  for (uint64_t s = 0; s <= S && rc == 0; s++) rc = -tq_init(&pl->q[s], c->p->queue);
  if (rc != 0) {
    fail(c, rc, "out of memory", i);
    pline_free(pl);
    return rc;
  }
  c->report->jobs[i].start_ns = cb_now_ns();
  /* the sink first, then back to the source: each thread's consumer exists before it */
  for (uint64_t k = 0; k < S + 2; k++) {
    uint64_t s = S + 1 - k;
    pl->unit[s] = (pipe_unit){.pl = pl, .s = s};
    rc = pthread_create(&pl->tid[s], NULL, unit_main, &pl->unit[s]);
    if (rc != 0) break;
    pl->made++;
    __atomic_add_fetch(&c->created, 1, __ATOMIC_RELAXED);
  }
  if (rc != 0) {
    fail(c, rc, "pthread_create failed", i);
    for (uint64_t s = 0; s <= S; s++) tq_kill(&pl->q[s]);
    for (uint64_t k = 0; k < pl->made; k++) pthread_join(pl->tid[S + 1 - k], NULL);
    pline_free(pl);
  }
  return rc;
}

static void pline_join(pline *pl) {
  uint64_t S = pl->c->p->stages;
  for (uint64_t k = 0; k < pl->made; k++) pthread_join(pl->tid[S + 1 - k], NULL);
  pline_free(pl);
}

static void *driver(void *arg) {
  run_ctx *c = arg;
  for (;;) {
    if (__atomic_load_n(&c->failed, __ATOMIC_ACQUIRE)) return NULL;
    uint64_t i = __atomic_fetch_add(&c->next, 1, __ATOMIC_RELAXED);
    if (i >= c->spec->tasks) return NULL;
    pline pl;
    if (pline_start(c, &pl, i) != 0) return NULL;
    pline_join(&pl);
  }
}

int cb__threads_pipeline(const cb_run_spec *spec, const cb_pipeline_spec *p, cb_run_report *report) {
  report->concurrency = cb_spec_concurrency(spec);
  report->created_kind = "threads";
  int range = cb__pipeline_check_units(report, spec, p, "threads", "threads");
  if (range != 0) return range;
  run_ctx c = {.spec = spec, .p = p, .report = report};
  if (cb__pipe_lat_init(&c.lat, spec->tasks, p->items, 0) != 0) {
    cb_report_error(report, "threads: out of memory for the latency samples");
    return -ENOMEM;
  }
  uint64_t n = spec->tasks, drivers = report->concurrency < n ? report->concurrency : 0;
  int64_t t0 = cb_now_ns();
  if (drivers == 0) { /* every pipeline at once */
    pline *pl = calloc(n, sizeof *pl);
    uint64_t started = 0;
    if (!pl) fail(&c, ENOMEM, "out of memory", 0);
    for (; pl && started < n; started++)
      if (pline_start(&c, &pl[started], started) != 0) break;
    for (uint64_t i = 0; i < started; i++) pline_join(&pl[i]);
    free(pl);
  } else {
    pthread_t *tid = calloc(drivers, sizeof *tid);
    uint64_t made = 0;
    if (!tid) fail(&c, ENOMEM, "out of memory", 0);
    for (; tid && made < drivers; made++) {
      int rc = pthread_create(&tid[made], NULL, driver, &c);
      if (rc != 0) {
        fail(&c, rc, "pthread_create failed for a driver", 0);
        break;
      }
      __atomic_add_fetch(&c.created, 1, __ATOMIC_RELAXED);
    }
    for (uint64_t d = 0; d < made; d++) pthread_join(tid[d], NULL);
    free(tid);
  }
  int64_t t1 = cb_now_ns();
  report->created = c.created;
  if (!c.failed) cb__pipeline_report(report, spec, p, &c.lat, t0, t1, p->queue);
  cb__pipe_lat_free(&c.lat);
  return c.failed ? -c.err : 0;
}
