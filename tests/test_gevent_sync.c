/* test_gevent_sync.c — gevent's queue, channel, event, lock and condition behaviours
 * (test__queue.py, test__event.py, test__lock.py / lock_tests.py) ported to the green
 * runtime's channels, mutex, condition variable and wait group
 * (runtimes/green/CONFORMANCE.md). gevent.queue.Queue(n) is a channel of capacity n,
 * Channel (Queue(0)) an unbuffered channel, Event a condition variable with a flag,
 * JoinableQueue.join a wait group. */
#include <errno.h>
#include <string.h>

#include "tests/helpers/gevent_port.h"

TestSuite(gevent_sync, .timeout = 30);

struct log {
  char s[64];
  int n;
};
static void note(struct log *l, char c) { l->s[l->n++] = c; }

/* ---- test__queue.py TestQueue.test_send_first: put then get returns the item ---- */
static void send_first(void *p) {
  int *got = p;
  cb_green_chan *c;
  cr_assert_eq(cb_green_chan_new(sizeof(int), 1, &c), 0);
  int v = 5;
  cr_assert_eq(cb_green_chan_send(c, &v), 0);
  cr_assert_eq(cb_green_chan_recv(c, got), 0);
  cb_green_chan_free(c);
}
Test(gevent_sync, TestQueue_test_send_first) {
  int got = 0;
  gp_run(send_first, &got, NULL);
  cr_expect_eq(got, 5);
}

