/* test_asyncio_locks.c — CPython's Lib/test/test_asyncio/test_locks.py, ported:
 * LockTests, EventTests, ConditionTests, SemaphoreTests (one test per Python
 * test, named after it; runtimes/loop/CONFORMANCE.md lists every case, Barrier
 * and the repr tests among those that do not apply). "await asyncio.sleep(0)" in
 * the test body is one run_briefly of the loop here: the body is the C test. */
#include <signal.h>

#include "runtimes/loop/sync.h"
#include "tests/helpers/asyncio_port.h"

/* c(result): await prim.acquire() / ev.wait() / cond.wait(); result.append(tag);
 * [release]; return True. One coroutine, the primitive chosen by kind. */
enum { K_LOCK, K_EVENT, K_COND, K_SEM };
typedef struct {
  cb_co co;
  int kind, tag, release_after, acquire_first;
  cb_lock *lock;
  cb_event *ev;
  cb_cond *cond;
  cb_sem *sem;
  int *result, *n;
  cb_err e;
} c_frame;
static int c_co(cb_task *task, void *vf) {
  c_frame *f = vf;
  CB_CO_BEGIN(task, f);
  /* no switch here: the coroutine's labels are cases of CB_CO_BEGIN's switch */
  if (f->kind == K_LOCK) {
    CB_LOCK_ACQUIRE(f->lock);
  } else if (f->kind == K_EVENT) {
    CB_EVENT_WAIT(f->ev);
  } else if (f->kind == K_COND) {
    CB_LOCK_ACQUIRE(f->cond->lock);
    CB_COND_WAIT(f->cond);
  } else {
    CB_SEM_ACQUIRE(f->sem);
  }
  f->result[(*f->n)++] = f->tag;
  if (f->release_after) {
    if (f->kind == K_COND) cb_lock_release(f->cond->lock);
    if (f->kind == K_SEM) cb_sem_release(f->sem);
  }
  CB_RETURN((cb_val){.u = 1});
  CB_CO_END();
}
typedef struct { cb_lock *lock; cb_event *ev; cb_cond *cond; cb_sem *sem; int *result, *n; } prims;
static cb_task *c_task(cb_loop *l, int kind, const prims *p, int tag, int release_after) {
  cb_task *t = cb_create_task(l, c_co, sizeof(c_frame), NULL);
  *(c_frame *)cb_task_frame(t) = (c_frame){.kind = kind, .tag = tag, .release_after = release_after,
                                           .lock = p->lock, .ev = p->ev, .cond = p->cond, .sem = p->sem,
                                           .result = p->result, .n = p->n};
  return t;
}
static void assert_result(const int *r, int n, const int *want, int nwant) {
  cr_assert_eq(n, nwant, "%d results, expected %d", n, nwant);
  for (int i = 0; i < n; i++) cr_assert_eq(r[i], want[i], "result[%d] = %d, expected %d", i, r[i], want[i]);
}
#define RESULT(...) assert_result(result, n, (int[]){__VA_ARGS__}, (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)))
static void done_true(cb_task *t) {
  cr_assert(cb_task_done(t));
  cr_assert_eq(cb_task_error(t).code, 0);
  cr_assert_eq(cb_task_result(t).u, 1);
}
static void drain_release(cb_loop *l, cb_task **ts, int n) {
  for (int i = 0; i < n; i++) {
    if (!cb_task_done(ts[i])) cb_task_cancel(ts[i], NULL);
    cb_loop_run_until_complete(l, cb_task_future(ts[i]));
    cb_task_release(ts[i]);
  }
}
/* The test body's own `await lock.acquire()`: the lock is free, so it is taken at once. */
static void acquire_now(cb_lock *k) {
  cr_assert(!cb_lock_locked(k) && cb__list_empty(&k->waiters));
  k->locked = 1;
}

/* ---- LockTests ---- */

Test(asyncio_locks, test_acquire) {
  cb_loop *l = cb_loop_new();
  cb_lock lock;
  cb_lock_init(&lock);
  int result[8], n = 0;
  prims p = {.lock = &lock, .result = result, .n = &n};
  acquire_now(&lock);
  cb_task *t1 = c_task(l, K_LOCK, &p, 1, 0), *t2 = c_task(l, K_LOCK, &p, 2, 0);
  run_briefly(l);
  cr_assert_eq(n, 0);
  cb_lock_release(&lock);
  run_briefly(l);
  RESULT(1);
  run_briefly(l);
  RESULT(1);
  cb_task *t3 = c_task(l, K_LOCK, &p, 3, 0);
  cb_lock_release(&lock);
  run_briefly(l);
  RESULT(1, 2);
  cb_lock_release(&lock);
  run_briefly(l);
  RESULT(1, 2, 3);
  done_true(t1);
  done_true(t2);
  done_true(t3);
  drain_release(l, (cb_task *[]){t1, t2, t3}, 3);
  cb_loop_close(l);
}

