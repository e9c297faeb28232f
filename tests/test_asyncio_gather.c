/* test_asyncio_gather.c — the gather tests of CPython's test_tasks.py, ported:
 * GatherTestsBase runs twice, on futures (FutureGatherTests: suite
 * asyncio_gather_futures) and on coroutines awaiting them (CoroutineGatherTests:
 * asyncio_gather_coroutines, each a task here); then each class's own tests.
 * A gather's results stay in its children (C has no result list). */
#include "tests/helpers/asyncio_port.h"

/* Children: the futures themselves, or tasks awaiting them (coroutines). */
typedef struct {
  cb_loop *l;
  ap_exc_log log;
  cb_future f[6];
  cb_task *t[6];
  cb_future *kids[6];
  cb_slot slots[6];
  cb_gather g;
  int n, coros, calls;
  cb_handle cb;
} gx;
static void count_cb(void *arg) { ((gx *)arg)->calls++; }
static void gx_init(gx *x, int n, int coros, int return_exceptions) {
  memset(x, 0, sizeof *x);
  x->l = new_loop_logged(&x->log);
  x->n = n;
  x->coros = coros;
  for (int i = 0; i < n; i++) {
    cb_future_init(&x->f[i], x->l);
    x->t[i] = coros ? task_awaiting(x->l, &x->f[i], NULL) : NULL;
    x->kids[i] = coros ? cb_task_future(x->t[i]) : &x->f[i];
  }
  if (coros) run_briefly(x->l); /* _gather runs the loop once to make the coroutine-gather */
  cb_gather_init(&x->g, x->l, x->kids, x->slots, (size_t)n, return_exceptions);
  cb_future_add_done_callback(&x->g.fut, &x->cb, count_cb, x);
}
static uint64_t gx_result(gx *x, int i) { return cb_future_result(x->kids[i]).u; }
static void gx_close(gx *x) {
  run_ready(x->l);
  for (int i = 0; i < x->n; i++) {
    if (!x->coros) continue;
    if (!cb_task_done(x->t[i])) {
      cb_task_cancel(x->t[i], NULL);
      cb_loop_run_until_complete(x->l, cb_task_future(x->t[i]));
    }
    cb_task_release(x->t[i]);
  }
  cb_loop_close(x->l);
  cr_assert_eq(x->log.n, 0, "nothing reported: %s", x->log.last);
}

static void check_success(int coros, int return_exceptions) {
  gx x;
  gx_init(&x, 3, coros, return_exceptions);
  cb_future_set_result(&x.f[1], (cb_val){.u = 1});
  cb_future_set_result(&x.f[0], (cb_val){.u = 2});
  run_ready(x.l);
  cr_assert_eq(x.calls, 0);
  cr_assert(!cb_future_done(&x.g.fut));
  cb_future_set_result(&x.f[2], (cb_val){.u = 3});
  run_ready(x.l);
  cr_assert_eq(x.calls, 1);
  cr_assert_eq(cb_future_error(&x.g.fut).code, 0);
  cr_assert_eq(gx_result(&x, 0), 2);
  cr_assert_eq(gx_result(&x, 1), 1);
  cr_assert_eq(gx_result(&x, 2), 3);
  gx_close(&x);
}

static void check_one_exception(int coros) {
  gx x;
  gx_init(&x, 5, coros, 0);
  cb_future_set_result(&x.f[0], (cb_val){.u = 1});
  cb_future_set_error(&x.f[1], -EDOM, "ZeroDivisionError");
  run_ready(x.l);
  cr_assert(cb_future_done(&x.g.fut));
  cr_assert_eq(x.calls, 1);
  cb_err e = cb_future_error(&x.g.fut);
  cr_assert_eq(e.code, -EDOM);
  assert_msg(e.msg, "ZeroDivisionError");
  /* Does nothing (and, for the coroutines, nothing is reported as never retrieved) */
  cb_future_set_result(&x.f[2], (cb_val){.u = 3});
  cb_future_cancel(&x.f[3], NULL);
  cb_future_set_error(&x.f[4], -ERANGE, "RuntimeError");
  cb_future_error(&x.f[4]);
  gx_close(&x);
}

static void check_return_exceptions(int coros) {
  gx x;
  gx_init(&x, 4, coros, 1);
  cb_future_set_result(&x.f[1], (cb_val){.u = 1});
  cb_future_set_error(&x.f[2], -EDOM, "ZeroDivisionError");
  cb_future_set_result(&x.f[0], (cb_val){.u = 3});
  run_ready(x.l);
  cr_assert(!cb_future_done(&x.g.fut));
  cb_future_set_error(&x.f[3], -ERANGE, "RuntimeError");
  run_ready(x.l);
  cr_assert(cb_future_done(&x.g.fut));
  cr_assert_eq(x.calls, 1);
  cr_assert_eq(cb_future_error(&x.g.fut).code, 0);
  cr_assert_eq(gx_result(&x, 0), 3);
  cr_assert_eq(gx_result(&x, 1), 1);
  cr_assert_eq(x.kids[2]->err, -EDOM);
  cr_assert_eq(x.kids[3]->err, -ERANGE);
  cr_assert(x.kids[2]->retrieved && x.kids[3]->retrieved, "the gather retrieved them");
  gx_close(&x);
}