/* ---- TestQueue.test_send_last: a getter waiting first gets the item put later ---- */
struct sl {
  cb_green_chan *c;
  int got;
  struct log l;
};
static void sl_getter(void *p) {
  struct sl *t = p;
  note(&t->l, 'g');
  cr_assert_eq(cb_green_chan_recv(t->c, &t->got), 0);
  note(&t->l, 'G');
}
static void sl_putter(void *p) {
  struct sl *t = p;
  cb_green_yield(); /* the getter waits first */
  int v = 7;
  note(&t->l, 'p');
  cr_assert_eq(cb_green_chan_send(t->c, &v), 0);
}
Test(gevent_sync, TestQueue_test_send_last) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  struct sl t = {0};
  cr_assert_eq(cb_green_chan_new(sizeof(int), 1, &t.c), 0);
  cr_assert_eq(cb_green_spawn(s, sl_putter, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, sl_getter, &t, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(t.got, 7);
  cr_expect_str_eq(t.l.s, "gpG");
  cb_green_chan_free(t.c);
  cb_green_sched_free(s);
}

/* ---- TestQueue.test_max_size: Queue(2): two puts pass, the third waits for a get ---- */
struct ms {
  cb_green_chan *c;
  struct log l;
};
static void ms_putter(void *p) {
  struct ms *t = p;
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(cb_green_chan_send(t->c, &i), 0);
    note(&t->l, (char)('0' + i));
  }
}
static void ms_getter(void *p) {
  struct ms *t = p;
  usleep(10000);
  note(&t->l, 'g');
  int v;
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(cb_green_chan_recv(t->c, &v), 0);
    cr_expect_eq(v, i);
  }
}
Test(gevent_sync, TestQueue_test_max_size) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  struct ms t = {0};
  cr_assert_eq(cb_green_chan_new(sizeof(int), 2, &t.c), 0);
  cr_assert_eq(cb_green_spawn(s, ms_getter, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, ms_putter, &t, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_str_eq(t.l.s, "01g2");
  cb_green_chan_free(t.c);
  cb_green_sched_free(s);
}

/* ---- TestQueue.test_zero_max_size (and TestChannel.test_send): an unbuffered put
 * waits until a getter takes the item ---- */
static void zm_putter(void *p) {
  struct ms *t = p;
  int v = 1;
  note(&t->l, 'p');
  cr_assert_eq(cb_green_chan_send(t->c, &v), 0);
  note(&t->l, 'P');
}
static void zm_getter(void *p) {
  struct ms *t = p;
  usleep(10000);
  int v;
  note(&t->l, 'g');
  cr_assert_eq(cb_green_chan_recv(t->c, &v), 0);
  cr_expect_eq(v, 1);
  note(&t->l, 'G');
}
Test(gevent_sync, TestQueue_test_zero_max_size) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  struct ms t = {0};
  cr_assert_eq(cb_green_chan_new(sizeof(int), 0, &t.c), 0);
  cr_assert_eq(cb_green_spawn(s, zm_getter, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, zm_putter, &t, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(t.l.s[0], 'p');
  cr_expect_eq(t.l.s[1], 'g'); /* the put did not return before a getter came */
  cr_expect_eq(t.l.n, 4);
  cb_green_chan_free(t.c);
  cb_green_sched_free(s);
}

/* ---- TestQueue.test_getting_before_sending / test_multiple waiters: several getters
 * waiting on an empty queue each get one item, in the order they started waiting ---- */
struct mw {
  cb_green_chan *c;
  int got[3];
  int order[3], n;
};
struct mwarg {
  struct mw *t;
  int k;
};
static void mw_getter(void *p) {
  struct mwarg *a = p;
  int v;
  cr_assert_eq(cb_green_chan_recv(a->t->c, &v), 0);
  a->t->got[a->k] = v;
}
static void mw_putter(void *p) {
  struct mw *t = p;
  usleep(5000);
  for (int i = 0; i < 3; i++) cr_assert_eq(cb_green_chan_send(t->c, &(int){100 + i}), 0);
}
Test(gevent_sync, TestQueue_test_getting_before_sending) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  struct mw t = {0};
  cr_assert_eq(cb_green_chan_new(sizeof(int), 0, &t.c), 0);
  struct mwarg a[3] = {{&t, 0}, {&t, 1}, {&t, 2}};
  cr_assert_eq(cb_green_spawn(s, mw_putter, &t, NULL), 0);
  for (int k = 2; k >= 0; k--) cr_assert_eq(cb_green_spawn(s, mw_getter, &a[k], NULL), 0); /* 0 waits first */
  cr_assert_eq(cb_green_sched_run(s), 0);
  for (int k = 0; k < 3; k++) cr_expect_eq(t.got[k], 100 + k, "getter %d got %d", k, t.got[k]);
  cb_green_chan_free(t.c);
  cb_green_sched_free(s);
}

/* ---- TestChannel.test_iterable / Queue's StopIteration: a closed channel gives its
 * items, then ends (-EPIPE) ---- */
static void iterable(void *p) {
  int *sum = p;
  cb_green_chan *c;
  cr_assert_eq(cb_green_chan_new(sizeof(int), 4, &c), 0);
  for (int i = 1; i <= 3; i++) cr_assert_eq(cb_green_chan_send(c, &i), 0);
  cr_assert_eq(cb_green_chan_close(c), 0);
  int v, r;
  while ((r = cb_green_chan_recv(c, &v)) == 0) *sum += v;
  cr_expect_eq(r, -EPIPE);
  cb_green_chan_free(c);
}
Test(gevent_sync, TestChannel_test_iterable) {
  int sum = 0;
  gp_run(iterable, &sum, NULL);
  cr_expect_eq(sum, 6);
}

/* ---- test__queue.py TestJoinEmpty.test_issue_45: join of an empty JoinableQueue
 * returns at once (a wait group at zero) ---- */
static void join_empty(void *p) {
  int *r = p;
  cb_green_wg wg;
  cb_green_wg_init(&wg);
  *r = cb_green_wg_wait(&wg);
}
Test(gevent_sync, TestJoinEmpty_test_issue_45) {
  int r = -1;
  gp_run(join_empty, &r, NULL);
  cr_expect_eq(r, 0);
}

/* ---- test__event.py: Event.set wakes every waiter (TestEvent / test_set); a waiter
 * arriving after set does not wait ---- */
struct ev {
  cb_green_mutex m;
  cb_green_cond c;
  int flag, woken, late_waited;
};
static void ev_wait(struct ev *e) {
  cr_assert_eq(cb_green_mutex_lock(&e->m), 0);
  while (!e->flag) cr_assert_eq(cb_green_cond_wait(&e->c, &e->m), 0);
  cr_assert_eq(cb_green_mutex_unlock(&e->m), 0);
}
static void ev_waiter(void *p) {
  struct ev *e = p;
  ev_wait(e);
  e->woken++;
}
static void ev_setter(void *p) {
  struct ev *e = p;
  usleep(5000);
  cr_assert_eq(cb_green_mutex_lock(&e->m), 0);
  e->flag = 1;
  cb_green_cond_broadcast(&e->c);
  cr_assert_eq(cb_green_mutex_unlock(&e->m), 0);
  ev_wait(e); /* already set: returns without parking */
  e->late_waited = 1;
}
Test(gevent_sync, TestEvent_test_set_wakes_all_waiters) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  struct ev e = {0};
  cb_green_mutex_init(&e.m);
  cb_green_cond_init(&e.c);
  cr_assert_eq(cb_green_spawn(s, ev_setter, &e, NULL), 0);
  for (int i = 0; i < 5; i++) cr_assert_eq(cb_green_spawn(s, ev_waiter, &e, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(e.woken, 5);
  cr_expect(e.late_waited);
  cb_green_sched_free(s);
}

/* ---- lock_tests.py ConditionTests.test_notify: notify wakes one waiter at a time,
 * notify_all the rest ---- */
struct nt {
  cb_green_mutex m;
  cb_green_cond c;
  int tokens, woken;
};
static void nt_waiter(void *p) {
  struct nt *t = p;
  cr_assert_eq(cb_green_mutex_lock(&t->m), 0);
  while (t->tokens == 0) cr_assert_eq(cb_green_cond_wait(&t->c, &t->m), 0);
  t->tokens--;
  t->woken++;
  cr_assert_eq(cb_green_mutex_unlock(&t->m), 0);
}
static void nt_notifier(void *p) {
  struct nt *t = p;
  usleep(5000);
  cr_assert_eq(cb_green_mutex_lock(&t->m), 0);
  t->tokens = 1;
  cb_green_cond_signal(&t->c);
  cr_assert_eq(cb_green_mutex_unlock(&t->m), 0);
  usleep(5000);
  cr_expect_eq(t->woken, 1, "signal woke %d", t->woken);
  cr_assert_eq(cb_green_mutex_lock(&t->m), 0);
  t->tokens = 4;
  cb_green_cond_broadcast(&t->c);
  cr_assert_eq(cb_green_mutex_unlock(&t->m), 0);
}
Test(gevent_sync, ConditionTests_test_notify) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  struct nt t = {0};
  cb_green_mutex_init(&t.m);
  cb_green_cond_init(&t.c);
  cr_assert_eq(cb_green_spawn(s, nt_notifier, &t, NULL), 0);
  for (int i = 0; i < 5; i++) cr_assert_eq(cb_green_spawn(s, nt_waiter, &t, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(t.woken, 5);
  cb_green_sched_free(s);
}

/* ---- lock_tests.py BaseLockTests.test_acquire_contended: a lock held by one green
 * thread makes the others wait; all get it in turn ---- */
struct lc {
  cb_green_mutex m;
  int inside, max_inside, done;
};
static void lc_worker(void *p) {
  struct lc *t = p;
  cr_assert_eq(cb_green_mutex_lock(&t->m), 0);
  if (++t->inside > t->max_inside) t->max_inside = t->inside;
  usleep(1000); /* parks while holding it */
  t->inside--;
  t->done++;
  cr_assert_eq(cb_green_mutex_unlock(&t->m), 0);
}
Test(gevent_sync, BaseLockTests_test_acquire_contended) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  struct lc t = {0};
  cb_green_mutex_init(&t.m);
  for (int i = 0; i < 5; i++) cr_assert_eq(cb_green_spawn(s, lc_worker, &t, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(t.done, 5);
  cr_expect_eq(t.max_inside, 1);
  cb_green_sched_free(s);
}

/* ---- lock_tests.py LockTests.test_different_thread: threading.Lock (and gevent's
 * Lock) may be released by another thread. The green mutex is owned, like a
 * pthread error-checking mutex: -EPERM (CONFORMANCE.md, by design) ---- */
struct dt {
  cb_green_mutex m;
  int r;
};
static void dt_owner(void *p) {
  struct dt *t = p;
  cr_assert_eq(cb_green_mutex_lock(&t->m), 0);
  cb_green_yield();
  cb_green_yield();
  cr_assert_eq(cb_green_mutex_unlock(&t->m), 0);
}
static void dt_other(void *p) {
  struct dt *t = p;
  t->r = cb_green_mutex_unlock(&t->m);
}
Test(gevent_sync, LockTests_test_different_thread_is_eperm) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  struct dt t = {0};
  cb_green_mutex_init(&t.m);
  cr_assert_eq(cb_green_spawn(s, dt_other, &t, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, dt_owner, &t, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(t.r, -EPERM);
  cb_green_sched_free(s);
}

/* ---- test__lock / test__semaphore fairness (gevent's Semaphore wakes waiters in
 * FIFO order): waiters get the lock in the order they asked ---- */
struct ff {
  cb_green_mutex m;
  struct log l;
};
struct ffarg {
  struct ff *t;
  char name;
};
static void ff_waiter(void *p) {
  struct ffarg *a = p;
  cr_assert_eq(cb_green_mutex_lock(&a->t->m), 0);
  note(&a->t->l, a->name);
  cr_assert_eq(cb_green_mutex_unlock(&a->t->m), 0);
}
static void ff_holder(void *p) {
  struct ff *t = p;
  cr_assert_eq(cb_green_mutex_lock(&t->m), 0);
  usleep(5000); /* the others queue up meanwhile, a b c d */
  cr_assert_eq(cb_green_mutex_unlock(&t->m), 0);
}
Test(gevent_sync, TestSemaphore_fifo_wakeup_order) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  struct ff t = {0};
  cb_green_mutex_init(&t.m);
  struct ffarg a[4] = {{&t, 'a'}, {&t, 'b'}, {&t, 'c'}, {&t, 'd'}};
  for (int k = 3; k >= 0; k--) cr_assert_eq(cb_green_spawn(s, ff_waiter, &a[k], NULL), 0);
  cr_assert_eq(cb_green_spawn(s, ff_holder, &t, NULL), 0); /* runs first */
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_str_eq(t.l.s, "abcd");
  cb_green_sched_free(s);
}
