/* test_asyncio_queues.c — CPython's Lib/test/test_asyncio/test_queues.py, ported:
 * QueueBasicTests, QueueGetTests, QueuePutTests, Lifo/PriorityQueueTests and the
 * join tests of each queue class (suites asyncio_queue_join,
 * asyncio_lifo_queue_join, asyncio_priority_queue_join). One test per Python
 * test, named after it; runtimes/loop/CONFORMANCE.md lists every case (repr,
 * shutdown and float maxsize among those that do not apply). QueueEmpty and
 * QueueFull are -EAGAIN; a value is a cb_val, its priority the item's prio. The
 * test body (an async test in Python) is the C test: "await asyncio.sleep(0)"
 * is one run_briefly, "await q.get()" on a non-empty queue get_nowait. */
#include "runtimes/loop/queue.h"
#include "tests/helpers/asyncio_port.h"

typedef struct { cb_co co; cb_queue *q; cb_qitem item; cb_err e; } get_frame;
static int get_co(cb_task *task, void *vf) {
  get_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_QUEUE_GET(f->q, &f->item);
  CB_RETURN(f->item.v);
  CB_CO_END();
}
static cb_task *getter(cb_loop *l, cb_queue *q) {
  cb_task *t = cb_create_task(l, get_co, sizeof(get_frame), "get");
  ((get_frame *)cb_task_frame(t))->q = q;
  return t;
}
typedef struct { cb_co co; cb_queue *q; uint64_t v; cb_err e; } put_frame;
static int put_co(cb_task *task, void *vf) {
  put_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_QUEUE_PUT(f->q, f->v, (cb_val){.u = f->v});
  CB_RETURN((cb_val){.u = 1});
  CB_CO_END();
}
static cb_task *putter(cb_loop *l, cb_queue *q, uint64_t v) {
  cb_task *t = cb_create_task(l, put_co, sizeof(put_frame), "put");
  ((put_frame *)cb_task_frame(t))->q = q;
  ((put_frame *)cb_task_frame(t))->v = v;
  return t;
}
static uint64_t run_get(cb_loop *l, cb_queue *q) { /* await q.get() from the test body */
  cb_task *t = getter(l, q);
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cr_assert_eq(cb_task_error(t).code, 0);
  uint64_t v = cb_task_result(t).u;
  cb_task_release(t);
  return v;
}
static void run_put(cb_loop *l, cb_queue *q, uint64_t v) {
  cb_task *t = putter(l, q, v);
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cr_assert_eq(cb_task_error(t).code, 0);
  cb_task_release(t);
}
static uint64_t get_nowait(cb_queue *q) {
  cb_qitem it;
  cr_assert_eq(cb_queue_get_nowait(q, &it), 0);
  return it.v.u;
}
static void put_nowait(cb_queue *q, uint64_t v) { cr_assert_eq(cb_queue_put_nowait(q, v, (cb_val){.u = v}), 0); }
static void drain(cb_loop *l, cb_task **ts, int n) {
  for (int i = 0; i < n; i++) {
    if (!cb_task_done(ts[i])) cb_task_cancel(ts[i], NULL);
    cb_loop_run_until_complete(l, cb_task_future(ts[i]));
    cb_task_release(ts[i]);
  }
}
static size_t list_len(cb_list *h) {
  size_t n = 0;
  for (cb_list *i = h->next; i != h; i = i->next) n++;
  return n;
}
#define SETUP(kind, maxsize)                          \
  cb_loop *l = cb_loop_new();                          \
  cb_queue q;                                          \
  cr_assert_eq(cb_queue_init(&q, kind, maxsize), 0)
#define TEARDOWN()      \
  cb_queue_destroy(&q); \
  cb_loop_close(l)

/* ---- QueueBasicTests ---- */

