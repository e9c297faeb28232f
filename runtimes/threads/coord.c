/* coord.c — pingpong and spawn for the threads model.
 *
 * pingpong: each pair is two pthreads sharing a mutex, a condition variable and a
 * `turn` flag; a hand-off is set turn, signal, and the other side's wake-up from
 * pthread_cond_wait (a futex wake and wait: an OS context switch).
 * spawn: the skynet tree with a real pthread per node, created with default
 * attributes. Bounded: a node creates one child, joins it, then creates the next, so
 * at most depth + 1 threads live at once (8 for a million leaves, fanout 10) while
 * every one of the ~1.11 x leaves threads is really created, run and joined. (With
 * all siblings created before joining, parallel subtrees made thousands of threads
 * live at once and each creation ~80 us on 2 cores, contending on the mm lock.) */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "runtimes/coord.h"
#include "runtimes/runtime.h"

typedef struct tp_pair {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int turn; /* 0: A's, 1: B's */
  uint64_t rounds, seen_a, seen_b;
  cb_job_record *rec;
} tp_pair;

static void *tp_a(void *arg) {
  tp_pair *p = arg;
  p->rec->start_ns = cb_now_ns();
  pthread_mutex_lock(&p->mu);
  for (uint64_t k = 0; k < p->rounds; k++) {
    p->turn = 1;
    pthread_cond_signal(&p->cv);
    while (p->turn != 0) pthread_cond_wait(&p->cv, &p->mu);
    p->seen_a++;
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

static void *tp_b(void *arg) {
  tp_pair *p = arg;
  pthread_mutex_lock(&p->mu);
  for (uint64_t k = 0; k < p->rounds; k++) {
    while (p->turn != 1) pthread_cond_wait(&p->cv, &p->mu);
    p->seen_b++;
    p->turn = 0;
    pthread_cond_signal(&p->cv);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

int cb__threads_pingpong(const cb_run_spec *spec, uint64_t rounds, cb_run_report *report) {
  report->concurrency = cb_spec_concurrency(spec);
  uint64_t n = spec->tasks;
  tp_pair *pairs = calloc(n, sizeof *pairs);
  pthread_t *tids = calloc(2 * n, sizeof *tids);
  if (!pairs || !tids) {
    free(pairs);
    free(tids);
    cb_report_error(report, "threads: out of memory for %llu pairs", (unsigned long long)n);
    return -ENOMEM;
  }
  int rc = 0;
  uint64_t made = 0;
  int64_t t0 = cb_now_ns();
  for (uint64_t i = 0; i < n && rc == 0; i++) {
    pairs[i].rounds = rounds;
    pairs[i].rec = &report->jobs[i];
    pthread_mutex_init(&pairs[i].mu, NULL);
    pthread_cond_init(&pairs[i].cv, NULL);
    rc = pthread_create(&tids[made], NULL, tp_b, &pairs[i]);
    if (rc == 0 && ++made && (rc = pthread_create(&tids[made], NULL, tp_a, &pairs[i])) == 0) made++;
    if (rc != 0) {
      cb_report_error(report, "threads: pthread_create failed for pingpong pair %llu: %s",
                      (unsigned long long)i + 1, strerror(rc));
      /* a lone B of this pair would wait forever: let it finish its loop */
      if (made % 2 == 1) {
        pthread_mutex_lock(&pairs[i].mu);
        pairs[i].rounds = 0;
        pthread_mutex_unlock(&pairs[i].mu);
      }
    }
  }
  uint64_t handoffs = 0;
  for (uint64_t t = 0; t < made; t++) pthread_join(tids[t], NULL);
  int64_t t1 = cb_now_ns();
  for (uint64_t i = 0; i < n; i++) {
    cb_job_record *rec = &report->jobs[i];
    if (i < made / 2) {
      rec->end_ns = t1;
      rec->result = pairs[i].seen_a + pairs[i].seen_b;
      rec->done = 1;
      handoffs += rec->result;
    }
    pthread_mutex_destroy(&pairs[i].mu);
    pthread_cond_destroy(&pairs[i].cv);
  }
  free(pairs);
  free(tids);
  report->created = made;
  report->created_kind = "threads";
  if (rc == 0 && handoffs > 0) cb_report_extra(report, "ns_per_switch", (double)(t1 - t0) / (double)handoffs);
  return -rc;
}

/* ---- spawn tree ---- */

typedef struct tt_ctx {
  uint64_t fanout;
  uint64_t created, live, peak_live; /* atomics */
  int failed;                        /* atomic: a pthread_create failed */
  int err;
} tt_ctx;

typedef struct tt_node {
  tt_ctx *ctx;
  uint64_t first, count, sum;
} tt_node;

static void tt_enter(tt_ctx *c) {
  uint64_t live = __atomic_add_fetch(&c->live, 1, __ATOMIC_RELAXED);
  uint64_t peak = __atomic_load_n(&c->peak_live, __ATOMIC_RELAXED);
  while (live > peak && !__atomic_compare_exchange_n(&c->peak_live, &peak, live, 1, __ATOMIC_RELAXED,
                                                     __ATOMIC_RELAXED)) {
  }
}

static void *tt_node_fn(void *arg) {
  tt_node *n = arg;
  tt_ctx *c = n->ctx;
  if (n->count == 1) {
    n->sum = n->first;
  } else {
    uint64_t k = n->count < c->fanout ? n->count : c->fanout, first = n->first;
    for (uint64_t j = 0; j < k; j++) {
      uint64_t cnt = n->count / k + (j < n->count % k);
      tt_node kid = {.ctx = c, .first = first, .count = cnt};
      pthread_t tid;
      first += cnt;
      tt_enter(c);
      int rc = pthread_create(&tid, NULL, tt_node_fn, &kid);
      if (rc != 0) {
        __atomic_sub_fetch(&c->live, 1, __ATOMIC_RELAXED);
        if (!__atomic_exchange_n(&c->failed, 1, __ATOMIC_RELAXED)) c->err = rc;
        break;
      }
      __atomic_add_fetch(&c->created, 1, __ATOMIC_RELAXED);
      pthread_join(tid, NULL);
      n->sum += kid.sum;
    }
  }
  __atomic_sub_fetch(&c->live, 1, __ATOMIC_RELAXED);
  return NULL;
}

static long max_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

int cb__threads_spawn_tree(const cb_run_spec *spec, uint64_t leaves, uint64_t fanout, uint64_t *sum,
                           cb_run_report *report) {
  report->concurrency = cb_spec_concurrency(spec);
  if (fanout < 2 || fanout > CB_COORD_MAX_FANOUT || leaves < 1) {
    cb_report_error(report, "threads: spawn needs leaves >= 1 and fanout from 2 to %d", CB_COORD_MAX_FANOUT);
    return -EINVAL;
  }
  tt_ctx c = {.fanout = fanout};
  tt_node root = {.ctx = &c, .first = 0, .count = leaves};
  long rss0 = max_rss_kb();
  int64_t t0 = cb_now_ns();
  pthread_t tid;
  tt_enter(&c);
  int rc = pthread_create(&tid, NULL, tt_node_fn, &root);
  if (rc == 0) {
    __atomic_add_fetch(&c.created, 1, __ATOMIC_RELAXED); /* the root's children count too, already */
    pthread_join(tid, NULL);
  } else {
    c.failed = 1;
    c.err = rc;
  }
  int64_t t1 = cb_now_ns();
  long rss1 = max_rss_kb();
  report->created = c.created;
  report->created_kind = "threads";
  *sum = root.sum;
  if (c.failed) {
    cb_report_error(report, "threads: pthread_create failed in the spawn tree: %s", strerror(c.err));
    return -c.err;
  }
  cb_report_extra(report, "ns_per_spawn", (double)(t1 - t0) / (double)c.created);
  cb_report_extra(report, "bytes_per_task", (double)(rss1 > rss0 ? rss1 - rss0 : 0) * 1024.0 / (double)c.peak_live);
  cb_report_extra(report, "peak_live", (double)c.peak_live);
  return 0;
}
