/* mnstress — a stress test of the M:N green runtime (runtimes/green/mn.c), made to
 * run under ThreadSanitizer (make SANITIZE=thread), where Criterion cannot start.
 *
 *   mnstress [--threads T] [--rounds R] [--workers W]
 *
 * T green threads (default 4000) on W workers (default 4) for R rounds (default 50):
 * half are producers sending over 16 shared channels (half unbuffered, half of
 * capacity 4), half consumers receiving; every thread also increments a shared
 * counter under one green mutex each round and every 8th round parks for a
 * millisecond (a hooked nanosleep, on its worker's timers), where consumers also pass
 * a cond-var barrier of their group of 8 consumers (only consumers wait there, so
 * producers, which wait only for consumers, cannot close a cycle). Each consumer spawns a child and joins it (children may be stolen
 * by another worker). The main thread waits for all through a wait group.
 * Checks: every value sent arrived exactly once (sum and count), the counter equals
 * T * R, every child ran, and the run returned 0. Prints one JSON line; exit 0 when
 * every check holds, 1 otherwise, 2 on bad input. Any data race or lost wake-up shows
 * up as a TSan report (nonzero exit) or a hang (run it under a timeout). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "runtimes/green/green.h"

#define NCHAN 16
#define GROUP 8

static const char PROG[] = "mnstress";

typedef struct stress {
  int64_t threads, rounds;
  cb_green_chan *chan[NCHAN];
  cb_green_mutex mu;
  uint64_t counter;        /* under mu */
  cb_green_cond cv;        /* the barrier's */
  uint64_t *arrived;       /* per group of 8, under mu */
  uint64_t *generation;    /* per group of 8, under mu */
  cb_green_wg wg;
  uint64_t sum, count;     /* received, under mu */
  uint64_t children;       /* under mu */
} stress;

typedef struct role {
  stress *st;
  int64_t i;
} role;

static void locked_add(stress *st, uint64_t *field, uint64_t v) {
  cb_green_mutex_lock(&st->mu);
  *field += v;
  cb_green_mutex_unlock(&st->mu);
}

/* Waits until all members of consumer j's group of 8 consumers have arrived in this
 * generation. */
static void barrier(stress *st, int64_t j) {
  int64_t grp = j / GROUP, size = GROUP, consumers = st->threads / 2;
  if ((grp + 1) * GROUP > consumers) size = consumers - grp * GROUP;
  cb_green_mutex_lock(&st->mu);
  uint64_t gen = st->generation[grp];
  if (++st->arrived[grp] == (uint64_t)size) {
    st->arrived[grp] = 0;
    st->generation[grp]++;
    cb_green_cond_broadcast(&st->cv);
  } else {
    while (st->generation[grp] == gen) cb_green_cond_wait(&st->cv, &st->mu);
  }
  cb_green_mutex_unlock(&st->mu);
}

static void child(void *p) { locked_add(p, &((stress *)p)->children, 1); }

static void worker(void *p) {
  role *r = p;
  stress *st = r->st;
  int producer = r->i % 2 == 0;
  cb_green_chan *c = st->chan[(r->i / 2) % NCHAN];
  if (!producer) {
    cb_green *g;
    if (cb_green_spawn(cb_green_current_sched(), child, st, &g) == 0) cb_green_join(g);
  }
  for (int64_t k = 0; k < st->rounds; k++) {
    uint64_t v = (uint64_t)(r->i / 2) * (uint64_t)st->rounds + (uint64_t)k;
    if (producer) {
      if (cb_green_chan_send(c, &v) != 0) break;
    } else {
      uint64_t got;
      if (cb_green_chan_recv(c, &got) != 0) break;
      cb_green_mutex_lock(&st->mu);
      st->sum += got;
      st->count++;
      cb_green_mutex_unlock(&st->mu);
    }
    locked_add(st, &st->counter, 1);
    if (k % 8 == 7) {
      if (!producer) barrier(st, r->i / 2);
      struct timespec ms = {0, 1000000};
      nanosleep(&ms, NULL);
    }
  }
  cb_green_wg_done(&st->wg);
}