Test(asyncio_queues, test_empty) {
  SETUP(CB_QUEUE_FIFO, 0);
  cr_assert(cb_queue_empty(&q));
  run_put(l, &q, 1);
  cr_assert(!cb_queue_empty(&q));
  cr_assert_eq(run_get(l, &q), 1);
  cr_assert(cb_queue_empty(&q));
  TEARDOWN();
}

Test(asyncio_queues, test_full) {
  SETUP(CB_QUEUE_FIFO, 0);
  cr_assert(!cb_queue_full(&q));
  cb_queue q1;
  cb_queue_init(&q1, CB_QUEUE_FIFO, 1);
  run_put(l, &q1, 1);
  cr_assert(cb_queue_full(&q1));
  cb_queue_destroy(&q1);
  TEARDOWN();
}

static void check_order(int kind, const uint64_t *want) {
  SETUP(kind, 0);
  static const uint64_t in[3] = {1, 3, 2};
  for (int i = 0; i < 3; i++) run_put(l, &q, in[i]);
  for (int i = 0; i < 3; i++) cr_assert_eq(run_get(l, &q), want[i]);
  TEARDOWN();
}
Test(asyncio_queues, test_order) { check_order(CB_QUEUE_FIFO, (uint64_t[]){1, 3, 2}); }
Test(asyncio_lifo_queue, test_order) { check_order(CB_QUEUE_LIFO, (uint64_t[]){2, 3, 1}); }
Test(asyncio_priority_queue, test_order) { check_order(CB_QUEUE_PRIORITY, (uint64_t[]){1, 2, 3}); }

typedef struct { cb_co co; cb_queue *q; int i; int *have, *n; } mputter_frame;
static int maxsize_putter(cb_task *task, void *vf) {
  mputter_frame *f = vf;
  CB_CO_BEGIN(task, f);
  for (f->i = 0; f->i < 3; f->i++) {
    CB_QUEUE_PUT(f->q, 0, (cb_val){.u = (uint64_t)f->i});
    f->have[(*f->n)++] = f->i;
  }
  CB_RETURN((cb_val){.u = 1});
  CB_CO_END();
}
Test(asyncio_queues, test_maxsize) {
  SETUP(CB_QUEUE_FIFO, 2);
  cr_assert_eq(q.maxsize, 2);
  int have[4], n = 0;
  cb_task *t = cb_create_task(l, maxsize_putter, sizeof(mputter_frame), NULL);
  *(mputter_frame *)cb_task_frame(t) = (mputter_frame){.q = &q, .have = have, .n = &n};
  run_briefly(l);
  run_briefly(l);
  cr_assert_eq(n, 2, "the putter is blocked after putting two items");
  cr_assert_eq(get_nowait(&q), 0);
  run_briefly(l);
  cr_assert_eq(n, 3);
  cr_assert_eq(get_nowait(&q), 1);
  cr_assert_eq(get_nowait(&q), 2);
  cr_assert(cb_task_done(t));
  cr_assert_eq(cb_task_result(t).u, 1);
  drain(l, &t, 1);
  TEARDOWN();
}

/* ---- QueueGetTests ---- */

Test(asyncio_queue_get, test_blocking_get) {
  SETUP(CB_QUEUE_FIFO, 0);
  put_nowait(&q, 1);
  cr_assert_eq(run_get(l, &q), 1);
  TEARDOWN();
}

static void put_1(void *q) { put_nowait(q, 1); }
Test(asyncio_queue_get, test_blocking_get_wait) {
  SETUP(CB_QUEUE_FIFO, 0);
  cb_task *t = getter(l, &q);
  run_briefly(l);
  cr_assert(!cb_task_done(t));
  cb_timer tm = {0};
  cb_call_later(l, &tm, 5 * MS, put_1, &q);
  cb_loop_run_until_complete(l, cb_task_future(t));
  cr_assert_eq(cb_task_result(t).u, 1);
  drain(l, &t, 1);
  TEARDOWN();
}

Test(asyncio_queue_get, test_nonblocking_get) {
  SETUP(CB_QUEUE_FIFO, 0);
  put_nowait(&q, 1);
  cr_assert_eq(get_nowait(&q), 1);
  TEARDOWN();
}

