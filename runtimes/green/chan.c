/* chan.c — channels between green threads of one scheduler (Go semantics).
 *
 * A parked sender or receiver waits on the channel through its own cb_green (link,
 * wait_data = its element buffer, wait_result = 0 or -EPIPE), so no operation
 * allocates. Elements are copied straight between the two green threads' buffers when
 * one side already waits; a buffered channel keeps a ring of cap elements.
 *
 * M:N: the two sides may run on different workers. Every operation from a worker
 * (or from outside any scheduler) then holds the channel's spin lock while it looks
 * at and changes the channel; a waiter queues itself under the lock and parks after
 * releasing it, and whoever takes it off the queue (under the lock, so exactly one)
 * wakes it after releasing it: cb__green_wake, a remote wake-up when the waiter
 * lives on another worker (mn.c). A waiter woken before it has finished parking is
 * not lost: its worker takes remote wake-ups only from its main context, after the
 * switch out. Under M:1 no lock is taken: send and receive are compiled twice from
 * one body (shared a constant), and one test of the scheduler picks the version. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/green/green_int.h"

struct cb_green_chan {
  size_t elem, cap, head, count;
  int closed;
  int lock; /* M:N (cb__spin_lock) */
  cb_list senders, receivers;
  char ring[];
};

int cb_green_chan_new(size_t elem_size, size_t cap, cb_green_chan **out) {
  if (elem_size == 0 || cap > SIZE_MAX / elem_size / 2) return -EINVAL;
  cb_green_chan *c = calloc(1, sizeof *c + elem_size * cap);
  if (!c) return -ENOMEM;
  c->elem = elem_size;
  c->cap = cap;
  cb__list_init(&c->senders);
  cb__list_init(&c->receivers);
  *out = c;
  return 0;
}

void cb_green_chan_free(cb_green_chan *c) {
  if (!c) return;
  CB_CHECK(cb__list_empty(&c->senders) && cb__list_empty(&c->receivers));
  free(c);
}

/* Element copy; the common word-sized case without a call. */
static inline void copy_elem(void *dst, const void *src, size_t n) {
  if (n == sizeof(uint64_t)) {
    uint64_t v;
    memcpy(&v, src, sizeof v);
    memcpy(dst, &v, sizeof v);
  } else {
    memcpy(dst, src, n);
  }
}

static cb_green *pop_waiter(cb_list *q) {
  cb_list *l = cb__list_pop_front(q);
  return l ? cb__container_of(l, cb_green, link) : NULL;
}

static inline __attribute__((always_inline)) void lock(cb_green_chan *c, int shared) {
  if (shared) cb__spin_lock(&c->lock);
}
static inline __attribute__((always_inline)) void unlock(cb_green_chan *c, int shared) {
  if (shared) cb__spin_unlock(&c->lock);
}

/* Sets g's result and wakes it; after the channel is unlocked. */
static inline void wake(cb_green *g, int result, int shared) {
  g->wait_result = result;
  if (shared) cb__green_wake(g);
  else cb__green_ready(g->sched, g);
}

/* Parks the caller on q with its element buffer (the channel locked if shared; this
 * unlocks it); returns what the waker decided. */
static inline __attribute__((always_inline)) int wait_on(cb_green_sched *s, cb_green_chan *c, int shared, cb_list *q,
                                                        void *data) {
  cb_green *self = s->current;
  self->wait_data = data;
  cb__list_push_back(q, &self->link);
  unlock(c, shared);
  cb__green_park(s);
  return self->wait_result;
}

static inline __attribute__((always_inline)) int do_send(cb_green_sched *s, cb_green_chan *c, const void *elem,
                                                     int shared) {
  lock(c, shared);
  if (c->closed) {
    unlock(c, shared);
    return -EPIPE;
  }
  cb_green *r = pop_waiter(&c->receivers);
  if (r) {
    copy_elem(r->wait_data, elem, c->elem);
    unlock(c, shared);
    wake(r, 0, shared);
    return 0;
  }
  if (c->count < c->cap) {
    copy_elem(c->ring + ((c->head + c->count) % c->cap) * c->elem, elem, c->elem);
    c->count++;
    unlock(c, shared);
    return 0;
  }
  return wait_on(s, c, shared, &c->senders, (void *)elem);
}

/* Contract: see green.h. O(1) plus elem_size bytes copied; parks when no receiver
 * waits and the buffer is full. */
int cb_green_chan_send(cb_green_chan *c, const void *elem) {
  cb_green_sched *s = cb__green_tls();
  if (!s) return -EPERM;
  return __builtin_expect(s->mn == NULL, 1) ? do_send(s, c, elem, 0) : do_send(s, c, elem, 1);
}

static inline __attribute__((always_inline)) int do_recv(cb_green_sched *s, cb_green_chan *c, void *elem, int shared) {
  lock(c, shared);
  if (c->count > 0) {
    copy_elem(elem, c->ring + c->head * c->elem, c->elem);
    c->head = (c->head + 1) % c->cap;
    c->count--;
    cb_green *w = pop_waiter(&c->senders); /* room now: take a parked sender's element */
    if (w) {
      copy_elem(c->ring + ((c->head + c->count) % c->cap) * c->elem, w->wait_data, c->elem);
      c->count++;
    }
    unlock(c, shared);
    if (w) wake(w, 0, shared);
    return 0;
  }
  cb_green *w = pop_waiter(&c->senders); /* unbuffered: take it from the sender */
  if (w) {
    copy_elem(elem, w->wait_data, c->elem);
    unlock(c, shared);
    wake(w, 0, shared);
    return 0;
  }
  if (c->closed) {
    unlock(c, shared);
    return -EPIPE;
  }
  return wait_on(s, c, shared, &c->receivers, elem);
}

int cb_green_chan_recv(cb_green_chan *c, void *elem) {
  cb_green_sched *s = cb__green_tls();
  if (!s) return -EPERM;
  return __builtin_expect(s->mn == NULL, 1) ? do_recv(s, c, elem, 0) : do_recv(s, c, elem, 1);
}

int cb_green_chan_close(cb_green_chan *c) {
  int shared = cb__green_shared();
  lock(c, shared);
  if (c->closed) {
    unlock(c, shared);
    return -EPIPE;
  }
  c->closed = 1;
  cb_list woken; /* every waiter, woken once the lock is released */
  cb__list_init(&woken);
  cb_list *l;
  while ((l = cb__list_pop_front(&c->receivers))) cb__list_push_back(&woken, l);
  while ((l = cb__list_pop_front(&c->senders))) cb__list_push_back(&woken, l);
  unlock(c, shared);
  while ((l = cb__list_pop_front(&woken))) wake(cb__container_of(l, cb_green, link), -EPIPE, 1);
  return 0;
}