Test(asyncio_gather_futures, test_success) { check_success(0, 0); }
Test(asyncio_gather_futures, test_result_exception_success) { check_success(0, 1); }
Test(asyncio_gather_futures, test_one_exception) { check_one_exception(0); }
Test(asyncio_gather_futures, test_return_exceptions) { check_return_exceptions(0); }
Test(asyncio_gather_coroutines, test_success) { check_success(1, 0); }
Test(asyncio_gather_coroutines, test_result_exception_success) { check_success(1, 1); }
Test(asyncio_gather_coroutines, test_one_exception) { check_one_exception(1); }
Test(asyncio_gather_coroutines, test_return_exceptions) { check_return_exceptions(1); }

/* ---- FutureGatherTests ---- */

Test(asyncio_gather_futures, test_constructor_empty_sequence_use_running_loop) {
  cb_loop *l = cb_loop_new();
  cb_gather g;
  cb_gather_init(&g, l, NULL, NULL, 0, 0);
  run_ready(l);
  cr_assert(cb_future_done(&g.fut));
  cr_assert_eq(cb_future_error(&g.fut).code, 0);
  cr_assert_eq(cb_future_result(&g.fut).u, 0, "[]");
  cb_loop_close(l);
}

/* One child cancelled: the gather is not cancelled, it finished with a
 * CancelledError (asyncio: fut.exception() is a CancelledError). */
Test(asyncio_gather_futures, test_one_cancellation) {
  gx x;
  gx_init(&x, 5, 0, 0);
  cb_future_set_result(&x.f[0], (cb_val){.u = 1});
  cb_future_cancel(&x.f[1], NULL);
  run_ready(x.l);
  cr_assert(cb_future_done(&x.g.fut));
  cr_assert_eq(x.calls, 1);
  cr_assert(!cb_future_cancelled(&x.g.fut));
  cr_assert_eq(cb_future_error(&x.g.fut).code, -ECANCELED);
  cb_future_set_result(&x.f[2], (cb_val){.u = 3});
  cb_future_cancel(&x.f[3], NULL);
  cb_future_set_error(&x.f[4], -ERANGE, "RuntimeError");
  cb_future_error(&x.f[4]);
  gx_close(&x);
}

Test(asyncio_gather_futures, test_result_exception_one_cancellation) {
  gx x;
  gx_init(&x, 6, 0, 1);
  cb_future_set_result(&x.f[0], (cb_val){.u = 1});
  cb_future_set_error(&x.f[1], -EDOM, "ZeroDivisionError");
  cb_future_cancel(&x.f[2], NULL);
  run_ready(x.l);
  cr_assert(!cb_future_done(&x.g.fut));
  cb_future_set_result(&x.f[3], (cb_val){.u = 3});
  cb_future_cancel(&x.f[4], NULL);
  cb_future_set_error(&x.f[5], -ERANGE, "RuntimeError");
  cr_assert_eq(cb_loop_run_until_complete(x.l, &x.g.fut), 0);
  cr_assert_eq(cb_future_error(&x.g.fut).code, 0);
  cr_assert(cb_future_cancelled(x.kids[2]));
  cr_assert(cb_future_cancelled(x.kids[4]));
  cr_assert_eq(gx_result(&x, 0), 1);
  cr_assert_eq(x.kids[1]->err, -EDOM);
  cr_assert_eq(gx_result(&x, 3), 3);
  cr_assert_eq(x.kids[5]->err, -ERANGE);
  cr_assert_eq(x.calls, 1);
  gx_close(&x);
}

/* ---- CoroutineGatherTests ---- */

typedef struct { cb_co co; uint64_t s; } coro_s_frame;
static int coro_s(cb_task *task, void *vf) {
  coro_s_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_RETURN((cb_val){.u = f->s});
  CB_CO_END();
}
/* The same awaitable passed several times: every position gets its result. */
Test(asyncio_gather_coroutines, test_duplicate_coroutines) {
  cb_loop *l = cb_loop_new();
  cb_task *c = cb_create_task(l, coro_s, sizeof(coro_s_frame), NULL);
  ((coro_s_frame *)cb_task_frame(c))->s = 0xabc;
  cb_task *d = cb_create_task(l, coro_s, sizeof(coro_s_frame), NULL);
  ((coro_s_frame *)cb_task_frame(d))->s = 0xdef;
  cb_future *kids[4] = {cb_task_future(c), cb_task_future(c), cb_task_future(d), cb_task_future(c)};
  cb_slot slots[4];
  cb_gather g;
  cb_gather_init(&g, l, kids, slots, 4, 0);
  run_ready(l);
  cr_assert(cb_future_done(&g.fut));
  static const uint64_t want[4] = {0xabc, 0xabc, 0xdef, 0xabc};
  for (int i = 0; i < 4; i++) cr_assert_eq(cb_future_result(kids[i]).u, want[i]);
  cb_task_release(c);
  cb_task_release(d);
  cb_loop_close(l);
}