Test(asyncio_queue_get, test_nonblocking_get_exception) {
  SETUP(CB_QUEUE_FIFO, 0);
  cb_qitem it;
  cr_assert_eq(cb_queue_get_nowait(&q, &it), -EAGAIN, "QueueEmpty");
  TEARDOWN();
}

Test(asyncio_queue_get, test_get_cancelled_race) {
  SETUP(CB_QUEUE_FIFO, 0);
  cb_task *t1 = getter(l, &q), *t2 = getter(l, &q);
  run_briefly(l);
  cb_task_cancel(t1, NULL);
  run_briefly(l);
  cr_assert(cb_task_done(t1));
  run_put(l, &q, 'a');
  run_briefly(l);
  cb_loop_run_until_complete(l, cb_task_future(t2));
  cr_assert_eq(cb_task_result(t2).u, 'a');
  drain(l, (cb_task *[]){t1, t2}, 2);
  TEARDOWN();
}

Test(asyncio_queue_get, test_get_with_waiting_putters) {
  SETUP(CB_QUEUE_FIFO, 1);
  cb_task *pa = putter(l, &q, 'a'), *pb = putter(l, &q, 'b');
  cr_assert_eq(run_get(l, &q), 'a');
  cr_assert_eq(run_get(l, &q), 'b');
  drain(l, (cb_task *[]){pa, pb}, 2);
  TEARDOWN();
}

typedef struct { cb_co co; cb_queue *q; int i, n; cb_qitem it; } pc_frame;
static int consumer(cb_task *task, void *vf) {
  pc_frame *f = vf;
  CB_CO_BEGIN(task, f);
  for (f->i = 0; f->i < f->n; f->i++) CB_QUEUE_GET(f->q, &f->it);
  CB_CO_END();
}
static int producer(cb_task *task, void *vf) {
  pc_frame *f = vf;
  CB_CO_BEGIN(task, f);
  for (f->i = 0; f->i < f->n; f->i++) CB_QUEUE_PUT(f->q, 0, (cb_val){.u = (uint64_t)f->i});
  CB_CO_END();
}
Test(asyncio_queue_get, test_why_are_getters_waiting) {
  SETUP(CB_QUEUE_FIFO, 1);
  cb_task *p = cb_create_task(l, producer, sizeof(pc_frame), NULL);
  *(pc_frame *)cb_task_frame(p) = (pc_frame){.q = &q, .n = 5};
  cb_task *c = cb_create_task(l, consumer, sizeof(pc_frame), NULL);
  *(pc_frame *)cb_task_frame(c) = (pc_frame){.q = &q, .n = 5};
  cb_loop_run_until_complete(l, cb_task_future(p));
  cb_loop_run_until_complete(l, cb_task_future(c));
  cr_assert_eq(cb_task_error(p).code, 0);
  cr_assert_eq(cb_task_error(c).code, 0);
  drain(l, (cb_task *[]){p, c}, 2);
  TEARDOWN();
}

Test(asyncio_queue_get, test_cancelled_getters_not_being_held_in_self_getters) {
  SETUP(CB_QUEUE_FIFO, 5);
  cb_task *g = getter(l, &q);
  cb_wait_for wf;
  cb_wait_for_init(&wf, l, cb_task_future(g), 10 * MS);
  cb_loop_run_until_complete(l, &wf.fut);
  cr_assert_eq(cb_future_error(&wf.fut).code, -ETIMEDOUT);
  cr_assert(cb__list_empty(&q.getters));
  drain(l, &g, 1);
  TEARDOWN();
}

/* ---- QueuePutTests ---- */

Test(asyncio_queue_put, test_blocking_put) {
  SETUP(CB_QUEUE_FIFO, 0);
  run_put(l, &q, 1); /* no maxsize: does not block */
  cr_assert_eq(run_get(l, &q), 1);
  TEARDOWN();
}