static void cancel_cb(void *t) { cb_task_cancel(t, NULL); }
Test(asyncio_locks, test_acquire_cancel) {
  cb_loop *l = cb_loop_new();
  cb_lock lock;
  cb_lock_init(&lock);
  int result[4], n = 0;
  prims p = {.lock = &lock, .result = result, .n = &n};
  acquire_now(&lock);
  cb_task *task = c_task(l, K_LOCK, &p, 1, 0);
  cb_handle h = {0};
  cb_call_soon(l, &h, cancel_cb, task);
  cb_loop_run_until_complete(l, cb_task_future(task));
  cr_assert(cb_task_cancelled(task));
  cr_assert(cb__list_empty(&lock.waiters));
  drain_release(l, &task, 1);
  cb_loop_close(l);
}

/* lockit(name, blocker): await lock.acquire(); try: await blocker finally: release */
typedef struct { cb_co co; cb_lock *lock; cb_future *blocker; int *count, *calls; cb_err e; } lockit_frame;
static int lockit(cb_task *task, void *vf) {
  lockit_frame *f = vf;
  CB_CO_BEGIN(task, f);
  if (f->calls) ++*f->calls;
  CB_LOCK_ACQUIRE(f->lock);
  if (f->count) ++*f->count;
  if (f->blocker) CB_AWAIT_TRY(f->blocker, f->e);
  if (f->blocker || !f->count) cb_lock_release(f->lock);
  CB__RAISE_IF(f->e);
  CB_CO_END();
}
static cb_task *lockit_task(cb_loop *l, cb_lock *k, cb_future *blocker, int *count, int *calls) {
  cb_task *t = cb_create_task(l, lockit, sizeof(lockit_frame), NULL);
  *(lockit_frame *)cb_task_frame(t) = (lockit_frame){.lock = k, .blocker = blocker, .count = count, .calls = calls};
  return t;
}
static size_t list_len(cb_list *h) {
  size_t n = 0;
  for (cb_list *i = h->next; i != h; i = i->next) n++;
  return n;
}

/* B cancelled while A releases: C moves on to C's waiter. asyncio's lock is
 * unlocked between A's release and C's resumption; this one is handed to C at
 * the release (no barging), so locked() stays true — documented in sync.h. */
Test(asyncio_locks, test_cancel_race) {
  cb_loop *l = cb_loop_new();
  cb_lock lock;
  cb_lock_init(&lock);
  cb_future fa;
  cb_future_init(&fa, l);
  cb_task *ta = lockit_task(l, &lock, &fa, NULL, NULL);
  run_briefly(l);
  cr_assert(cb_lock_locked(&lock));
  cb_task *tb = lockit_task(l, &lock, NULL, NULL, NULL);
  run_briefly(l);
  cr_assert_eq(list_len(&lock.waiters), 1);
  cb_task *tc = lockit_task(l, &lock, NULL, NULL, NULL);
  run_briefly(l);
  cr_assert_eq(list_len(&lock.waiters), 2);
  cb_future_set_result(&fa, (cb_val){0});
  cb_task_cancel(tb, NULL);
  run_briefly(l);
  cr_assert(cb_task_done(ta));
  cr_assert(cb_task_cancelled(tb));
  cb_loop_run_until_complete(l, cb_task_future(tc));
  cr_assert_eq(cb_task_error(tc).code, 0);
  cr_assert(!cb_lock_locked(&lock));
  drain_release(l, (cb_task *[]){ta, tb, tc}, 3);
  cb_loop_close(l);
}

/* Issue 32734: acquire 4, cancel the second, release the first: one lock taken. */
typedef struct { cb_handle h; cb_task *t1; cb_lock *lock; } trigger_arg;
static void trigger(void *arg) {
  trigger_arg *a = arg;
  cb_task_cancel(a->t1, NULL);
  cb_lock_release(a->lock);
}
Test(asyncio_locks, test_cancel_release_race) {
  cb_loop *l = cb_loop_new();
  cb_lock lock;
  cb_lock_init(&lock);
  int lock_count = 0, call_count = 0;
  acquire_now(&lock);
  cb_task *t1 = lockit_task(l, &lock, NULL, &lock_count, &call_count);
  cb_task *t2 = lockit_task(l, &lock, NULL, &lock_count, &call_count);
  cb_task *t3 = lockit_task(l, &lock, NULL, &lock_count, &call_count);
  run_briefly(l);
  trigger_arg a = {.t1 = t1, .lock = &lock};
  cb_call_soon(l, &a.h, trigger, &a);
  cb_loop_run_until_complete(l, cb_task_future(t1));
  cr_assert(cb_task_cancelled(t1));
  cr_assert_eq(lock_count, 1, "only one lock was taken");
  cr_assert_eq(call_count, 3);
  cr_assert(cb_task_done(t2));
  cb_task_cancel(t3, NULL);
  run_briefly(l);
  cr_assert(cb_task_cancelled(t3));
  drain_release(l, (cb_task *[]){t1, t2, t3}, 3);
  cb_loop_close(l);
}