/* Cancelling outer() cancels all children. */
typedef struct { cb_co co; cb_future *waiter; int *proof; } bc_inner_frame;
static int bc_inner(cb_task *task, void *vf) {
  bc_inner_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_AWAIT(f->waiter);
  *f->proof += 1;
  CB_CO_END();
}
typedef struct { cb_co co; cb_future *kids[2]; cb_slot slots[2]; cb_gather g; int *proof; } bc_outer_frame;
static int bc_outer(cb_task *task, void *vf) {
  bc_outer_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cb_gather_init(&f->g, cb_task_loop(task), f->kids, f->slots, 2, 0);
  CB_AWAIT(&f->g.fut);
  *f->proof += 100;
  CB_CO_END();
}
Test(asyncio_gather_coroutines, test_cancellation_broadcast) {
  cb_loop *l = cb_loop_new();
  int proof = 0;
  cb_future waiter;
  cb_future_init(&waiter, l);
  cb_task *child[2];
  for (int i = 0; i < 2; i++) {
    child[i] = cb_create_task(l, bc_inner, sizeof(bc_inner_frame), NULL);
    *(bc_inner_frame *)cb_task_frame(child[i]) = (bc_inner_frame){.waiter = &waiter, .proof = &proof};
  }
  cb_task *f = cb_create_task(l, bc_outer, sizeof(bc_outer_frame), NULL);
  bc_outer_frame *of = cb_task_frame(f);
  of->kids[0] = cb_task_future(child[0]);
  of->kids[1] = cb_task_future(child[1]);
  of->proof = &proof;
  run_briefly(l);
  cr_assert_eq(cb_task_cancel(f, NULL), 1);
  cb_loop_run_until_complete(l, cb_task_future(f));
  cr_assert(cb_task_cancelled(f));
  cr_assert_eq(cb_future_cancel(&of->g.fut, NULL), 0);
  cr_assert(cb_future_cancelled(&waiter));
  cr_assert(cb_task_cancelled(child[0]));
  cr_assert(cb_task_cancelled(child[1]));
  run_briefly(l);
  cr_assert_eq(proof, 0);
  cb_task_release(child[0]);
  cb_task_release(child[1]);
  cb_task_release(f);
  cb_loop_close(l);
}

/* "Mark exception retrieved": the second child's error, after the gather is
 * done, is not reported as never retrieved. */
typedef struct { cb_co co; cb_future *f; } em_inner_frame;
static int em_inner(cb_task *task, void *vf) {
  em_inner_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_AWAIT(f->f);
  CB_RAISE(-ERANGE, "should not be ignored");
  CB_CO_END();
}
typedef struct { cb_co co; cb_future *a, *b; cb_task *kt[2]; cb_future *kids[2]; cb_slot slots[2]; cb_gather g; } em_outer_frame;
static int em_outer(cb_task *task, void *vf) {
  em_outer_frame *f = vf;
  CB_CO_BEGIN(task, f);
  for (int i = 0; i < 2; i++) {
    f->kt[i] = cb_create_task(cb_task_loop(task), em_inner, sizeof(em_inner_frame), NULL);
    ((em_inner_frame *)cb_task_frame(f->kt[i]))->f = i ? f->b : f->a;
    f->kids[i] = cb_task_future(f->kt[i]);
  }
  cb_gather_init(&f->g, cb_task_loop(task), f->kids, f->slots, 2, 0);
  CB_AWAIT(&f->g.fut);
  CB_CO_END();
}
Test(asyncio_gather_coroutines, test_exception_marking) {
  ap_exc_log log;
  cb_loop *l = new_loop_logged(&log);
  cb_future a, b;
  cb_future_init(&a, l);
  cb_future_init(&b, l);
  cb_task *f = cb_create_task(l, em_outer, sizeof(em_outer_frame), NULL);
  em_outer_frame *of = cb_task_frame(f);
  of->a = &a;
  of->b = &b;
  run_briefly(l);
  cb_future_set_result(&a, (cb_val){0});
  run_briefly(l);
  cb_future_set_result(&b, (cb_val){0});
  run_briefly(l);
  run_ready(l);
  cr_assert(cb_task_done(f));
  cr_assert_eq(cb_task_error(f).code, -ERANGE);
  cr_assert(cb_task_done(of->kt[1]));
  cb_task_release(of->kt[0]);
  cb_task_release(of->kt[1]);
  cb_task_release(f);
  cb_loop_close(l);
  cr_assert_eq(log.n, 0, "reported: %s", log.last);
}
