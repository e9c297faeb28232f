/* test_loop_sync.c — Lock, Event, Condition, Semaphore, queues, as_completed. */
#include <criterion/criterion.h>
#include <errno.h>

#include "runtimes/loop/combinators.h"
#include "runtimes/loop/queue.h"
#include "runtimes/loop/sync.h"

#define MS 1000000ull

static void run_main(cb_co_fn fn, size_t size, void (*setup)(void *frame), void (*check)(void *frame)) {
  cb_loop *l = cb_loop_new();
  cb_task *t = cb_create_task(l, fn, size, "main");
  if (setup) setup(cb_task_frame(t));
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cb_err e = cb_task_error(t);
  cr_assert_eq(e.code, 0, "main failed: %d %s", e.code, e.msg ? e.msg : "");
  if (check) check(cb_task_frame(t));
  cb_task_release(t);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- Lock: mutual exclusion across a suspension, FIFO hand-over ---- */
typedef struct { cb_lock lock; int inside, max_inside, order[4], n; } lock_shared;
typedef struct { cb_co co; lock_shared *s; int id; } locker_frame;
static int locker(cb_task *task, void *vf) {
  locker_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_LOCK_ACQUIRE(&f->s->lock);
  f->s->inside++;
  if (f->s->inside > f->s->max_inside) f->s->max_inside = f->s->inside;
  f->s->order[f->s->n++] = f->id;
  CB_SLEEP(MS);
  f->s->inside--;
  CB_CHECK_QUEUE(cb_lock_release(&f->s->lock) == 0);
  CB_CO_END();
}
typedef struct { cb_co co; lock_shared s; cb_task *kids[4]; int i; } lock_main_frame;
static int lock_main(cb_task *task, void *vf) {
  lock_main_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cb_lock_init(&f->s.lock);
  for (f->i = 0; f->i < 4; f->i++) {
    f->kids[f->i] = cb_create_task(cb_task_loop(task), locker, sizeof(locker_frame), NULL);
    locker_frame *lf = cb_task_frame(f->kids[f->i]);
    lf->s = &f->s;
    lf->id = f->i;
  }
  for (f->i = 0; f->i < 4; f->i++) {
    CB_AWAIT(cb_task_future(f->kids[f->i]));
    cb_task_release(f->kids[f->i]);
  }
  CB_CO_END();
}
static void lock_check(void *vf) {
  lock_main_frame *f = vf;
  cr_assert_eq(f->s.max_inside, 1);
  for (int i = 0; i < 4; i++) cr_assert_eq(f->s.order[i], i);
  cr_assert(!cb_lock_locked(&f->s.lock));
  cr_assert_eq(cb_lock_release(&f->s.lock), -EPERM);
}
Test(loop_sync, lock_mutual_exclusion_fifo) { run_main(lock_main, sizeof(lock_main_frame), NULL, lock_check); }

/* ---- Event wakes every waiter; Condition notify(1) wakes one ---- */
typedef struct { cb_event ev; cb_lock lock; cb_cond cond; int woke, items; } ev_shared;
typedef struct { cb_co co; ev_shared *s; } ev_frame;
static int ev_waiter(cb_task *task, void *vf) {
  ev_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_EVENT_WAIT(&f->s->ev);
  f->s->woke++;
  CB_CO_END();
}
static int cond_consumer(cb_task *task, void *vf) {
  ev_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_LOCK_ACQUIRE(&f->s->lock);
  while (f->s->items == 0) CB_COND_WAIT(&f->s->cond);
  cr_assert(cb_lock_locked(&f->s->lock));
  f->s->items--;
  f->s->woke++;
  cb_lock_release(&f->s->lock);
  CB_CO_END();
}
typedef struct { cb_co co; ev_shared s; cb_task *kids[6]; int i; int woke_before; } ev_main_frame;
static int ev_main(cb_task *task, void *vf) {
  ev_main_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cb_event_init(&f->s.ev);
  cb_lock_init(&f->s.lock);
  cb_cond_init(&f->s.cond, &f->s.lock);
  for (f->i = 0; f->i < 3; f->i++) {
    f->kids[f->i] = cb_create_task(cb_task_loop(task), ev_waiter, sizeof(ev_frame), NULL);
    ((ev_frame *)cb_task_frame(f->kids[f->i]))->s = &f->s;
  }
  CB_SLEEP(MS);
  f->woke_before = f->s.woke;
  cb_event_set(&f->s.ev);
  for (f->i = 0; f->i < 3; f->i++) CB_AWAIT(cb_task_future(f->kids[f->i]));
  cr_assert_eq(f->s.woke, 3);
  f->s.woke = 0;
  for (f->i = 3; f->i < 6; f->i++) {
    f->kids[f->i] = cb_create_task(cb_task_loop(task), cond_consumer, sizeof(ev_frame), NULL);
    ((ev_frame *)cb_task_frame(f->kids[f->i]))->s = &f->s;
  }
  CB_SLEEP(MS);
  cr_assert_eq(cb_cond_notify(&f->s.cond, 1), -EPERM, "notify without the lock");
  CB_LOCK_ACQUIRE(&f->s.lock);
  f->s.items = 1;
  cb_cond_notify(&f->s.cond, 1);
  cb_lock_release(&f->s.lock);
  CB_SLEEP(MS);
  cr_assert_eq(f->s.woke, 1, "one item, one consumer woken");
  CB_LOCK_ACQUIRE(&f->s.lock);
  f->s.items = 2;
  cb_cond_notify(&f->s.cond, SIZE_MAX);
  cb_lock_release(&f->s.lock);
  for (f->i = 3; f->i < 6; f->i++) CB_AWAIT(cb_task_future(f->kids[f->i]));
  for (f->i = 0; f->i < 6; f->i++) cb_task_release(f->kids[f->i]);
  CB_CO_END();
}
static void ev_check(void *vf) {
  ev_main_frame *f = vf;
  cr_assert_eq(f->woke_before, 0);
  cr_assert_eq(f->s.woke, 3);
  cr_assert_eq(f->s.items, 0);
}
Test(loop_sync, event_and_condition) { run_main(ev_main, sizeof(ev_main_frame), NULL, ev_check); }

/* ---- Condition: a cancelled waiter re-acquires the lock before it raises ---- */
typedef struct { cb_co co; ev_shared *s; cb_err e; int held_after; } cw_frame;
static int cond_cancelled(cb_task *task, void *vf) {
  cw_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_LOCK_ACQUIRE(&f->s->lock);
  CB_COND_WAIT_TRY(&f->s->cond, f->e);
  f->held_after = cb_lock_locked(&f->s->lock);
  cb_lock_release(&f->s->lock);
  CB_RAISE_ERR(f->e);
  CB_CO_END();
}
typedef struct { cb_co co; ev_shared s; cb_task *kid; cb_err e; } cc_main_frame;
static int cc_main(cb_task *task, void *vf) {
  cc_main_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cb_lock_init(&f->s.lock);
  cb_cond_init(&f->s.cond, &f->s.lock);
  f->kid = cb_create_task(cb_task_loop(task), cond_cancelled, sizeof(cw_frame), "cw");
  ((cw_frame *)cb_task_frame(f->kid))->s = &f->s;
  CB_SLEEP(MS);
  CB_LOCK_ACQUIRE(&f->s.lock); /* the waiter released it */
  cb_task_cancel(f->kid, NULL);
  CB_SLEEP(MS);
  cr_assert(!cb_task_done(f->kid), "it must wait for the lock before raising");
  cb_lock_release(&f->s.lock);
  CB_AWAIT_TRY(cb_task_future(f->kid), f->e);
  CB_CO_END();
}
static void cc_check(void *vf) {
  cc_main_frame *f = vf;
  cr_assert_eq(f->e.code, -ECANCELED);
  cr_assert_eq(((cw_frame *)cb_task_frame(f->kid))->held_after, 1);
  cr_assert(!cb_lock_locked(&f->s.lock));
  cb_task_release(f->kid);
}
Test(loop_sync, condition_wait_cancelled_reacquires) { run_main(cc_main, sizeof(cc_main_frame), NULL, cc_check); }

/* ---- Semaphore limits concurrency; BoundedSemaphore refuses extra releases ---- */
typedef struct { cb_sem sem; int inside, max_inside; } sem_shared;
typedef struct { cb_co co; sem_shared *s; } semw_frame;
static int sem_worker(cb_task *task, void *vf) {
  semw_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_SEM_ACQUIRE(&f->s->sem);
  if (++f->s->inside > f->s->max_inside) f->s->max_inside = f->s->inside;
  CB_SLEEP(MS);
  f->s->inside--;
  cb_sem_release(&f->s->sem);
  CB_CO_END();
}
typedef struct { cb_co co; sem_shared s; cb_task *kids[8]; int i; cb_err e; } sem_main_frame;
static int sem_main(cb_task *task, void *vf) {
  sem_main_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cb_sem_init(&f->s.sem, 3, 1);
  for (f->i = 0; f->i < 8; f->i++) {
    f->kids[f->i] = cb_create_task(cb_task_loop(task), sem_worker, sizeof(semw_frame), NULL);
    ((semw_frame *)cb_task_frame(f->kids[f->i]))->s = &f->s;
  }
  CB_SLEEP(MS / 2);
  cb_task_cancel(f->kids[7], NULL); /* a cancelled waiter must not leak a unit */
  for (f->i = 0; f->i < 8; f->i++) {
    CB_AWAIT_TRY(cb_task_future(f->kids[f->i]), f->e);
    cb_task_release(f->kids[f->i]);
  }
  CB_CO_END();
}
static void sem_check(void *vf) {
  sem_main_frame *f = vf;
  cr_assert_eq(f->s.max_inside, 3);
  cr_assert_eq(f->s.sem.value, 3);
  cr_assert_eq(cb_sem_release(&f->s.sem), -EOVERFLOW);
  cb_sem plain;
  cb_sem_init(&plain, 1, 0);
  cr_assert_eq(cb_sem_release(&plain), 0);
  cr_assert_eq(plain.value, 2);
}
Test(loop_sync, semaphore_and_bounded) { run_main(sem_main, sizeof(sem_main_frame), NULL, sem_check); }

/* ---- Queue: producer/consumer with join; nowait errors; LIFO and priority ---- */
typedef struct { cb_queue q; uint64_t sum; int consumed; } q_shared;
typedef struct { cb_co co; q_shared *s; cb_qitem it; } cons_frame;
static int consumer(cb_task *task, void *vf) {
  cons_frame *f = vf;
  CB_CO_BEGIN(task, f);
  for (;;) {
    CB_QUEUE_GET(&f->s->q, &f->it);
    CB_SLEEP(f->it.v.u % 2 ? MS / 4 : 0);
    f->s->sum += f->it.v.u;
    f->s->consumed++;
    cb_queue_task_done(&f->s->q);
  }
  CB_CO_END();
}
typedef struct { cb_co co; q_shared s; cb_task *cons[3]; uint64_t i; int max_len; cb_err e; } q_main_frame;
static int q_main(cb_task *task, void *vf) {
  q_main_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_CHECK_QUEUE(cb_queue_init(&f->s.q, CB_QUEUE_FIFO, 4) == 0);
  for (f->i = 0; f->i < 3; f->i++) {
    f->cons[f->i] = cb_create_task(cb_task_loop(task), consumer, sizeof(cons_frame), NULL);
    ((cons_frame *)cb_task_frame(f->cons[f->i]))->s = &f->s;
  }
  for (f->i = 1; f->i <= 100; f->i++) {
    CB_QUEUE_PUT(&f->s.q, 0, (cb_val){.u = f->i});
    if ((int)cb_queue_size(&f->s.q) > f->max_len) f->max_len = (int)cb_queue_size(&f->s.q);
  }
  CB_QUEUE_JOIN(&f->s.q);
  for (f->i = 0; f->i < 3; f->i++) {
    cb_task_cancel(f->cons[f->i], NULL);
    CB_AWAIT_TRY(cb_task_future(f->cons[f->i]), f->e);
    cr_assert_eq(f->e.code, -ECANCELED);
    cb_task_release(f->cons[f->i]);
  }
  cb_queue_destroy(&f->s.q);
  CB_CO_END();
}
static void q_check(void *vf) {
  q_main_frame *f = vf;
  cr_assert_eq(f->s.consumed, 100);
  cr_assert_eq(f->s.sum, 5050);
  cr_assert_leq(f->max_len, 4, "maxsize respected: %d", f->max_len);
}
Test(loop_sync, queue_producer_consumer_join) { run_main(q_main, sizeof(q_main_frame), NULL, q_check); }

Test(loop_sync, queue_kinds_and_nowait) {
  cb_queue q;
  cb_qitem it;
  cr_assert_eq(cb_queue_init(&q, CB_QUEUE_FIFO, 2), 0);
  cr_assert_eq(cb_queue_get_nowait(&q, &it), -EAGAIN, "QueueEmpty");
  cr_assert_eq(cb_queue_put_nowait(&q, 0, (cb_val){.u = 1}), 0);
  cr_assert_eq(cb_queue_put_nowait(&q, 0, (cb_val){.u = 2}), 0);
  cr_assert_eq(cb_queue_put_nowait(&q, 0, (cb_val){.u = 3}), -EAGAIN, "QueueFull");
  cr_assert_eq(cb_queue_get_nowait(&q, &it), 0);
  cr_assert_eq(it.v.u, 1);
  cr_assert_eq(cb_queue_task_done(&q), 0);
  cr_assert_eq(cb_queue_task_done(&q), 0);
  cr_assert_eq(cb_queue_task_done(&q), -EINVAL, "task_done called too often");
  cb_queue_destroy(&q);

  cr_assert_eq(cb_queue_init(&q, CB_QUEUE_LIFO, 0), 0);
  for (uint64_t i = 0; i < 40; i++) cr_assert_eq(cb_queue_put_nowait(&q, 0, (cb_val){.u = i}), 0);
  for (uint64_t i = 40; i-- > 0;) {
    cr_assert_eq(cb_queue_get_nowait(&q, &it), 0);
    cr_assert_eq(it.v.u, i);
  }
  cb_queue_destroy(&q);

  cr_assert_eq(cb_queue_init(&q, CB_QUEUE_PRIORITY, 0), 0);
  uint64_t prios[10] = {5, 3, 9, 1, 3, 7, 0, 9, 2, 3};
  for (uint64_t i = 0; i < 10; i++) cr_assert_eq(cb_queue_put_nowait(&q, prios[i], (cb_val){.u = i}), 0);
  uint64_t last = 0, last_seq_at_prio3 = 0;
  for (int i = 0; i < 10; i++) {
    cr_assert_eq(cb_queue_get_nowait(&q, &it), 0);
    cr_assert_geq(it.prio, last);
    if (it.prio == 3) {
      cr_assert_geq(it.v.u, last_seq_at_prio3, "FIFO among equal priorities");
      last_seq_at_prio3 = it.v.u;
    }
    last = it.prio;
  }
  cb_queue_destroy(&q);

  cr_assert_eq(cb_queue_init(&q, CB_QUEUE_FIFO, 0), 0); /* ring growth keeps order */
  for (uint64_t i = 0; i < 10; i++) cb_queue_put_nowait(&q, 0, (cb_val){.u = i});
  for (uint64_t i = 0; i < 5; i++) cb_queue_get_nowait(&q, &it);
  for (uint64_t i = 10; i < 100; i++) cb_queue_put_nowait(&q, 0, (cb_val){.u = i});
  for (uint64_t i = 5; i < 100; i++) {
    cr_assert_eq(cb_queue_get_nowait(&q, &it), 0);
    cr_assert_eq(it.v.u, i);
  }
  cb_queue_destroy(&q);
}

/* ---- as_completed yields in completion order ---- */
/* Naps until base + ms (loop time), one base for all: they complete in the order of
 * ms however late each starts on a busy machine. */
typedef struct { cb_co co; uint64_t ms, base; } nap_frame;
static int nap(cb_task *task, void *vf) {
  nap_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_SLEEP_UNTIL(f->base + f->ms * MS);
  CB_RETURN((cb_val){.u = f->ms});
  CB_CO_END();
}
typedef struct {
  cb_co co;
  cb_task *kids[4];
  cb_future *futs[4];
  cb_slot slots[4];
  uint32_t order[4];
  cb_as_completed ac;
  uint64_t got[4];
  uint64_t base;
  int i;
} ac_frame;
static int ac_main(cb_task *task, void *vf) {
  ac_frame *f = vf;
  CB_CO_BEGIN(task, f);
  static const uint64_t ms[4] = {20, 5, 15, 1};
  f->base = cb_loop_time(cb_task_loop(task));
  for (f->i = 0; f->i < 4; f->i++) {
    f->kids[f->i] = cb_create_task(cb_task_loop(task), nap, sizeof(nap_frame), NULL);
    ((nap_frame *)cb_task_frame(f->kids[f->i]))->ms = ms[f->i];
    ((nap_frame *)cb_task_frame(f->kids[f->i]))->base = f->base;
    f->futs[f->i] = cb_task_future(f->kids[f->i]);
  }
  cb_as_completed_init(&f->ac, cb_task_loop(task), f->futs, f->slots, f->order, 4);
  for (f->i = 0; f->i < 4; f->i++) {
    cb_as_completed_arm(&f->ac);
    CB_AWAIT(&f->ac.next);
    f->got[f->i] = cb_future_result(f->ac.next.result.p).u;
  }
  for (f->i = 0; f->i < 4; f->i++) cb_task_release(f->kids[f->i]);
  CB_CO_END();
}
static void ac_check(void *vf) {
  ac_frame *f = vf;
  uint64_t want[4] = {1, 5, 15, 20};
  for (int i = 0; i < 4; i++) cr_assert_eq(f->got[i], want[i], "position %d: %lu", i, f->got[i]);
}
Test(loop_sync, as_completed_in_completion_order) { run_main(ac_main, sizeof(ac_frame), NULL, ac_check); }
