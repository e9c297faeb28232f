/* sync.h — Lock, Event, Condition, Semaphore, BoundedSemaphore for tasks of one
 * loop (not thread-safe, like asyncio's).
 *
 * Waiting tasks park on the primitive's intrusive list through their embedded
 * wakeup handle: no future, no allocation. Wakeups are FIFO; a lock or semaphore
 * is handed to the woken task directly (no barging), and handed on if that task
 * is cancelled before it runs. The await macros follow task.h: plain forms raise
 * (cancellation), _TRY forms store the cb_err. All O(1) except notify_all/set.
 * One difference from asyncio (runtimes/loop/CONFORMANCE.md): a Lock released
 * with waiters stays locked (it belongs to the woken task at once), where
 * asyncio's reports unlocked until that task has run; neither lets a third task
 * take it in between. Misuse asyncio reports with RuntimeError/ValueError is a
 * broken invariant here (aborts): waiting on a Condition without its lock, a
 * negative Semaphore value; releasing an unlocked Lock returns -EPERM. */
#ifndef CB_LOOP_SYNC_H
#define CB_LOOP_SYNC_H

#include "runtimes/loop/task.h"

typedef struct cb_lock {
  cb_list waiters;
  uint8_t locked;
} cb_lock;

void cb_lock_init(cb_lock *k);
int cb_lock_locked(const cb_lock *k);
/* 0, or -EPERM if not locked. Hands the lock to the first waiter if any. */
int cb_lock_release(cb_lock *k);
#define CB_LOCK_ACQUIRE(k) \
  do { CB__AWAIT(cb__lock_wait(cb__t, (k)), cb__lock_outcome(cb__t, (k)), cb__e); CB__RAISE_IF(cb__e); } while (0)
#define CB_LOCK_ACQUIRE_TRY(k, err_lv) CB__AWAIT(cb__lock_wait(cb__t, (k)), cb__lock_outcome(cb__t, (k)), err_lv)

typedef struct cb_event {
  cb_list waiters;
  uint8_t is_set;
} cb_event;

void cb_event_init(cb_event *e);
void cb_event_set(cb_event *e); /* wakes every waiter, O(waiters) */
void cb_event_clear(cb_event *e);
int cb_event_is_set(const cb_event *e);
#define CB_EVENT_WAIT(ev) \
  do { CB__AWAIT(cb__event_wait(cb__t, (ev)), cb__task_outcome_consume(cb__t), cb__e); CB__RAISE_IF(cb__e); } while (0)
#define CB_EVENT_WAIT_TRY(ev, err_lv) CB__AWAIT(cb__event_wait(cb__t, (ev)), cb__task_outcome_consume(cb__t), err_lv)

/* Condition over a lock the waiter holds. wait releases it, parks, and returns
 * holding it again — also when cancelled (the cancellation is raised after the
 * lock is re-acquired). notify moves waiters to the lock's queue (wait morphing). */
typedef struct cb_cond {
  cb_list waiters;
  cb_lock *lock;
} cb_cond;

void cb_cond_init(cb_cond *c, cb_lock *lock);
/* Wakes up to n waiters (notify_all: n = SIZE_MAX); -EPERM unless the lock is held. */
int cb_cond_notify(cb_cond *c, size_t n);
#define CB__COND_WAIT_L(lbl, c, err_lv)                         \
  do {                                                          \
    if (cb__cond_wait(cb__t, (c))) {                            \
      cb__co->label = (lbl);                                    \
      return CB_CO_PENDING;                                     \
    case (lbl):;                                                \
    }                                                           \
    (err_lv) = cb__cond_outcome(cb__t, (c));                    \
    if ((err_lv).code == CB__RETRY) {                           \
      cb__co->label = (lbl);                                    \
      return CB_CO_PENDING;                                     \
    }                                                           \
  } while (0)
#define CB_COND_WAIT(c) \
  do { CB__COND_WAIT_L(__COUNTER__ + 1, c, cb__e); CB__RAISE_IF(cb__e); } while (0)
#define CB_COND_WAIT_TRY(c, err_lv) CB__COND_WAIT_L(__COUNTER__ + 1, c, err_lv)

/* Semaphore; bounded: releasing above the initial value fails with -EOVERFLOW.
 * A release with waiters hands its unit to the first one; until that task has
 * run, acquires queue behind it even if units are free (asyncio 3.12's FIFO
 * rule: locked() is true while a woken waiter has not acquired), and a waiter
 * that acquires hands the free units on to those queued behind it. */
typedef struct cb_sem {
  cb_list waiters;
  int64_t value, bound;
  int64_t handing; /* units handed to woken waiters that have not run yet */
  uint8_t bounded;
} cb_sem;

void cb_sem_init(cb_sem *s, int64_t value, int bounded);
int cb_sem_release(cb_sem *s);
int cb_sem_locked(const cb_sem *s); /* 1 if acquire would suspend */
#define CB_SEM_ACQUIRE(s) \
  do { CB__AWAIT(cb__sem_wait(cb__t, (s)), cb__sem_outcome(cb__t, (s)), cb__e); CB__RAISE_IF(cb__e); } while (0)
#define CB_SEM_ACQUIRE_TRY(s, err_lv) CB__AWAIT(cb__sem_wait(cb__t, (s)), cb__sem_outcome(cb__t, (s)), err_lv)

/* internals */
#define CB__RETRY 1 /* positive: never a real error code */
int cb__lock_wait(cb_task *t, cb_lock *k);
cb_err cb__lock_outcome(cb_task *t, cb_lock *k);
int cb__event_wait(cb_task *t, cb_event *e);
cb_err cb__task_outcome_consume(cb_task *t);
int cb__cond_wait(cb_task *t, cb_cond *c);
cb_err cb__cond_outcome(cb_task *t, cb_cond *c);
int cb__sem_wait(cb_task *t, cb_sem *s);
cb_err cb__sem_outcome(cb_task *t, cb_sem *s);

#endif