Test(asyncio_locks, test_finished_waiter_cancelled) {
  cb_loop *l = cb_loop_new();
  cb_lock lock;
  cb_lock_init(&lock);
  int result[4], n = 0;
  prims p = {.lock = &lock, .result = result, .n = &n};
  acquire_now(&lock);
  cr_assert(cb_lock_locked(&lock));
  cb_task *tb = c_task(l, K_LOCK, &p, 1, 0);
  run_briefly(l);
  cr_assert_eq(list_len(&lock.waiters), 1);
  cb_task *tc = c_task(l, K_LOCK, &p, 2, 0);
  cb_task_cancel(tb, NULL);
  cb_lock_release(&lock);
  run_briefly(l);
  cr_assert(cb_lock_locked(&lock));
  cr_assert(cb_task_cancelled(tb));
  cb_loop_run_until_complete(l, cb_task_future(tc));
  done_true(tc);
  drain_release(l, (cb_task *[]){tb, tc}, 2);
  cb_loop_close(l);
}

Test(asyncio_locks, test_release_not_acquired) {
  cb_lock lock;
  cb_lock_init(&lock);
  cr_assert_eq(cb_lock_release(&lock), -EPERM, "RuntimeError");
}

Test(asyncio_locks, test_release_no_waiters) {
  cb_lock lock;
  cb_lock_init(&lock);
  acquire_now(&lock);
  cr_assert(cb_lock_locked(&lock));
  cr_assert_eq(cb_lock_release(&lock), 0);
  cr_assert(!cb_lock_locked(&lock));
}

/* async with lock: acquire ... release. */
typedef struct { cb_co co; cb_lock *lock; int inside; } cm_frame;
static int cm_co(cb_task *task, void *vf) {
  cm_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_LOCK_ACQUIRE(f->lock);
  f->inside = cb_lock_locked(f->lock);
  cb_lock_release(f->lock);
  CB_CO_END();
}
Test(asyncio_locks, test_context_manager) {
  cb_loop *l = cb_loop_new();
  cb_lock lock;
  cb_lock_init(&lock);
  cr_assert(!cb_lock_locked(&lock));
  cb_task *t = cb_create_task(l, cm_co, sizeof(cm_frame), NULL);
  ((cm_frame *)cb_task_frame(t))->lock = &lock;
  cb_loop_run_until_complete(l, cb_task_future(t));
  cr_assert(((cm_frame *)cb_task_frame(t))->inside);
  cr_assert(!cb_lock_locked(&lock));
  cb_task_release(t);
  cb_loop_close(l);
}

/* ---- EventTests ---- */

Test(asyncio_events_prim, test_wait) {
  cb_loop *l = cb_loop_new();
  cb_event ev;
  cb_event_init(&ev);
  cr_assert(!cb_event_is_set(&ev));
  int result[4], n = 0;
  prims p = {.ev = &ev, .result = result, .n = &n};
  cb_task *t1 = c_task(l, K_EVENT, &p, 1, 0), *t2 = c_task(l, K_EVENT, &p, 2, 0);
  run_briefly(l);
  cr_assert_eq(n, 0);
  cb_task *t3 = c_task(l, K_EVENT, &p, 3, 0);
  cb_event_set(&ev);
  run_briefly(l);
  RESULT(3, 1, 2);
  done_true(t1);
  done_true(t2);
  done_true(t3);
  drain_release(l, (cb_task *[]){t1, t2, t3}, 3);
  cb_loop_close(l);
}

Test(asyncio_events_prim, test_wait_on_set) {
  cb_loop *l = cb_loop_new();
  cb_event ev;
  cb_event_init(&ev);
  cb_event_set(&ev);
  int result[2], n = 0;
  prims p = {.ev = &ev, .result = result, .n = &n};
  cb_task *t = c_task(l, K_EVENT, &p, 1, 0);
  cb_loop_run_until_complete(l, cb_task_future(t));
  done_true(t);
  drain_release(l, &t, 1);
  cb_loop_close(l);
}

Test(asyncio_events_prim, test_wait_cancel) {
  cb_loop *l = cb_loop_new();
  cb_event ev;
  cb_event_init(&ev);
  int result[2], n = 0;
  prims p = {.ev = &ev, .result = result, .n = &n};
  cb_task *wait = c_task(l, K_EVENT, &p, 1, 0);
  cb_handle h = {0};
  cb_call_soon(l, &h, cancel_cb, wait);
  cb_loop_run_until_complete(l, cb_task_future(wait));
  cr_assert(cb_task_cancelled(wait));
  cr_assert(cb__list_empty(&ev.waiters));
  drain_release(l, &wait, 1);
  cb_loop_close(l);
}

