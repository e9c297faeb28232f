/* test_green_prims.c — channels (unbuffered, buffered, close), mutex fairness,
 * condition variable, wait group. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "runtimes/green/green.h"

/* Each of these takes milliseconds; a lost wake-up or a broken switch hangs instead
 * of failing, so the bound is short (10 s: generous under valgrind too). */
TestSuite(green_prims, .timeout = 10);

static cb_green_sched *new_sched(void) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  return s;
}

struct pc {
  cb_green_chan *c;
  int n;
  int got[64];
  int ngot;
  int send_rc_after_close;
  char log[128];
  int nlog;
};

static void producer(void *p) {
  struct pc *x = p;
  for (int i = 0; i < x->n; i++) {
    cr_assert_eq(cb_green_chan_send(x->c, &i), 0);
    x->log[x->nlog++] = 's';
  }
  cr_assert_eq(cb_green_chan_close(x->c), 0);
  x->send_rc_after_close = cb_green_chan_send(x->c, &x->n);
}

static void consumer(void *p) {
  struct pc *x = p;
  int v, r;
  while ((r = cb_green_chan_recv(x->c, &v)) == 0) {
    x->got[x->ngot++] = v;
    x->log[x->nlog++] = 'r';
  }
  cr_expect_eq(r, -EPIPE);
}

static void run_pc(size_t cap, struct pc *x) {
  cb_green_sched *s = new_sched();
  cr_assert_eq(cb_green_chan_new(sizeof(int), cap, &x->c), 0);
  cr_assert_eq(cb_green_spawn(s, consumer, x, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, producer, x, NULL), 0); /* runs first (front) */
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(x->ngot, x->n);
  for (int i = 0; i < x->ngot; i++) cr_expect_eq(x->got[i], i);
  cr_expect_eq(x->send_rc_after_close, -EPIPE);
  cr_expect_eq(cb_green_chan_close(x->c), -EPIPE);
  cb_green_chan_free(x->c);
  cb_green_sched_free(s);
}

Test(green_prims, unbuffered_channel_rendezvous) {
  struct pc x = {.n = 5};
  run_pc(0, &x);
  /* a send completes only when a receiver has taken the value: at any point of the
   * log at most one completed send is not yet logged by the (not yet resumed)
   * receiver. With a buffer this would reach 1 + capacity. */
  int lead = 0, max_lead = 0;
  for (int i = 0; i < x.nlog; i++) {
    lead += x.log[i] == 's' ? 1 : -1;
    if (lead > max_lead) max_lead = lead;
  }
  cr_expect_eq(max_lead, 1, "log %s", x.log);
}

Test(green_prims, buffered_channel_fills_then_blocks) {
  struct pc x = {.n = 6};
  run_pc(3, &x);
  /* 3 fit, the 4th send parks; after close the consumer drains everything */
  cr_expect_eq(strncmp(x.log, "sss", 3), 0, "log %s", x.log);
  cr_expect_eq(x.log[3], 'r', "log %s", x.log);
}

static void recv_on_closed(void *p) {
  cb_green_chan *c = p;
  int v = 42;
  cr_expect_eq(cb_green_chan_send(c, &v), 0);
  cr_expect_eq(cb_green_chan_close(c), 0);
  v = 0;
  cr_expect_eq(cb_green_chan_recv(c, &v), 0); /* buffered value survives close */
  cr_expect_eq(v, 42);
  cr_expect_eq(cb_green_chan_recv(c, &v), -EPIPE);
}