typedef struct { cb_co co; cb_queue *q; int finished; } bpw_frame;
static int queue_put_12(cb_task *task, void *vf) {
  bpw_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_QUEUE_PUT(f->q, 0, (cb_val){.u = 1});
  CB_QUEUE_PUT(f->q, 0, (cb_val){.u = 2});
  f->finished = 1;
  CB_CO_END();
}
static void get_1(void *q) { cb_qitem it; cb_queue_get_nowait(q, &it); }
Test(asyncio_queue_put, test_blocking_put_wait) {
  SETUP(CB_QUEUE_FIFO, 1);
  cb_timer tm = {0};
  cb_call_later(l, &tm, 5 * MS, get_1, &q);
  cb_task *t = cb_create_task(l, queue_put_12, sizeof(bpw_frame), NULL);
  ((bpw_frame *)cb_task_frame(t))->q = &q;
  run_briefly(l);
  cr_assert(!((bpw_frame *)cb_task_frame(t))->finished);
  cb_loop_run_until_complete(l, cb_task_future(t));
  cr_assert(((bpw_frame *)cb_task_frame(t))->finished);
  drain(l, &t, 1);
  TEARDOWN();
}

Test(asyncio_queue_put, test_nonblocking_put) {
  SETUP(CB_QUEUE_FIFO, 0);
  put_nowait(&q, 1);
  cr_assert_eq(get_nowait(&q), 1);
  TEARDOWN();
}

Test(asyncio_queue_put, test_get_cancel_drop_one_pending_reader) {
  SETUP(CB_QUEUE_FIFO, 0);
  cb_task *reader = getter(l, &q);
  run_briefly(l);
  put_nowait(&q, 1);
  put_nowait(&q, 2);
  cb_task_cancel(reader, NULL);
  cb_loop_run_until_complete(l, cb_task_future(reader));
  if (cb_task_cancelled(reader)) { /* try again */
    cb_task_release(reader);
    reader = getter(l, &q);
    cb_loop_run_until_complete(l, cb_task_future(reader));
  }
  cr_assert_eq(cb_task_result(reader).u, 1, "if we get 2, 1 got dropped");
  drain(l, &reader, 1);
  TEARDOWN();
}

Test(asyncio_queue_put, test_get_cancel_drop_many_pending_readers) {
  SETUP(CB_QUEUE_FIFO, 0);
  cb_task *r1 = getter(l, &q), *r2 = getter(l, &q), *r3 = getter(l, &q);
  run_briefly(l);
  put_nowait(&q, 1);
  put_nowait(&q, 2);
  cb_task_cancel(r1, NULL);
  cb_loop_run_until_complete(l, cb_task_future(r1));
  cr_assert(cb_task_cancelled(r1));
  cb_loop_run_until_complete(l, cb_task_future(r3));
  cb_loop_run_until_complete(l, cb_task_future(r2));
  uint64_t a = cb_task_result(r2).u, b = cb_task_result(r3).u;
  cr_assert((a == 1 && b == 2) || (a == 2 && b == 1), "{%lu, %lu}", (unsigned long)a, (unsigned long)b);
  drain(l, (cb_task *[]){r1, r2, r3}, 3);
  TEARDOWN();
}

Test(asyncio_queue_put, test_put_cancel_drop) {
  SETUP(CB_QUEUE_FIFO, 1);
  put_nowait(&q, 1);
  cb_task *writer = putter(l, &q, 2); /* has to block */
  run_briefly(l);
  cr_assert_eq(get_nowait(&q), 1);
  cb_task_cancel(writer, NULL);
  cb_loop_run_until_complete(l, cb_task_future(writer));
  if (cb_task_cancelled(writer)) {
    cb_task_release(writer);
    writer = putter(l, &q, 2);
    cb_loop_run_until_complete(l, cb_task_future(writer));
  }
  cr_assert_eq(get_nowait(&q), 2);
  cr_assert_eq(cb_queue_size(&q), 0);
  drain(l, &writer, 1);
  TEARDOWN();
}