Test(asyncio_events_prim, test_clear) {
  cb_event ev;
  cb_event_init(&ev);
  cr_assert(!cb_event_is_set(&ev));
  cb_event_set(&ev);
  cr_assert(cb_event_is_set(&ev));
  cb_event_clear(&ev);
  cr_assert(!cb_event_is_set(&ev));
}

Test(asyncio_events_prim, test_clear_with_waiters) {
  cb_loop *l = cb_loop_new();
  cb_event ev;
  cb_event_init(&ev);
  int result[2], n = 0;
  prims p = {.ev = &ev, .result = result, .n = &n};
  cb_task *t = c_task(l, K_EVENT, &p, 1, 0);
  run_briefly(l);
  cr_assert_eq(n, 0);
  cb_event_set(&ev);
  cb_event_clear(&ev);
  cr_assert(!cb_event_is_set(&ev));
  cb_event_set(&ev);
  cb_event_set(&ev);
  cr_assert(cb__list_empty(&ev.waiters), "C: the waiter left the list when woken (asyncio: 1 done waiter)");
  run_briefly(l);
  RESULT(1);
  done_true(t);
  drain_release(l, &t, 1);
  cb_loop_close(l);
}

/* ---- ConditionTests ---- */

Test(asyncio_cond, test_wait) {
  cb_loop *l = cb_loop_new();
  cb_lock lock;
  cb_lock_init(&lock);
  cb_cond cond;
  cb_cond_init(&cond, &lock);
  int result[4], n = 0;
  prims p = {.cond = &cond, .result = result, .n = &n};
  cb_task *t1 = c_task(l, K_COND, &p, 1, 0), *t2 = c_task(l, K_COND, &p, 2, 0), *t3 = c_task(l, K_COND, &p, 3, 0);
  run_briefly(l);
  cr_assert_eq(n, 0);
  cr_assert(!cb_lock_locked(&lock));
  acquire_now(&lock);
  cb_cond_notify(&cond, 1);
  run_briefly(l);
  cr_assert_eq(n, 0);
  cr_assert(cb_lock_locked(&lock));
  cb_lock_release(&lock);
  run_briefly(l);
  RESULT(1);
  cr_assert(cb_lock_locked(&lock));
  cb_cond_notify(&cond, 2);
  run_briefly(l);
  RESULT(1);
  cr_assert(cb_lock_locked(&lock));
  cb_lock_release(&lock);
  run_briefly(l);
  RESULT(1, 2);
  cr_assert(cb_lock_locked(&lock));
  cb_lock_release(&lock);
  run_briefly(l);
  RESULT(1, 2, 3);
  cr_assert(cb_lock_locked(&lock));
  done_true(t1);
  done_true(t2);
  done_true(t3);
  drain_release(l, (cb_task *[]){t1, t2, t3}, 3);
  cb_loop_close(l);
}

/* cond.wait() alone (the test body holds the lock). */
typedef struct { cb_co co; cb_cond *cond; int *waited; } cw_frame;
static int cond_wait_co(cb_task *task, void *vf) {
  cw_frame *f = vf;
  CB_CO_BEGIN(task, f);
  if (f->waited) {
    CB_LOCK_ACQUIRE(f->cond->lock);
    *f->waited = 1;
  }
  CB_COND_WAIT(f->cond);
  if (f->waited) cb_lock_release(f->cond->lock);
  CB_CO_END();
}
static cb_task *cond_wait_task(cb_loop *l, cb_cond *c, int *waited) {
  cb_task *t = cb_create_task(l, cond_wait_co, sizeof(cw_frame), NULL);
  *(cw_frame *)cb_task_frame(t) = (cw_frame){.cond = c, .waited = waited};
  return t;
}

Test(asyncio_cond, test_wait_cancel) {
  cb_loop *l = cb_loop_new();
  cb_lock lock;
  cb_lock_init(&lock);
  cb_cond cond;
  cb_cond_init(&cond, &lock);
  acquire_now(&lock);
  cb_task *wait = cond_wait_task(l, &cond, NULL);
  cb_handle h = {0};
  cb_call_soon(l, &h, cancel_cb, wait);
  cb_loop_run_until_complete(l, cb_task_future(wait));
  cr_assert(cb_task_cancelled(wait));
  cr_assert(cb__list_empty(&cond.waiters));
  cr_assert(cb_lock_locked(&lock));
  drain_release(l, &wait, 1);
  cb_loop_close(l);
}