static void waiter(void *p) {
  stress *st = p;
  cb_green_wg_wait(&st->wg);
}

static int parse(int argc, char **argv, int64_t *threads, int64_t *rounds, int64_t *workers) {
  for (int i = 1; i < argc; i += 2) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    int64_t *dst = strcmp(a, "--threads") == 0 ? threads : strcmp(a, "--rounds") == 0 ? rounds
                 : strcmp(a, "--workers") == 0 ? workers : NULL;
    if (!dst) return cb_usage_error(PROG, "unknown argument '%s'; allowed: --threads, --rounds, --workers", a);
    int64_t max = dst == workers ? CB_GREEN_GROUP_MAX_WORKERS : dst == threads ? 1000000 : 100000;
    /* an even thread count: producers and consumers pair up over the channels */
    if (!v || cb_parse_int(v, dst == threads ? 2 : 1, max, dst) != 0 || (dst == threads && *dst % 2))
      return cb_usage_error(PROG, "%s must be %s from %d to %" PRId64 ", got '%s'", a,
                            dst == threads ? "an even integer" : "an integer", dst == threads ? 2 : 1, max,
                            v ? v : "nothing");
  }
  return 0;
}

int main(int argc, char **argv) {
  int64_t threads = 4000, rounds = 50, workers = 4;
  if (parse(argc, argv, &threads, &rounds, &workers) != 0) return 2;
  stress st = {.threads = threads, .rounds = rounds};
  st.arrived = calloc((size_t)(threads / GROUP + 1), sizeof *st.arrived);
  st.generation = calloc((size_t)(threads / GROUP + 1), sizeof *st.generation);
  role *roles = calloc((size_t)threads, sizeof *roles);
  cb_green_group *gr;
  if (!st.arrived || !st.generation || !roles || cb_green_group_new((unsigned)workers, 0, &gr) != 0) {
    fprintf(stderr, "%s: out of memory\n", PROG);
    return 3;
  }
  for (int k = 0; k < NCHAN; k++)
    if (cb_green_chan_new(sizeof(uint64_t), k % 2 ? 4 : 0, &st.chan[k]) != 0) return 3;
  cb_green_mutex_init(&st.mu);
  cb_green_cond_init(&st.cv);
  cb_green_wg_init(&st.wg);
  cb_green_wg_add(&st.wg, threads);
  int rc = cb_green_group_spawn(gr, waiter, &st, NULL);
  for (int64_t i = 0; i < threads && rc == 0; i++) {
    roles[i] = (role){.st = &st, .i = i};
    rc = cb_green_group_spawn(gr, worker, &roles[i], NULL);
  }
  if (rc == 0) rc = cb_green_group_run(gr);
  cb_green_stats gs;
  cb_green_group_stats(gr, &gs);
  cb_green_group_stats_mn mn;
  cb_green_group_stats_mn_get(gr, &mn);
  cb_green_group_free(gr);
  uint64_t pairs = (uint64_t)threads / 2, n = pairs * (uint64_t)rounds;
  uint64_t want_sum = n * (n - 1) / 2; /* values 0 .. n-1, each sent once */
  int ok = rc == 0 && st.count == n && st.sum == want_sum && st.counter == (uint64_t)(threads * rounds) &&
           st.children == pairs;
  printf("{\"ok\":%s,\"rc\":%d,\"workers\":%" PRId64 ",\"threads\":%" PRId64 ",\"rounds\":%" PRId64
         ",\"received\":%" PRIu64 ",\"expected\":%" PRIu64 ",\"counter\":%" PRIu64 ",\"children\":%" PRIu64
         ",\"created\":%" PRIu64 ",\"steals\":%" PRIu64 ",\"remote_wakes\":%" PRIu64 ",\"sleeps\":%" PRIu64 "}\n",
         ok ? "true" : "false", rc, workers, threads, rounds, st.count, n, st.counter, st.children, gs.created,
         mn.steals, mn.remote_wakes, mn.sleeps);
  for (int k = 0; k < NCHAN; k++) cb_green_chan_free(st.chan[k]);
  free(st.arrived);
  free(st.generation);
  free(roles);
  return ok ? 0 : 1;
}