Test(asyncio_queue_put, test_nonblocking_put_exception) {
  SETUP(CB_QUEUE_FIFO, 1);
  put_nowait(&q, 1);
  cr_assert_eq(cb_queue_put_nowait(&q, 2, (cb_val){.u = 2}), -EAGAIN, "QueueFull");
  TEARDOWN();
}

Test(asyncio_queue_put, test_put_cancelled) {
  SETUP(CB_QUEUE_FIFO, 0);
  cb_task *t = putter(l, &q, 1);
  cr_assert_eq(run_get(l, &q), 1);
  cr_assert(cb_task_done(t));
  cr_assert_eq(cb_task_result(t).u, 1);
  drain(l, &t, 1);
  TEARDOWN();
}

Test(asyncio_queue_put, test_put_cancelled_race) {
  SETUP(CB_QUEUE_FIFO, 1);
  cb_task *pa = putter(l, &q, 'a'), *pb = putter(l, &q, 'b'), *pc = putter(l, &q, 'X');
  run_briefly(l);
  cr_assert(cb_task_done(pa));
  cr_assert(!cb_task_done(pb));
  cb_task_cancel(pc, NULL);
  run_briefly(l);
  cr_assert(cb_task_done(pc));
  cr_assert_eq(get_nowait(&q), 'a');
  run_briefly(l);
  cr_assert_eq(get_nowait(&q), 'b');
  cb_loop_run_until_complete(l, cb_task_future(pb));
  cr_assert_eq(cb_task_error(pb).code, 0);
  drain(l, (cb_task *[]){pa, pb, pc}, 3);
  TEARDOWN();
}

Test(asyncio_queue_put, test_put_with_waiting_getters) {
  SETUP(CB_QUEUE_FIFO, 0);
  cb_task *t = getter(l, &q);
  run_briefly(l);
  run_put(l, &q, 'a');
  cb_loop_run_until_complete(l, cb_task_future(t));
  cr_assert_eq(cb_task_result(t).u, 'a');
  drain(l, &t, 1);
  TEARDOWN();
}

typedef struct { cb_co co; cb_queue *q; } wapg_frame;
static int why_getter(cb_task *task, void *vf) {
  wapg_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_SLEEP(0);
  for (size_t i = 0, num = cb_queue_size(f->q); i < num; i++) get_1(f->q);
  CB_CO_END();
}
Test(asyncio_queue_put, test_why_are_putters_waiting) {
  SETUP(CB_QUEUE_FIFO, 2);
  cb_task *g = cb_create_task(l, why_getter, sizeof(wapg_frame), NULL);
  ((wapg_frame *)cb_task_frame(g))->q = &q;
  cb_task *p[4];
  for (int i = 0; i < 4; i++) p[i] = putter(l, &q, (uint64_t)i);
  for (int i = 0; i < 4; i++) {
    cb_loop_run_until_complete(l, cb_task_future(p[i]));
    cr_assert_eq(cb_task_error(p[i]).code, 0, "putter %d", i);
  }
  drain(l, p, 4);
  drain(l, &g, 1);
  TEARDOWN();
}

Test(asyncio_queue_put, test_cancelled_puts_not_being_held_in_self_putters) {
  SETUP(CB_QUEUE_FIFO, 1);
  put_nowait(&q, 1);
  cb_task *put_task = putter(l, &q, 1);
  run_briefly(l);
  cr_assert_eq(list_len(&q.putters), 1);
  cb_task_cancel(put_task, NULL);
  cb_loop_run_until_complete(l, cb_task_future(put_task));
  cr_assert(cb_task_cancelled(put_task));
  cr_assert_eq(list_len(&q.putters), 0);
  drain(l, &put_task, 1);
  TEARDOWN();
}