typedef struct { cb_handle h; cb_lock *lock; } rel_arg;
static void release_cb(void *arg) { cb_lock_release(((rel_arg *)arg)->lock); }
Test(asyncio_cond, test_wait_cancel_contested) {
  cb_loop *l = cb_loop_new();
  cb_lock lock;
  cb_lock_init(&lock);
  cb_cond cond;
  cb_cond_init(&cond, &lock);
  acquire_now(&lock);
  cr_assert(cb_lock_locked(&lock));
  cb_task *wait_task = cond_wait_task(l, &cond, NULL);
  run_briefly(l);
  cr_assert(!cb_lock_locked(&lock));
  acquire_now(&lock); /* contest the lock before cancelling */
  cb_cond_notify(&cond, 1);
  cb_handle h = {0};
  cb_call_soon(l, &h, cancel_cb, wait_task);
  rel_arg r = {.lock = &lock};
  cb_call_soon(l, &r.h, release_cb, &r);
  cb_loop_run_until_complete(l, cb_task_future(wait_task));
  cr_assert(cb_lock_locked(&lock), "the waiter holds the lock again, cancelled or not");
  drain_release(l, &wait_task, 1);
  cb_loop_close(l);
}

/* bpo-32841 */
Test(asyncio_cond, test_wait_cancel_after_notify) {
  cb_loop *l = cb_loop_new();
  cb_lock lock;
  cb_lock_init(&lock);
  cb_cond cond;
  cb_cond_init(&cond, &lock);
  int waited = 0;
  cb_task *waiter = cond_wait_task(l, &cond, &waited);
  run_briefly(l); /* start waiting */
  acquire_now(&lock);
  cb_cond_notify(&cond, 1);
  run_briefly(l); /* get to acquire() */
  cb_task_cancel(waiter, NULL);
  run_briefly(l); /* activate cancellation */
  cb_lock_release(&lock);
  run_briefly(l); /* cancellation should occur */
  cr_assert(cb_task_cancelled(waiter));
  cr_assert(waited);
  drain_release(l, &waiter, 1);
  cb_loop_close(l);
}

/* asyncio raises RuntimeError; in C waiting without the lock is a broken
 * invariant: the process aborts. */
Test(asyncio_cond, test_wait_unacquired, .signal = SIGABRT) {
  cb_loop *l = cb_loop_new();
  cb_lock lock;
  cb_lock_init(&lock);
  cb_cond cond;
  cb_cond_init(&cond, &lock);
  cb_task *t = cond_wait_task(l, &cond, NULL);
  cb_loop_run_until_complete(l, cb_task_future(t));
}

/* wait_for(predicate) is `while not predicate(): await wait()` in C. */
typedef struct { cb_co co; cb_cond *cond; int *presult, *result, *n; } wf_frame;
static int cond_wait_for_co(cb_task *task, void *vf) {
  wf_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_LOCK_ACQUIRE(f->cond->lock);
  while (!*f->presult) CB_COND_WAIT(f->cond);
  f->result[(*f->n)++] = 1;
  cb_lock_release(f->cond->lock);
  CB_RETURN((cb_val){.u = 1});
  CB_CO_END();
}
Test(asyncio_cond, test_wait_for) {
  cb_loop *l = cb_loop_new();
  cb_lock lock;
  cb_lock_init(&lock);
  cb_cond cond;
  cb_cond_init(&cond, &lock);
  int presult = 0, result[2], n = 0;
  cb_task *t = cb_create_task(l, cond_wait_for_co, sizeof(wf_frame), NULL);
  *(wf_frame *)cb_task_frame(t) = (wf_frame){.cond = &cond, .presult = &presult, .result = result, .n = &n};
  run_briefly(l);
  cr_assert_eq(n, 0);
  acquire_now(&lock);
  cb_cond_notify(&cond, 1);
  cb_lock_release(&lock);
  run_briefly(l);
  cr_assert_eq(n, 0);
  presult = 1;
  acquire_now(&lock);
  cb_cond_notify(&cond, 1);
  cb_lock_release(&lock);
  run_briefly(l);
  RESULT(1);
  done_true(t);
  drain_release(l, &t, 1);
  cb_loop_close(l);
}

Test(asyncio_cond, test_notify) {
  cb_loop *l = cb_loop_new();
  cb_lock lock;
  cb_lock_init(&lock);
  cb_cond cond;
  cb_cond_init(&cond, &lock);
  int result[4], n = 0;
  prims p = {.cond = &cond, .result = result, .n = &n};
  cb_task *t1 = c_task(l, K_COND, &p, 1, 1), *t2 = c_task(l, K_COND, &p, 2, 1), *t3 = c_task(l, K_COND, &p, 3, 1);
  run_briefly(l);
  cr_assert_eq(n, 0);
  acquire_now(&lock);
  cb_cond_notify(&cond, 1);
  cb_lock_release(&lock);
  run_briefly(l);
  RESULT(1);
  acquire_now(&lock);
  cb_cond_notify(&cond, 1);
  cb_cond_notify(&cond, 2048);
  cb_lock_release(&lock);
  run_briefly(l);
  run_briefly(l);
  RESULT(1, 2, 3);
  done_true(t1);
  done_true(t2);
  done_true(t3);
  drain_release(l, (cb_task *[]){t1, t2, t3}, 3);
  cb_loop_close(l);
}

