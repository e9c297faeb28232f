/* sync.c — Lock, Event, Condition, Semaphore. A woken task finds t->granted set
 * when the primitive was handed to it; outcomes consume the flag. */
#include <errno.h>

#include "runtimes/loop/loop_int.h"
#include "runtimes/loop/sync.h"

static cb_task *first_waiter(cb_list *w) { return cb__list_empty(w) ? NULL : cb__task_of_node(w->next); }

static int take_granted(cb_task *t) {
  int g = t->granted;
  t->granted = 0;
  return g;
}

cb_err cb__task_outcome_consume(cb_task *t) {
  take_granted(t);
  return cb__task_take_throw(t);
}

/* ---- Lock ---- */
void cb_lock_init(cb_lock *k) {
  cb__list_init(&k->waiters);
  k->locked = 0;
}

int cb_lock_locked(const cb_lock *k) { return k->locked; }

int cb_lock_release(cb_lock *k) {
  if (!k->locked) return -EPERM;
  cb_task *next = first_waiter(&k->waiters);
  if (next)
    cb__task_unpark(next, 1); /* stays locked: ownership moves */
  else
    k->locked = 0;
  return 0;
}

int cb__lock_wait(cb_task *t, cb_lock *k) {
  if (!k->locked && cb__list_empty(&k->waiters)) {
    k->locked = 1;
    t->granted = 1;
    return 0;
  }
  return cb__task_park(t, &k->waiters);
}

cb_err cb__lock_outcome(cb_task *t, cb_lock *k) {
  int g = take_granted(t);
  cb_err e = cb__task_take_throw(t);
  if (e.code && g) CB_CHECK(cb_lock_release(k) == 0); /* cancelled after the hand-over */
  if (!e.code) CB_CHECK(g);
  return e;
}

/* ---- Event ---- */
void cb_event_init(cb_event *e) {
  cb__list_init(&e->waiters);
  e->is_set = 0;
}

void cb_event_set(cb_event *e) {
  e->is_set = 1;
  cb_task *t;
  while ((t = first_waiter(&e->waiters)) != NULL) cb__task_unpark(t, 1);
}

void cb_event_clear(cb_event *e) { e->is_set = 0; }
int cb_event_is_set(const cb_event *e) { return e->is_set; }

int cb__event_wait(cb_task *t, cb_event *e) { return e->is_set ? 0 : cb__task_park(t, &e->waiters); }

/* ---- Condition ---- */
void cb_cond_init(cb_cond *c, cb_lock *lock) {
  cb__list_init(&c->waiters);
  c->lock = lock;
}

int cb_cond_notify(cb_cond *c, size_t n) {
  if (!c->lock->locked) return -EPERM;
  cb_task *t;
  while (n-- > 0 && (t = first_waiter(&c->waiters)) != NULL) {
    /* Wait morphing: straight to the lock's queue, still parked. */
    cb__list_remove(&t->wake.h.node);
    cb__list_push_back(&c->lock->waiters, &t->wake.h.node);
  }
  return 0;
}

/* With a cancellation already pending the task keeps the lock and does not wait. */
int cb__cond_wait(cb_task *t, cb_cond *c) {
  CB_CHECK(c->lock->locked); /* waiting on a condition needs its lock */
  if (t->throw_err) {
    t->granted = 1;
    return 0;
  }
  CB_CHECK(cb_lock_release(c->lock) == 0);
  return cb__task_park(t, &c->waiters);
}

/* Granted: the lock was handed over, done. Otherwise the task was cancelled while
 * parked (on the condition or the lock): it must hold the lock again before the
 * cancellation is raised, so it takes it or queues for it (CB__RETRY). */
cb_err cb__cond_outcome(cb_task *t, cb_cond *c) {
  int g = take_granted(t);
  cb_err e = cb__task_take_throw(t);
  if (g) return e;
  cb_lock *k = c->lock;
  if (!k->locked && cb__list_empty(&k->waiters)) {
    k->locked = 1;
    return e;
  }
  t->deferred_cancel = e.code != 0;
  cb__task_park(t, &k->waiters);
  return (cb_err){CB__RETRY, NULL};
}

/* ---- Semaphore ---- */
void cb_sem_init(cb_sem *s, int64_t value, int bounded) {
  CB_CHECK(value >= 0);
  cb__list_init(&s->waiters);
  s->value = s->bound = value;
  s->handing = 0;
  s->bounded = bounded != 0;
}

int cb_sem_locked(const cb_sem *s) { return s->value == 0 || s->handing || !cb__list_empty(&s->waiters); }

/* granted values: 1 = taken on the fast path, SEM_HANDED = handed by a release */
#define SEM_HANDED 2
static void sem_hand(cb_sem *s, cb_task *t) {
  s->handing++;
  cb__task_unpark(t, SEM_HANDED);
}

int cb_sem_release(cb_sem *s) {
  cb_task *next = first_waiter(&s->waiters);
  if (next) {
    sem_hand(s, next);
    return 0;
  }
  if (s->bounded && s->value + s->handing >= s->bound) return -EOVERFLOW;
  s->value++;
  return 0;
}

int cb__sem_wait(cb_task *t, cb_sem *s) {
  if (s->value > 0 && !s->handing && cb__list_empty(&s->waiters)) {
    s->value--;
    t->granted = 1;
    return 0;
  }
  return cb__task_park(t, &s->waiters);
}

cb_err cb__sem_outcome(cb_task *t, cb_sem *s) {
  int g = take_granted(t);
  cb_err e = cb__task_take_throw(t);
  if (g == SEM_HANDED) s->handing--; /* the unit in flight arrived */
  if (e.code && g) CB_CHECK(cb_sem_release(s) == 0);
  if (!e.code) {
    CB_CHECK(g);
    cb_task *next; /* units freed meanwhile go to those queued behind (FIFO) */
    while (s->value > 0 && (next = first_waiter(&s->waiters)) != NULL) {
      s->value--;
      sem_hand(s, next);
    }
  }
  return e;
}