Test(asyncio_queue_put, test_cancelled_put_silence_value_error_exception) {
  SETUP(CB_QUEUE_FIFO, 1);
  put_nowait(&q, 1);
  cb_task *put_task = putter(l, &q, 1);
  run_briefly(l);
  get_1(&q); /* wakes the putter: it leaves q.putters */
  cb_task_cancel(put_task, NULL);
  cb_loop_run_until_complete(l, cb_task_future(put_task));
  cr_assert(cb_task_cancelled(put_task));
  drain(l, &put_task, 1);
  TEARDOWN();
}

/* ---- _QueueJoinTestMixin, for each queue class ---- */

static void check_task_done_underflow(int kind) {
  SETUP(kind, 0);
  cr_assert_eq(cb_queue_task_done(&q), -EINVAL, "ValueError");
  TEARDOWN();
}

typedef struct { cb_co co; cb_queue *q; int *running; uint64_t *acc; cb_qitem it; } worker_frame;
static int worker(cb_task *task, void *vf) {
  worker_frame *f = vf;
  CB_CO_BEGIN(task, f);
  while (*f->running) {
    CB_QUEUE_GET(f->q, &f->it);
    *f->acc += f->it.v.u;
    cb_queue_task_done(f->q);
  }
  CB_CO_END();
}
typedef struct { cb_co co; cb_queue *q; } join_frame;
static int join_co(cb_task *task, void *vf) {
  join_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_QUEUE_JOIN(f->q);
  CB_CO_END();
}
static void run_join(cb_loop *l, cb_queue *q) {
  cb_task *j = cb_create_task(l, join_co, sizeof(join_frame), NULL);
  ((join_frame *)cb_task_frame(j))->q = q;
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(j)), 0);
  cr_assert_eq(cb_task_error(j).code, 0);
  cb_task_release(j);
}
static void check_task_done(int kind) {
  SETUP(kind, 0);
  for (uint64_t i = 0; i < 100; i++) put_nowait(&q, i);
  uint64_t acc = 0;
  int running = 1;
  cb_task *w[2];
  for (int i = 0; i < 2; i++) {
    w[i] = cb_create_task(l, worker, sizeof(worker_frame), NULL);
    *(worker_frame *)cb_task_frame(w[i]) = (worker_frame){.q = &q, .running = &running, .acc = &acc};
  }
  run_join(l, &q);
  cr_assert_eq(acc, 4950);
  running = 0; /* close the workers */
  for (int i = 0; i < 2; i++) put_nowait(&q, 0);
  for (int i = 0; i < 2; i++) cb_loop_run_until_complete(l, cb_task_future(w[i]));
  drain(l, w, 2);
  TEARDOWN();
}
static void check_join_empty_queue(int kind) {
  SETUP(kind, 0);
  run_join(l, &q); /* done twice for insurance */
  run_join(l, &q);
  TEARDOWN();
}
Test(asyncio_queue_join, test_task_done_underflow) { check_task_done_underflow(CB_QUEUE_FIFO); }
Test(asyncio_queue_join, test_task_done) { check_task_done(CB_QUEUE_FIFO); }
Test(asyncio_queue_join, test_join_empty_queue) { check_join_empty_queue(CB_QUEUE_FIFO); }
Test(asyncio_lifo_queue_join, test_task_done_underflow) { check_task_done_underflow(CB_QUEUE_LIFO); }
Test(asyncio_lifo_queue_join, test_task_done) { check_task_done(CB_QUEUE_LIFO); }
Test(asyncio_lifo_queue_join, test_join_empty_queue) { check_join_empty_queue(CB_QUEUE_LIFO); }
Test(asyncio_priority_queue_join, test_task_done_underflow) { check_task_done_underflow(CB_QUEUE_PRIORITY); }
Test(asyncio_priority_queue_join, test_task_done) { check_task_done(CB_QUEUE_PRIORITY); }
Test(asyncio_priority_queue_join, test_join_empty_queue) { check_join_empty_queue(CB_QUEUE_PRIORITY); }