Test(asyncio_cond, test_notify_all) {
  cb_loop *l = cb_loop_new();
  cb_lock lock;
  cb_lock_init(&lock);
  cb_cond cond;
  cb_cond_init(&cond, &lock);
  int result[4], n = 0;
  prims p = {.cond = &cond, .result = result, .n = &n};
  cb_task *t1 = c_task(l, K_COND, &p, 1, 1), *t2 = c_task(l, K_COND, &p, 2, 1);
  run_briefly(l);
  cr_assert_eq(n, 0);
  acquire_now(&lock);
  cb_cond_notify(&cond, SIZE_MAX);
  cb_lock_release(&lock);
  run_briefly(l);
  run_briefly(l);
  RESULT(1, 2);
  done_true(t1);
  done_true(t2);
  drain_release(l, (cb_task *[]){t1, t2}, 2);
  cb_loop_close(l);
}

Test(asyncio_cond, test_notify_unacquired) {
  cb_lock lock;
  cb_lock_init(&lock);
  cb_cond cond;
  cb_cond_init(&cond, &lock);
  cr_assert_eq(cb_cond_notify(&cond, 1), -EPERM, "RuntimeError");
}

Test(asyncio_cond, test_notify_all_unacquired) {
  cb_lock lock;
  cb_lock_init(&lock);
  cb_cond cond;
  cb_cond_init(&cond, &lock);
  cr_assert_eq(cb_cond_notify(&cond, SIZE_MAX), -EPERM, "RuntimeError");
}

/* A Condition always has an explicit lock in C: its locked state is the lock's. */
Test(asyncio_cond, test_explicit_lock) {
  cb_loop *l = cb_loop_new();
  cb_lock lock;
  cb_lock_init(&lock);
  cb_cond cond;
  cb_cond_init(&cond, &lock);
  cr_assert_eq(cond.lock, &lock);
  cr_assert(!cb_lock_locked(cond.lock));
  cb_task *t = cb_create_task(l, cm_co, sizeof(cm_frame), NULL);
  ((cm_frame *)cb_task_frame(t))->lock = cond.lock; /* async with cond / async with lock */
  cb_loop_run_until_complete(l, cb_task_future(t));
  cr_assert(((cm_frame *)cb_task_frame(t))->inside);
  cr_assert(!cb_lock_locked(&lock));
  cb_task_release(t);
  cb_loop_close(l);
}

/* async with condition: wait_for(condition.wait(), 0.5) times out (the wait
 * runs as its own task here); the lock is held again afterwards. */
Test(asyncio_cond, test_timeout_in_block) {
  cb_loop *l = cb_loop_new();
  cb_lock lock;
  cb_lock_init(&lock);
  cb_cond cond;
  cb_cond_init(&cond, &lock);
  acquire_now(&lock);
  cb_task *w = cond_wait_task(l, &cond, NULL);
  cb_wait_for wf;
  cb_wait_for_init(&wf, l, cb_task_future(w), 20 * MS);
  cb_loop_run_until_complete(l, &wf.fut);
  cr_assert_eq(cb_future_error(&wf.fut).code, -ETIMEDOUT);
  cr_assert(cb_lock_locked(&lock));
  cr_assert_eq(cb_lock_release(&lock), 0);
  drain_release(l, &w, 1);
  cb_loop_close(l);
}

/* ---- SemaphoreTests ---- */

Test(asyncio_sem, test_initial_value_zero) {
  cb_sem sem;
  cb_sem_init(&sem, 0, 0);
  cr_assert(cb_sem_locked(&sem));
}

Test(asyncio_sem, test_semaphore) {
  cb_sem sem;
  cb_sem_init(&sem, 1, 0);
  cr_assert_eq(sem.value, 1);
  cr_assert(!cb_sem_locked(&sem));
}

/* ValueError in asyncio; a broken invariant (abort) in C. */
Test(asyncio_sem, test_semaphore_value, .signal = SIGABRT) {
  cb_sem sem;
  cb_sem_init(&sem, -1, 0);
}

