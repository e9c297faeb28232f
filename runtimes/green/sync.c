/* sync.c — mutex, condition variable and wait group for green threads.
 *
 * Waiters park through their own cb_green link (no allocation). The mutex hands
 * ownership straight to the longest waiter on unlock (FIFO), so no green thread can
 * barge ahead of one already waiting: fair under contention, at the price of one
 * switch per contended hand-off.
 *
 * M:N: as for channels (chan.c), each object's state is changed under its spin lock
 * when the caller is an M:N worker or outside any scheduler (cb__green_shared); a
 * waiter queues itself under the lock and parks after releasing it; the one who
 * dequeues it wakes it (cb__green_wake) after releasing it. Under M:1 no lock. */
#include <errno.h>

#include "runtimes/green/green_int.h"

static inline void lock(int *l, int shared) {
  if (shared) cb__spin_lock(l);
}
static inline void unlock(int *l, int shared) {
  if (shared) cb__spin_unlock(l);
}

/* Queues the caller on q (whose lock *l is held if shared; this releases it) and parks. */
static void wait_on(cb_green_sched *s, cb_list *q, int *l, int shared) {
  cb__list_push_back(q, &s->current->link);
  unlock(l, shared);
  cb__green_park(s);
}

static cb_green *pop_waiter(cb_list *q) {
  cb_list *l = cb__list_pop_front(q);
  return l ? cb__container_of(l, cb_green, link) : NULL;
}

/* Wakes every thread of q, a list private to the caller. */
static void wake_all(cb_list *q) {
  cb_green *g;
  while ((g = pop_waiter(q))) cb__green_wake(g);
}

void cb_green_mutex_init(cb_green_mutex *m) {
  m->owner = NULL;
  m->lock = 0;
  cb__list_init(&m->waiters);
}

int cb_green_mutex_lock(cb_green_mutex *m) {
  cb_green_sched *s = cb__green_tls();
  if (!s) return -EPERM;
  int shared = s->mn != NULL;
  lock(&m->lock, shared);
  if (m->owner == s->current) {
    unlock(&m->lock, shared);
    return -EDEADLK;
  }
  if (m->owner == NULL) {
    m->owner = s->current;
    unlock(&m->lock, shared);
    return 0;
  }
  wait_on(s, &m->waiters, &m->lock, shared);
  /* handed over by unlock (read without the lock: the owner changes only by its own
   * unlock, and the wake-up ordered this read after the hand-over) */
  CB_CHECK(__atomic_load_n(&m->owner, __ATOMIC_RELAXED) == s->current);
  return 0;
}

int cb_green_mutex_unlock(cb_green_mutex *m) {
  cb_green_sched *s = cb__green_tls();
  if (!s) return -EPERM;
  int shared = s->mn != NULL;
  lock(&m->lock, shared);
  if (m->owner != s->current) {
    unlock(&m->lock, shared);
    return -EPERM;
  }
  cb_green *next = pop_waiter(&m->waiters);
  __atomic_store_n(&m->owner, next, __ATOMIC_RELAXED);
  unlock(&m->lock, shared);
  if (next) cb__green_wake(next);
  return 0;
}

void cb_green_cond_init(cb_green_cond *c) {
  c->lock = 0;
  cb__list_init(&c->waiters);
}

int cb_green_cond_wait(cb_green_cond *c, cb_green_mutex *m) {
  cb_green_sched *s = cb__green_tls();
  if (!s || __atomic_load_n(&m->owner, __ATOMIC_RELAXED) != s->current) return -EPERM;
  int shared = s->mn != NULL;
  /* queued before the mutex is released, so a signal made after the release (under
   * the mutex by the signaller's convention, or not) finds it: no lost wake-up */
  lock(&c->lock, shared);
  cb__list_push_back(&c->waiters, &s->current->link);
  unlock(&c->lock, shared);
  CB_CHECK(cb_green_mutex_unlock(m) == 0);
  cb__green_park(s);
  return cb_green_mutex_lock(m);
}

void cb_green_cond_signal(cb_green_cond *c) {
  int shared = cb__green_shared();
  lock(&c->lock, shared);
  cb_green *g = pop_waiter(&c->waiters);
  unlock(&c->lock, shared);
  if (g) cb__green_wake(g);
}

void cb_green_cond_broadcast(cb_green_cond *c) {
  int shared = cb__green_shared();
  cb_list q;
  cb__list_init(&q);
  lock(&c->lock, shared);
  cb__list_splice(&q, &c->waiters);
  unlock(&c->lock, shared);
  wake_all(&q);
}

void cb_green_wg_init(cb_green_wg *wg) {
  wg->count = 0;
  wg->lock = 0;
  cb__list_init(&wg->waiters);
}

int cb_green_wg_add(cb_green_wg *wg, int64_t delta) {
  int shared = cb__green_shared();
  cb_list q;
  cb__list_init(&q);
  lock(&wg->lock, shared);
  if (wg->count + delta < 0) {
    unlock(&wg->lock, shared);
    return -EINVAL;
  }
  wg->count += delta;
  if (wg->count == 0) cb__list_splice(&q, &wg->waiters);
  unlock(&wg->lock, shared);
  wake_all(&q);
  return 0;
}

void cb_green_wg_done(cb_green_wg *wg) { CB_CHECK(cb_green_wg_add(wg, -1) == 0); }

int cb_green_wg_wait(cb_green_wg *wg) {
  cb_green_sched *s = cb__green_tls();
  if (!s) return -EPERM;
  int shared = s->mn != NULL;
  lock(&wg->lock, shared);
  if (wg->count == 0) {
    unlock(&wg->lock, shared);
    return 0;
  }
  wait_on(s, &wg->waiters, &wg->lock, shared);
  return 0;
}