Test(green_prims, closed_channel_drains_then_fails) {
  cb_green_sched *s = new_sched();
  cb_green_chan *c;
  cr_assert_eq(cb_green_chan_new(sizeof(int), 2, &c), 0);
  cr_assert_eq(cb_green_spawn(s, recv_on_closed, c, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cb_green_chan_free(c);
  cb_green_sched_free(s);
}

static void blocked_receiver(void *p) {
  int v;
  cr_expect_eq(cb_green_chan_recv(p, &v), -EPIPE);
}
static void closer(void *p) { cr_expect_eq(cb_green_chan_close(p), 0); }

Test(green_prims, close_wakes_waiters) {
  cb_green_sched *s = new_sched();
  cb_green_chan *c;
  cr_assert_eq(cb_green_chan_new(sizeof(int), 0, &c), 0);
  cr_assert_eq(cb_green_spawn(s, closer, c, NULL), 0);
  for (int i = 0; i < 3; i++) cr_assert_eq(cb_green_spawn(s, blocked_receiver, c, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cb_green_chan_free(c);
  cb_green_sched_free(s);
}

struct fair {
  cb_green_mutex m;
  int order[400];
  int n;
  int inside;
  int overlap;
};

struct farg {
  struct fair *f;
  int id;
};

static void contender(void *p) {
  struct farg *a = p;
  for (int i = 0; i < 100; i++) {
    cr_assert_eq(cb_green_mutex_lock(&a->f->m), 0);
    if (a->f->inside++) a->f->overlap++;
    a->f->order[a->f->n++] = a->id;
    cb_green_yield(); /* hold the lock across a switch: the others queue up */
    a->f->inside--;
    cr_assert_eq(cb_green_mutex_unlock(&a->f->m), 0);
    cb_green_yield();
  }
}

Test(green_prims, mutex_exclusive_and_fair) {
  cb_green_sched *s = new_sched();
  struct fair f = {0};
  struct farg a[4];
  cb_green_mutex_init(&f.m);
  for (int i = 3; i >= 0; i--) {
    a[i] = (struct farg){&f, i};
    cr_assert_eq(cb_green_spawn(s, contender, &a[i], NULL), 0);
  }
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(f.n, 400);
  cr_expect_eq(f.overlap, 0);
  /* FIFO hand-off: the lock goes round robin, nobody gets it twice in a row */
  int unfair = 0;
  for (int i = 0; i < 400; i++) unfair += f.order[i] != i % 4;
  cr_expect_eq(unfair, 0, "%d acquisitions out of round-robin order", unfair);
  cb_green_sched_free(s);
}

struct cv {
  cb_green_mutex m;
  cb_green_cond c;
  int ready;
  int woke;
};

static void cv_waiter(void *p) {
  struct cv *x = p;
  cr_assert_eq(cb_green_mutex_lock(&x->m), 0);
  while (!x->ready) cr_assert_eq(cb_green_cond_wait(&x->c, &x->m), 0);
  x->woke++;
  cr_assert_eq(cb_green_mutex_unlock(&x->m), 0);
}

static void cv_signaler(void *p) {
  struct cv *x = p;
  cb_green_yield(); /* let the waiters park */
  cr_assert_eq(cb_green_mutex_lock(&x->m), 0);
  cr_expect_eq(x->woke, 0);
  x->ready = 1;
  cb_green_cond_broadcast(&x->c);
  cr_assert_eq(cb_green_mutex_unlock(&x->m), 0);
}

Test(green_prims, condvar_broadcast) {
  cb_green_sched *s = new_sched();
  struct cv x = {0};
  cb_green_mutex_init(&x.m);
  cb_green_cond_init(&x.c);
  cr_assert_eq(cb_green_spawn(s, cv_signaler, &x, NULL), 0);
  for (int i = 0; i < 5; i++) cr_assert_eq(cb_green_spawn(s, cv_waiter, &x, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(x.woke, 5);
  cb_green_sched_free(s);
}

struct wgt {
  cb_green_wg wg;
  int done;
  int seen_by_waiter;
};

static void wg_worker(void *p) {
  struct wgt *x = p;
  cb_green_sleep_ns(5 * 1000000);
  x->done++;
  cb_green_wg_done(&x->wg);
}

static void wg_waiter(void *p) {
  struct wgt *x = p;
  cr_assert_eq(cb_green_wg_wait(&x->wg), 0);
  x->seen_by_waiter = x->done;
}

Test(green_prims, wait_group) {
  cb_green_sched *s = new_sched();
  struct wgt x = {0};
  cb_green_wg_init(&x.wg);
  cr_assert_eq(cb_green_wg_add(&x.wg, 4), 0);
  for (int i = 0; i < 4; i++) cr_assert_eq(cb_green_spawn(s, wg_worker, &x, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, wg_waiter, &x, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(x.seen_by_waiter, 4);
  cr_expect_eq(cb_green_wg_add(&x.wg, -1), -EINVAL);
  cb_green_sched_free(s);
}