static void sem_acquire_now(cb_sem *s) {
  cr_assert(s->value > 0 && cb__list_empty(&s->waiters));
  s->value--;
}
Test(asyncio_sem, test_acquire) {
  cb_loop *l = cb_loop_new();
  cb_sem sem;
  cb_sem_init(&sem, 3, 0);
  int result[8], n = 0;
  prims p = {.sem = &sem, .result = result, .n = &n};
  sem_acquire_now(&sem);
  sem_acquire_now(&sem);
  cr_assert(!cb_sem_locked(&sem));
  cb_task *t1 = c_task(l, K_SEM, &p, 1, 0), *t2 = c_task(l, K_SEM, &p, 2, 0), *t3 = c_task(l, K_SEM, &p, 3, 0);
  run_briefly(l);
  RESULT(1);
  cr_assert(cb_sem_locked(&sem));
  cr_assert_eq(list_len(&sem.waiters), 2);
  cr_assert_eq(sem.value, 0);
  cb_task *t4 = c_task(l, K_SEM, &p, 4, 0);
  cb_sem_release(&sem);
  cb_sem_release(&sem);
  cr_assert_eq(sem.value, 0);
  run_briefly(l);
  cr_assert_eq(sem.value, 0);
  cr_assert_eq(n, 3);
  cr_assert(cb_sem_locked(&sem));
  cr_assert_eq(list_len(&sem.waiters), 1);
  done_true(t1);
  int ndone = cb_task_done(t2) + cb_task_done(t3) + cb_task_done(t4);
  cr_assert_eq(ndone, 2);
  cb_sem_release(&sem);
  cb_loop_run_until_complete(l, cb_task_future(t4));
  drain_release(l, (cb_task *[]){t1, t2, t3, t4}, 4);
  cb_loop_close(l);
}

Test(asyncio_sem, test_acquire_cancel) {
  cb_loop *l = cb_loop_new();
  cb_sem sem;
  cb_sem_init(&sem, 1, 0);
  int result[2], n = 0;
  prims p = {.sem = &sem, .result = result, .n = &n};
  sem_acquire_now(&sem);
  cb_task *acquire = c_task(l, K_SEM, &p, 1, 0);
  cb_handle h = {0};
  cb_call_soon(l, &h, cancel_cb, acquire);
  cb_loop_run_until_complete(l, cb_task_future(acquire));
  cr_assert(cb_task_cancelled(acquire));
  cr_assert(cb__list_empty(&sem.waiters));
  drain_release(l, &acquire, 1);
  cb_loop_close(l);
}

Test(asyncio_sem, test_acquire_cancel_before_awoken) {
  cb_loop *l = cb_loop_new();
  cb_sem sem;
  cb_sem_init(&sem, 0, 0);
  int result[4], n = 0;
  prims p = {.sem = &sem, .result = result, .n = &n};
  cb_task *t[4];
  for (int i = 0; i < 4; i++) t[i] = c_task(l, K_SEM, &p, i + 1, 0);
  run_briefly(l);
  cb_task_cancel(t[0], NULL);
  cb_task_cancel(t[1], NULL);
  cb_sem_release(&sem);
  run_briefly(l);
  run_briefly(l);
  cr_assert_eq(cb_task_done(t[2]) + cb_task_done(t[3]), 1);
  cr_assert(cb_task_done(t[2]));
  cr_assert(!cb_task_done(t[3]));
  drain_release(l, t, 4);
  cb_loop_close(l);
}

Test(asyncio_sem, test_acquire_hang) {
  cb_loop *l = cb_loop_new();
  cb_sem sem;
  cb_sem_init(&sem, 0, 0);
  int result[4], n = 0;
  prims p = {.sem = &sem, .result = result, .n = &n};
  cb_task *t1 = c_task(l, K_SEM, &p, 1, 0), *t2 = c_task(l, K_SEM, &p, 2, 0);
  run_briefly(l);
  cb_task_cancel(t1, NULL);
  cb_sem_release(&sem);
  run_briefly(l);
  run_briefly(l);
  cr_assert(cb_sem_locked(&sem));
  cr_assert(cb_task_done(t2));
  drain_release(l, (cb_task *[]){t1, t2}, 2);
  cb_loop_close(l);
}

/* c1: async with sem: sleep(0); then cancels t2, which waits on sem. */
typedef struct { cb_co co; cb_sem *sem; cb_task **t2; int reached; } nh_frame;
static int nh_c1(cb_task *task, void *vf) {
  nh_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_SEM_ACQUIRE(f->sem);
  CB_SLEEP(0);
  cb_sem_release(f->sem);
  cb_task_cancel(*f->t2, NULL);
  CB_CO_END();
}
static int nh_c2(cb_task *task, void *vf) {
  nh_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_SEM_ACQUIRE(f->sem);
  f->reached = 1;
  cb_sem_release(f->sem);
  CB_CO_END();
}
Test(asyncio_sem, test_acquire_no_hang) {
  cb_loop *l = cb_loop_new();
  cb_sem sem;
  cb_sem_init(&sem, 1, 0);
  cb_task *t1, *t2;
  t1 = cb_create_task(l, nh_c1, sizeof(nh_frame), NULL);
  t2 = cb_create_task(l, nh_c2, sizeof(nh_frame), NULL);
  *(nh_frame *)cb_task_frame(t1) = (nh_frame){.sem = &sem, .t2 = &t2};
  *(nh_frame *)cb_task_frame(t2) = (nh_frame){.sem = &sem, .t2 = &t2};
  cb_future *kids[2] = {cb_task_future(t1), cb_task_future(t2)};
  cb_slot slots[2];
  cb_gather g;
  cb_gather_init(&g, l, kids, slots, 2, 1);
  cb_loop_run_until_complete(l, &g.fut);
  cr_assert_eq(cb_task_error(t1).code, 0);
  cr_assert(cb_task_cancelled(t2));
  cr_assert(!((nh_frame *)cb_task_frame(t2))->reached);
  cr_assert(!cb_sem_locked(&sem), "the semaphore can be acquired at once");
  drain_release(l, (cb_task *[]){t1, t2}, 2);
  cb_loop_close(l);
}

