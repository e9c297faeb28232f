/* test_green_sched.c — spawn/join/yield/sleep/exit order, deadlock detection, bad
 * stack sizes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "runtimes/green/green.h"

struct trace {
  char log[256];
  int n;
};

static void note(struct trace *t, char c) { t->log[t->n++] = c; }

struct yarg {
  struct trace *t;
  char name;
};

static void yielder(void *p) {
  struct yarg *a = p;
  for (int i = 0; i < 3; i++) {
    note(a->t, a->name);
    cb_green_yield();
  }
}

Test(green_sched, yield_round_robin) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  struct trace t = {0};
  struct yarg a = {&t, 'a'}, b = {&t, 'b'}, c = {&t, 'c'};
  /* spawned from the main context: each new child goes to the front */
  cr_assert_eq(cb_green_spawn(s, yielder, &c, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, yielder, &b, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, yielder, &a, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_str_eq(t.log, "abcabcabc");
  cb_green_sched_free(s);
}

static void child(void *p) {
  struct yarg *a = p;
  note(a->t, a->name);
  cb_green_yield();
  note(a->t, (char)(a->name - 32)); /* upper case: second half */
}

static void parent(void *p) {
  struct trace *t = p;
  struct yarg x = {t, 'x'}, y = {t, 'y'};
  cb_green *gx, *gy;
  note(t, 'P');
  cr_assert_eq(cb_green_spawn(cb_green_current_sched(), child, &x, &gx), 0);
  cr_assert_eq(cb_green_spawn(cb_green_current_sched(), child, &y, &gy), 0);
  note(t, 'p'); /* the children have not run yet: spawn does not switch */
  cr_assert_eq(cb_green_join(gx), 0);
  note(t, 'j');
  cr_assert_eq(cb_green_join(gy), 0); /* already finished: returns at once */
  note(t, 'J');
}

Test(green_sched, join_waits_and_children_run_first) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  struct trace t = {0};
  cr_assert_eq(cb_green_spawn(s, parent, &t, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  /* y (spawned last) runs first; x and y yield; both finish; parent resumes */
  cr_expect_str_eq(t.log, "PpyxYXjJ");
  cb_green_sched_free(s);
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct sarg {
  struct trace *t;
  char name;
  int ms;
  int *asleep, *most_asleep;
  int64_t deadline_ns, woke_ns; /* when it asked to wake (measured just before), when it did */
};

static void sleeper(void *p) {
  struct sarg *a = p;
  if (++*a->asleep > *a->most_asleep) *a->most_asleep = *a->asleep;
  a->deadline_ns = now_ns() + (int64_t)a->ms * 1000000;
  cr_assert_eq(cb_green_sleep_ns((int64_t)a->ms * 1000000), 0);
  a->woke_ns = now_ns();
  --*a->asleep;
  note(a->t, a->name);
}

/* Sleepers wake in the order of their deadlines, never early, and all four sleep at
 * once (structural: all are queued before the first runs, and a woken one goes to
 * the back of the run queue). No upper bound on time: a busy machine wakes them late. */
Test(green_sched, sleep_order_and_concurrency) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  struct trace t = {0};
  int asleep = 0, most = 0;
  struct sarg a[4] = {{&t, 'c', 60, &asleep, &most, 0, 0}, {&t, 'a', 20, &asleep, &most, 0, 0},
                      {&t, 'd', 80, &asleep, &most, 0, 0}, {&t, 'b', 40, &asleep, &most, 0, 0}};
  for (int i = 0; i < 4; i++) cr_assert_eq(cb_green_spawn(s, sleeper, &a[i], NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(t.n, 4, "log %s", t.log);
  cr_expect_eq(most, 4, "at most %d of the 4 sleeps overlapped", most);
  for (int i = 0; i < 4; i++) cr_expect_geq(a[i].woke_ns, a[i].deadline_ns, "%c woke early", a[i].name);
  /* the order of the wake-ups is the order of the deadlines; they are 20 ms apart
   * unless the machine stalled between two sleepers' starts (then the measured
   * deadlines say which order is right; closer than 1 ms: either) */
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) {
      const char *pi = strchr(t.log, a[i].name), *pj = strchr(t.log, a[j].name);
      if (pi && pj && a[i].deadline_ns + 1000000 < a[j].deadline_ns)
        cr_expect_lt(pi, pj, "log %s: %c (due first) woke after %c", t.log, a[i].name, a[j].name);
    }
  cb_green_sched_free(s);
}

static void exits_early(void *p) {
  (*(int *)p)++;
  cb_green_exit();
}

Test(green_sched, exit_ends_thread) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  int n = 0;
  for (int i = 0; i < 3; i++) cr_assert_eq(cb_green_spawn(s, exits_early, &n, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(n, 3);
  cb_green_sched_free(s);
}

static void waits_forever(void *p) {
  cb_green_chan *c = p;
  int v;
  cb_green_chan_recv(c, &v);
}

Test(green_sched, deadlock_is_reported) {
  cb_green_sched *s;
  cb_green_chan *c;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  cr_assert_eq(cb_green_chan_new(sizeof(int), 0, &c), 0);
  cr_assert_eq(cb_green_spawn(s, waits_forever, c, NULL), 0);
  cr_expect_eq(cb_green_sched_run(s), -EDEADLK);
  cr_assert_eq(cb_green_chan_close(c), 0); /* readies the waiter, which never runs */
  cb_green_chan_free(c);
  cb_green_sched_free(s); /* discards the green thread that never finished */
}

Test(green_sched, blocking_ops_outside_green_thread) {
  cb_green_mutex m;
  cb_green_mutex_init(&m);
  cr_expect_eq(cb_green_sleep_ns(1000), -EPERM);
  cr_expect_eq(cb_green_mutex_lock(&m), -EPERM);
  cr_expect_null(cb_green_self());
  cr_expect_null(cb_green_current_sched());
}

Test(green_sched, stack_size_bounds) {
  cb_green_sched *s;
  cr_expect_eq(cb_green_sched_new(4096, &s), -EINVAL);
  cr_expect_eq(cb_green_sched_new((size_t)CB_GREEN_STACK_MAX + 1, &s), -EINVAL);
  cr_assert_eq(cb_green_sched_new(CB_GREEN_STACK_MIN + 1, &s), 0);
  cb_green_stats st;
  cb_green_sched_stats(s, &st);
  cr_expect_eq(st.stack_size % 4096, 0, "stack size %zu not rounded to pages", st.stack_size);
  cr_expect(st.stack_size > CB_GREEN_STACK_MIN);
  cb_green_sched_free(s);
}

/* ---- finished threads beyond CB_GREEN_WARM_STACKS give their stack pages back ---- */

#define BURST 4000
#define TOUCH (16 * 1024)

struct burst {
  char *lo[BURST]; /* lowest stack byte each thread touched */
  uint64_t sum[BURST];
  int next;
};

static void toucher(void *p) {
  struct burst *b = p;
  int me = b->next++;
  volatile char buf[TOUCH];
  for (size_t i = 0; i < TOUCH; i += 512) buf[i] = (char)(i / 512 + me);
  b->lo[me] = (char *)buf;
  cb_green_sleep_ns(1000000); /* all BURST alive at once: BURST stacks */
  uint64_t s = 0;
  for (size_t i = 0; i < TOUCH; i += 512) s += (unsigned char)buf[i];
  b->sum[me] = s;
}

static uint64_t expected_sum(int me) {
  uint64_t s = 0;
  for (size_t i = 0; i < TOUCH; i += 512) s += (unsigned char)(char)(i / 512 + me);
  return s;
}

/* Threads whose touched stack range still has a resident page. */
static int resident_stacks(const struct burst *b) {
  long page = sysconf(_SC_PAGESIZE);
  int n = 0;
  for (int i = 0; i < BURST; i++) {
    uintptr_t lo = (uintptr_t)b->lo[i] & ~(uintptr_t)(page - 1);
    unsigned char vec[TOUCH / 4096 + 2];
    cr_assert_eq(mincore((void *)lo, TOUCH, vec), 0, "mincore: %s", strerror(errno));
    for (size_t k = 0; k < (size_t)TOUCH / (size_t)page; k++)
      if (vec[k] & 1) {
        n++;
        break;
      }
  }
  return n;
}

Test(green_sched, burst_stacks_are_trimmed_and_reused) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  static struct burst b;
  for (int round = 0; round < 2; round++) {
    b.next = 0;
    for (int i = 0; i < BURST; i++) cr_assert_eq(cb_green_spawn(s, toucher, &b, NULL), 0);
    cr_assert_eq(cb_green_sched_run(s), 0);
    for (int i = 0; i < BURST; i++) cr_assert_eq(b.sum[i], expected_sum(i), "round %d thread %d", round, i);
    int resident = resident_stacks(&b);
    cr_expect(resident <= CB_GREEN_WARM_STACKS, "round %d: %d of %d finished stacks still resident (keep at most %d)",
              round, resident, BURST, CB_GREEN_WARM_STACKS);
    cr_expect(resident > 0, "round %d: the warm stacks were dropped too", round);
  }
  cb_green_stats st;
  cb_green_sched_stats(s, &st);
  cr_expect_eq(st.stacks, BURST, "the second burst reuses the first one's stacks: %llu mapped",
               (unsigned long long)st.stacks);
  cb_green_sched_free(s);
}

/* Trimming drops runs of neighbouring finished stacks with one madvise: a stack still
 * in use between two finished ones must not be part of the run. Slab stacks sit side
 * by side and a slot is as large as a guard region (64 KiB both), so "one guard
 * between them" must not be mistaken for "one live stack between them". The FILLERS
 * get the guarded stacks (stack.c: the first 16,384; fewer under valgrind) and, as
 * the first to finish, the warm places; the ALTERNATING threads after them get slab
 * stacks. Every other one of those finishes soon after the fillers (its stack goes
 * cold and is trimmed when the scheduler idles) while its neighbours sleep on, then
 * check their stack. (Spawned from outside, the last spawned runs first.) */
#define FILLERS 16384
#define ALTERNATING 256

struct neighbours {
  int intact; /* sleepers that found their stack as they left it */
};

struct alternate {
  struct neighbours *n;
  int me;
};

static void filler(void *p) { (void)p; }

static void alternating(void *p) {
  struct alternate *a = p;
  if (a->me % 2 == 0) { /* finishes after the fillers: its stack goes cold */
    cb_green_sleep_ns(1000000);
    return;
  }
  volatile unsigned char pattern[2048];
  for (size_t i = 0; i < sizeof pattern; i++) pattern[i] = (unsigned char)(i * 7 + (size_t)a->me);
  cb_green_sleep_ns(300000000); /* meanwhile the scheduler idles and trims */
  for (size_t i = 0; i < sizeof pattern; i++)
    if (pattern[i] != (unsigned char)(i * 7 + (size_t)a->me)) return;
  a->n->intact++;
}

Test(green_sched, trim_spares_a_live_stack_between_finished_ones) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  static struct neighbours n;
  static struct alternate a[ALTERNATING];
  for (int i = 0; i < FILLERS; i++) cr_assert_eq(cb_green_spawn(s, filler, NULL, NULL), 0);
  for (int i = 0; i < ALTERNATING; i++) {
    a[i] = (struct alternate){&n, i};
    cr_assert_eq(cb_green_spawn(s, alternating, &a[i], NULL), 0);
  }
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(n.intact, ALTERNATING / 2, "%d of %d sleeping threads found their stack intact", n.intact,
               ALTERNATING / 2);
  cb_green_sched_free(s);
}
