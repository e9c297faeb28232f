/* queue.c — FIFO ring, LIFO stack, priority heap behind one cb_queue. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "runtimes/loop/loop_int.h"
#include "runtimes/loop/queue.h"

void cb__queue_check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "concbench loop: queue invariant failed: %s\n", what);
    abort();
  }
}

int cb_queue_init(cb_queue *q, int kind, size_t maxsize) {
  CB_CHECK(kind >= CB_QUEUE_FIFO && kind <= CB_QUEUE_PRIORITY);
  *q = (cb_queue){.kind = kind, .maxsize = maxsize};
  q->cap = maxsize ? maxsize : 16;
  q->buf = malloc(q->cap * sizeof *q->buf);
  if (!q->buf) return -ENOMEM;
  cb__list_init(&q->getters);
  cb__list_init(&q->putters);
  cb__list_init(&q->joiners);
  return 0;
}

void cb_queue_destroy(cb_queue *q) {
  CB_CHECK(cb__list_empty(&q->getters) && cb__list_empty(&q->putters) && cb__list_empty(&q->joiners));
  free(q->buf);
  q->buf = NULL;
}

static void wake_one(cb_list *list) {
  if (!cb__list_empty(list)) cb__task_unpark(cb__task_of_node(list->next), 1);
}

static int before(const cb_qitem *a, const cb_qitem *b) {
  return a->prio < b->prio || (a->prio == b->prio && a->seq < b->seq);
}

static int grow(cb_queue *q) {
  size_t cap = 2 * q->cap;
  cb_qitem *b = malloc(cap * sizeof *b);
  if (!b) return -ENOMEM;
  for (size_t i = 0; i < q->len; i++) /* unwraps the FIFO ring */
    b[i] = q->buf[q->kind == CB_QUEUE_FIFO ? (q->head + i) % q->cap : i];
  free(q->buf);
  q->buf = b;
  q->cap = cap;
  q->head = 0;
  return 0;
}

int cb_queue_put_nowait(cb_queue *q, uint64_t prio, cb_val v) {
  if (cb_queue_full(q)) return -EAGAIN;
  if (q->len == q->cap && grow(q) != 0) return -ENOMEM;
  cb_qitem it = {.prio = prio, .v = v, .seq = q->seq++};
  if (q->kind == CB_QUEUE_FIFO) {
    size_t at = q->head + q->len; /* < 2 cap: a subtraction, not a division, wraps it */
    q->buf[at >= q->cap ? at - q->cap : at] = it;
  } else if (q->kind == CB_QUEUE_LIFO) {
    q->buf[q->len] = it;
  } else {
    size_t i = q->len;
    while (i > 0 && before(&it, &q->buf[(i - 1) / 2])) {
      q->buf[i] = q->buf[(i - 1) / 2];
      i = (i - 1) / 2;
    }
    q->buf[i] = it;
  }
  q->len++;
  q->unfinished++;
  wake_one(&q->getters);
  return 0;
}

int cb_queue_get_nowait(cb_queue *q, cb_qitem *out) {
  if (q->len == 0) return -EAGAIN;
  if (q->kind == CB_QUEUE_FIFO) {
    *out = q->buf[q->head];
    if (++q->head == q->cap) q->head = 0;
    q->len--;
  } else if (q->kind == CB_QUEUE_LIFO) {
    *out = q->buf[--q->len];
  } else {
    *out = q->buf[0];
    cb_qitem last = q->buf[--q->len];
    size_t i = 0;
    for (;;) {
      size_t c = 2 * i + 1;
      if (c >= q->len) break;
      if (c + 1 < q->len && before(&q->buf[c + 1], &q->buf[c])) c++;
      if (!before(&q->buf[c], &last)) break;
      q->buf[i] = q->buf[c];
      i = c;
    }
    if (q->len) q->buf[i] = last;
  }
  wake_one(&q->putters);
  return 0;
}

int cb_queue_task_done(cb_queue *q) {
  if (q->unfinished == 0) return -EINVAL;
  if (--q->unfinished == 0)
    while (!cb__list_empty(&q->joiners)) cb__task_unpark(cb__task_of_node(q->joiners.next), 1);
  return 0;
}

cb_err cb__queue_outcome(cb_task *t, cb_queue *q, cb_list *list) {
  int g = t->granted;
  t->granted = 0;
  cb_err e = cb__task_take_throw(t);
  if (e.code && g) {
    if (list == &q->getters && !cb_queue_empty(q)) wake_one(list);
    if (list == &q->putters && !cb_queue_full(q)) wake_one(list);
  }
  return e;
}
