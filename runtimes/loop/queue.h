/* queue.h — Queue, LifoQueue, PriorityQueue (asyncio.Queue and friends).
 *
 * Items are (prio, value) pairs; FIFO and LIFO ignore prio, PRIORITY pops the
 * smallest prio first (FIFO among equal ones). maxsize 0 = unbounded. put
 * suspends while full, get while empty; the _nowait forms fail with -EAGAIN
 * instead (QueueFull / QueueEmpty). task_done/join count unfinished items.
 * Storage: one buffer, grown by doubling when unbounded (amortised O(1) put);
 * FIFO/LIFO O(1), PRIORITY O(log n). Waiters park without allocating. */
#ifndef CB_LOOP_QUEUE_H
#define CB_LOOP_QUEUE_H

#include "runtimes/loop/task.h"

enum { CB_QUEUE_FIFO, CB_QUEUE_LIFO, CB_QUEUE_PRIORITY };

typedef struct cb_qitem {
  uint64_t prio;
  cb_val v;
  uint64_t seq; /* internal: FIFO order among equal priorities */
} cb_qitem;

typedef struct cb_queue {
  cb_qitem *buf;
  size_t cap, len, head; /* head: FIFO ring start */
  size_t maxsize;
  uint64_t seq, unfinished;
  int kind;
  cb_list getters, putters, joiners;
} cb_queue;

/* 0 or -ENOMEM. */
int cb_queue_init(cb_queue *q, int kind, size_t maxsize);
/* Frees the buffer; no task may be waiting on q. */
void cb_queue_destroy(cb_queue *q);

static inline size_t cb_queue_size(const cb_queue *q) { return q->len; }
static inline int cb_queue_empty(const cb_queue *q) { return q->len == 0; }
static inline int cb_queue_full(const cb_queue *q) { return q->maxsize && q->len >= q->maxsize; }

/* 0, -EAGAIN when full (QueueFull), -ENOMEM. Wakes one getter. */
int cb_queue_put_nowait(cb_queue *q, uint64_t prio, cb_val v);
/* 0, -EAGAIN when empty (QueueEmpty). Wakes one putter. */
int cb_queue_get_nowait(cb_queue *q, cb_qitem *out);
/* 0, or -EINVAL when called more times than items were put. */
int cb_queue_task_done(cb_queue *q);

#define CB__QWAIT_L(lbl, cond, list, q, err_lv)                                       \
  do {                                                                                \
    (err_lv) = (cb_err){0, NULL};                                                     \
    while (cond) {                                                                    \
      if (!cb__t->throw_err && cb__task_park(cb__t, (list))) {                        \
        cb__co->label = (lbl);                                                        \
        return CB_CO_PENDING;                                                         \
      case (lbl):;                                                                    \
      }                                                                               \
      (err_lv) = cb__queue_outcome(cb__t, (q), (list));                               \
      if ((err_lv).code) break;                                                       \
    }                                                                                 \
  } while (0)

/* put: waits while full, then puts. */
#define CB_QUEUE_PUT_TRY(q, prio, val, err_lv)                                                  \
  do {                                                                                          \
    CB__QWAIT_L(__COUNTER__ + 1, cb_queue_full(q), &(q)->putters, q, err_lv);                   \
    if (!(err_lv).code) (err_lv).code = cb_queue_put_nowait((q), (prio), (val));                \
  } while (0)
#define CB_QUEUE_PUT(q, prio, val) \
  do { CB_QUEUE_PUT_TRY(q, prio, val, cb__e); CB__RAISE_IF(cb__e); } while (0)

/* get: waits while empty, then pops into *out (a frame field). */
#define CB_QUEUE_GET_TRY(q, out, err_lv)                                         \
  do {                                                                           \
    CB__QWAIT_L(__COUNTER__ + 1, cb_queue_empty(q), &(q)->getters, q, err_lv);   \
    if (!(err_lv).code) CB_CHECK_QUEUE(cb_queue_get_nowait((q), (out)) == 0);    \
  } while (0)
#define CB_QUEUE_GET(q, out) \
  do { CB_QUEUE_GET_TRY(q, out, cb__e); CB__RAISE_IF(cb__e); } while (0)

/* join: waits until every item put has been marked task_done. */
#define CB_QUEUE_JOIN_TRY(q, err_lv) CB__QWAIT_L(__COUNTER__ + 1, (q)->unfinished > 0, &(q)->joiners, q, err_lv)
#define CB_QUEUE_JOIN(q) \
  do { CB_QUEUE_JOIN_TRY(q, cb__e); CB__RAISE_IF(cb__e); } while (0)

/* internals */
#define CB_CHECK_QUEUE(expr) cb__queue_check((expr), #expr)
void cb__queue_check(int ok, const char *what);
/* After a wakeup: takes a pending cancellation; a cancelled getter/putter that
 * had been woken passes the wakeup to the next one. */
cb_err cb__queue_outcome(cb_task *t, cb_queue *q, cb_list *list);

#endif
