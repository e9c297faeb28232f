/* sync.c — mutex, condition variable and wait group for green threads.
 *
 * Waiters park through their own cb_green link (no allocation). The mutex hands
 * ownership straight to the longest waiter on unlock (FIFO), so no green thread can
 * barge ahead of one already waiting: fair under contention, at the price of one
 * switch per contended hand-off. */
#include <errno.h>

#include "runtimes/green/green_int.h"

static void wait_on(cb_green_sched *s, cb_list *q) {
  cb__list_push_back(q, &s->current->link);
  cb__green_park(s);
}

static cb_green *pop_waiter(cb_list *q) {
  cb_list *l = cb__list_pop_front(q);
  return l ? cb__container_of(l, cb_green, link) : NULL;
}

void cb_green_mutex_init(cb_green_mutex *m) {
  m->owner = NULL;
  cb__list_init(&m->waiters);
}

int cb_green_mutex_lock(cb_green_mutex *m) {
  cb_green_sched *s = cb__green_tls();
  if (!s) return -EPERM;
  if (m->owner == s->current) return -EDEADLK;
  if (m->owner == NULL) {
    m->owner = s->current;
    return 0;
  }
  wait_on(s, &m->waiters);
  CB_CHECK(m->owner == s->current); /* handed over by unlock */
  return 0;
}

int cb_green_mutex_unlock(cb_green_mutex *m) {
  cb_green_sched *s = cb__green_tls();
  if (!s || m->owner != s->current) return -EPERM;
  cb_green *next = pop_waiter(&m->waiters);
  m->owner = next;
  if (next) cb__green_ready(s, next);
  return 0;
}

void cb_green_cond_init(cb_green_cond *c) { cb__list_init(&c->waiters); }

int cb_green_cond_wait(cb_green_cond *c, cb_green_mutex *m) {
  cb_green_sched *s = cb__green_tls();
  if (!s || m->owner != s->current) return -EPERM;
  cb__list_push_back(&c->waiters, &s->current->link);
  CB_CHECK(cb_green_mutex_unlock(m) == 0);
  cb__green_park(s);
  return cb_green_mutex_lock(m);
}

void cb_green_cond_signal(cb_green_cond *c) {
  cb_green *g = pop_waiter(&c->waiters);
  if (g) cb__green_ready(g->sched, g);
}

void cb_green_cond_broadcast(cb_green_cond *c) {
  cb_green *g;
  while ((g = pop_waiter(&c->waiters))) cb__green_ready(g->sched, g);
}

void cb_green_wg_init(cb_green_wg *wg) {
  wg->count = 0;
  cb__list_init(&wg->waiters);
}

int cb_green_wg_add(cb_green_wg *wg, int64_t delta) {
  if (wg->count + delta < 0) return -EINVAL;
  wg->count += delta;
  if (wg->count == 0) {
    cb_green *g;
    while ((g = pop_waiter(&wg->waiters))) cb__green_ready(g->sched, g);
  }
  return 0;
}

void cb_green_wg_done(cb_green_wg *wg) { CB_CHECK(cb_green_wg_add(wg, -1) == 0); }

int cb_green_wg_wait(cb_green_wg *wg) {
  cb_green_sched *s = cb__green_tls();
  if (!s) return -EPERM;
  if (wg->count == 0) return 0;
  wait_on(s, &wg->waiters);
  return 0;
}