Test(asyncio_sem, test_release_not_acquired) {
  cb_sem sem;
  cb_sem_init(&sem, 1, 1);
  cr_assert_eq(cb_sem_release(&sem), -EOVERFLOW, "ValueError");
}

Test(asyncio_sem, test_release_no_waiters) {
  cb_sem sem;
  cb_sem_init(&sem, 1, 0);
  sem_acquire_now(&sem);
  cr_assert(cb_sem_locked(&sem));
  cb_sem_release(&sem);
  cr_assert(!cb_sem_locked(&sem));
}

typedef struct { cb_co co; cb_sem *sem; int tag; int *result, *n; } fifo_frame;
static int fifo_coro(cb_task *task, void *vf) {
  fifo_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_SEM_ACQUIRE(f->sem);
  f->result[(*f->n)++] = f->tag * 10 + 1;
  CB_SLEEP(MS);
  cb_sem_release(f->sem);
  CB_SEM_ACQUIRE(f->sem);
  f->result[(*f->n)++] = f->tag * 10 + 2;
  CB_SLEEP(MS);
  cb_sem_release(f->sem);
  CB_CO_END();
}
Test(asyncio_sem, test_acquire_fifo_order) {
  cb_loop *l = cb_loop_new();
  cb_sem sem;
  cb_sem_init(&sem, 1, 0);
  int result[8], n = 0;
  cb_task *t[3];
  for (int i = 0; i < 3; i++) {
    t[i] = cb_create_task(l, fifo_coro, sizeof(fifo_frame), NULL);
    *(fifo_frame *)cb_task_frame(t[i]) = (fifo_frame){.sem = &sem, .tag = i + 1, .result = result, .n = &n};
  }
  for (int i = 0; i < 3; i++) cb_loop_run_until_complete(l, cb_task_future(t[i]));
  RESULT(11, 21, 31, 12, 22, 32);
  drain_release(l, t, 3);
  cb_loop_close(l);
}

typedef struct { cb_co co; cb_sem *sem; int *result, *n; } f2_frame;
static int f2_c2(cb_task *task, void *vf) {
  f2_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_SEM_ACQUIRE(f->sem);
  f->result[(*f->n)++] = 2;
  cb_sem_release(f->sem);
  CB_SEM_ACQUIRE(f->sem);
  f->result[(*f->n)++] = 4;
  CB_CO_END();
}
Test(asyncio_sem, test_acquire_fifo_order_2) {
  cb_loop *l = cb_loop_new();
  cb_sem sem;
  cb_sem_init(&sem, 1, 0);
  int result[8], n = 0;
  prims p = {.sem = &sem, .result = result, .n = &n};
  cb_task *t1 = c_task(l, K_SEM, &p, 1, 0);
  cb_task *t2 = cb_create_task(l, f2_c2, sizeof(f2_frame), NULL);
  *(f2_frame *)cb_task_frame(t2) = (f2_frame){.sem = &sem, .result = result, .n = &n};
  cb_task *t3 = c_task(l, K_SEM, &p, 3, 0);
  run_briefly(l);
  cb_sem_release(&sem);
  cb_sem_release(&sem);
  cb_task *ts[3] = {t1, t2, t3};
  for (int i = 0; i < 3; i++) cb_loop_run_until_complete(l, cb_task_future(ts[i]));
  RESULT(1, 2, 3, 4);
  drain_release(l, ts, 3);
  cb_loop_close(l);
}

Test(asyncio_sem, test_acquire_fifo_order_3) {
  cb_loop *l = cb_loop_new();
  cb_sem sem;
  cb_sem_init(&sem, 0, 0);
  int result[8], n = 0;
  prims p = {.sem = &sem, .result = result, .n = &n};
  cb_task *t[3];
  for (int i = 0; i < 3; i++) t[i] = c_task(l, K_SEM, &p, i + 1, 0);
  run_briefly(l);
  cb_task_cancel(t[0], NULL);
  run_briefly(l);
  cb_sem_release(&sem);
  cb_sem_release(&sem);
  for (int i = 0; i < 3; i++) cb_loop_run_until_complete(l, cb_task_future(t[i]));
  RESULT(2, 3);
  drain_release(l, t, 3);
  cb_loop_close(l);
}
