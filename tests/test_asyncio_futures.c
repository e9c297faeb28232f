/* test_asyncio_futures.c — CPython's Lib/test/test_asyncio/test_futures.py, ported:
 * one test per Python test, named after it (runtimes/loop/CONFORMANCE.md lists
 * every case, with the ones that do not apply and why). "C result()" is
 * cb_future_error (the error check, which marks it retrieved) then
 * cb_future_result. */
#include "tests/helpers/asyncio_port.h"

/* ---- BaseFutureTests ---- */

Test(asyncio_futures, test_initial_state) {
  cb_loop *l = cb_loop_new();
  cb_future f;
  cb_future_init(&f, l);
  cr_assert(!cb_future_cancelled(&f));
  cr_assert(!cb_future_done(&f));
  cb_future_cancel(&f, NULL);
  cr_assert(cb_future_cancelled(&f));
  cb_loop_close(l);
}

Test(asyncio_futures, test_future_cancel_message_getter) {
  cb_loop *l = cb_loop_new();
  cb_future f;
  cb_future_init(&f, l);
  cr_assert_null(f.msg);
  cb_future_cancel(&f, "my message");
  cr_assert_eq(cb_loop_run_until_complete(l, &f), 0);
  cr_assert_eq(cb_future_error(&f).code, -ECANCELED);
  assert_msg(f.msg, "my message");
  cb_loop_close(l);
}

/* The message set after cancel() is the one an awaiter's CancelledError carries. */
Test(asyncio_futures, test_future_cancel_message_setter) {
  cb_loop *l = cb_loop_new();
  cb_future f;
  cb_future_init(&f, l);
  cb_future_cancel(&f, "my message");
  f.msg = "my new message";
  assert_msg(f.msg, "my new message");
  cb_task *t = task_awaiting(l, &f, NULL);
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cb_err e = cb_task_error(t);
  cr_assert_eq(e.code, -ECANCELED);
  assert_msg(e.msg, "my new message");
  cb_task_release(t);
  cb_loop_close(l);
}

Test(asyncio_futures, test_cancel) {
  cb_loop *l = cb_loop_new();
  cb_future f;
  cb_future_init(&f, l);
  cr_assert_eq(cb_future_cancel(&f, NULL), 1);
  cr_assert(cb_future_cancelled(&f));
  cr_assert(cb_future_done(&f));
  cr_assert_eq(cb_future_error(&f).code, -ECANCELED); /* result() and exception() raise */
  cr_assert_eq(cb_future_set_result(&f, (cb_val){0}), -EINVAL);
  cr_assert_eq(cb_future_set_error(&f, -EIO, NULL), -EINVAL);
  cr_assert_eq(cb_future_cancel(&f, NULL), 0);
  cb_loop_close(l);
}

Test(asyncio_futures, test_result) {
  cb_loop *l = cb_loop_new();
  cb_future f;
  cb_future_init(&f, l);
  cr_assert_eq(cb_future_set_result(&f, (cb_val){.u = 42}), 0);
  cr_assert(!cb_future_cancelled(&f));
  cr_assert(cb_future_done(&f));
  cr_assert_eq(cb_future_result(&f).u, 42);
  cr_assert_eq(cb_future_error(&f).code, 0);
  cr_assert_eq(cb_future_set_result(&f, (cb_val){0}), -EINVAL);
  cr_assert_eq(cb_future_set_error(&f, -EIO, NULL), -EINVAL);
  cr_assert_eq(cb_future_cancel(&f, NULL), 0);
  cb_loop_close(l);
}

Test(asyncio_futures, test_exception) {
  cb_loop *l = cb_loop_new();
  cb_future f;
  cb_future_init(&f, l);
  cr_assert_eq(cb_future_set_error(&f, -ERANGE, "RuntimeError"), 0);
  cr_assert(!cb_future_cancelled(&f));
  cr_assert(cb_future_done(&f));
  cb_err e = cb_future_error(&f);
  cr_assert_eq(e.code, -ERANGE);
  assert_msg(e.msg, "RuntimeError");
  cr_assert_eq(cb_future_set_result(&f, (cb_val){0}), -EINVAL);
  cr_assert_eq(cb_future_set_error(&f, -EIO, NULL), -EINVAL);
  cr_assert_eq(cb_future_cancel(&f, NULL), 0);
  cb_loop_close(l);
}

/* Awaiting a future twice: the second await does not suspend, same result. */
typedef struct { cb_co co; cb_future *f; int steps; uint64_t x, y; } twice_frame;
static int await_twice(cb_task *task, void *vf) {
  twice_frame *f = vf;
  CB_CO_BEGIN(task, f);
  f->steps = 1;
  CB_AWAIT(f->f);
  f->x = cb_future_result(f->f).u;
  f->steps = 2;
  CB_AWAIT(f->f);
  f->y = cb_future_result(f->f).u;
  f->steps = 3;
  CB_CO_END();
}
Test(asyncio_futures, test_yield_from_twice) {
  cb_loop *l = cb_loop_new();
  cb_future fut;
  cb_future_init(&fut, l);
  cb_task *t = cb_create_task(l, await_twice, sizeof(twice_frame), NULL);
  twice_frame *f = cb_task_frame(t);
  f->f = &fut;
  run_briefly(l);
  cr_assert_eq(f->steps, 1, "suspended at the first await");
  cb_future_set_result(&fut, (cb_val){.u = 42});
  run_briefly(l);
  cr_assert_eq(f->steps, 3, "the second await did not suspend");
  cr_assert_eq(f->x, 42);
  cr_assert_eq(f->y, 42);
  cr_assert(cb_task_done(t));
  cb_task_release(t);
  cb_loop_close(l);
}

/* ---- the traceback logger: which errors are reported as never retrieved.
 * A plain cb_future is caller storage with no destructor, so what asyncio checks
 * at a future's destruction is checked on a task, whose release reports. ---- */
typedef struct { cb_co co; int err; } raise_frame;
static int raiser(cb_task *task, void *vf) {
  raise_frame *f = vf;
  CB_CO_BEGIN(task, f);
  if (f->err) CB_RAISE(f->err, "boom");
  CB_RETURN((cb_val){.u = 42});
  CB_CO_END();
}
static cb_task *run_raiser(cb_loop *l, int err) {
  cb_task *t = cb_create_task(l, raiser, sizeof(raise_frame), "raiser");
  ((raise_frame *)cb_task_frame(t))->err = err;
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  return t;
}

Test(asyncio_futures, test_tb_logger_abandoned) {
  ap_exc_log log;
  cb_loop *l = new_loop_logged(&log);
  cb_future f; /* abandoned pending: nothing to report */
  cb_future_init(&f, l);
  cb_task *t = cb_task_new(l, raiser, sizeof(raise_frame), NULL);
  cb_task_release(t);
  cr_assert_eq(log.n, 0);
  cb_loop_close(l);
}

Test(asyncio_futures, test_tb_logger_not_called_after_cancel) {
  ap_exc_log log;
  cb_loop *l = new_loop_logged(&log);
  cb_future f;
  cb_future_init(&f, l);
  cb_future_set_error(&f, -EIO, "boom");
  cr_assert_eq(cb_future_cancel(&f, NULL), 0);
  cr_assert(f.retrieved, "cancel() of a failed future marks its error retrieved");
  cb_task *t = run_raiser(l, -EIO);
  cr_assert_eq(cb_task_cancel(t, NULL), 0);
  cb_task_release(t);
  cr_assert_eq(log.n, 0);
  cb_loop_close(l);
}

Test(asyncio_futures, test_tb_logger_result_unretrieved) {
  ap_exc_log log;
  cb_loop *l = new_loop_logged(&log);
  cb_task *t = run_raiser(l, 0);
  cb_task_release(t);
  cr_assert_eq(log.n, 0);
  cb_loop_close(l);
}

Test(asyncio_futures, test_tb_logger_result_retrieved) {
  ap_exc_log log;
  cb_loop *l = new_loop_logged(&log);
  cb_task *t = run_raiser(l, 0);
  cr_assert_eq(cb_task_error(t).code, 0);
  cr_assert_eq(cb_task_result(t).u, 42);
  cb_task_release(t);
  cr_assert_eq(log.n, 0);
  cb_loop_close(l);
}

Test(asyncio_futures, test_tb_logger_exception_unretrieved) {
  ap_exc_log log;
  cb_loop *l = new_loop_logged(&log);
  cb_task *t = run_raiser(l, -EIO);
  cb_task_release(t);
  cr_assert_eq(log.n, 1);
  cr_assert(strstr(log.last, "exception was never retrieved"), "%s", log.last);
  cb_loop_close(l);
}

Test(asyncio_futures, test_tb_logger_exception_retrieved) {
  ap_exc_log log;
  cb_loop *l = new_loop_logged(&log);
  cb_task *t = run_raiser(l, -EIO);
  cr_assert_eq(cb_task_error(t).code, -EIO);
  cb_task_release(t);
  cr_assert_eq(log.n, 0);
  cb_loop_close(l);
}

/* f.result() raising is, in C, the error check before the result. */
Test(asyncio_futures, test_tb_logger_exception_result_retrieved) {
  ap_exc_log log;
  cb_loop *l = new_loop_logged(&log);
  cb_task *t = run_raiser(l, -EIO);
  cr_assert_neq(cb_task_error(t).code, 0);
  cb_task_release(t);
  cr_assert_eq(log.n, 0);
  cb_loop_close(l);
}

static void check_never_retrieved(int debug) {
  ap_exc_log log;
  cb_loop *l = new_loop_logged(&log);
  cb_loop_set_debug(l, debug);
  cb_task *t = run_raiser(l, -ENOMEM);
  cb_task_release(t);
  cr_assert_eq(log.n, 1);
  cr_assert(strncmp(log.last, "Task exception was never retrieved", 34) == 0, "%s", log.last);
  cb_loop_close(l);
}
Test(asyncio_futures, test_future_exception_never_retrieved) { check_never_retrieved(0); }
Test(asyncio_futures, test_future_exception_never_retrieved_debug) { check_never_retrieved(1); }

Test(asyncio_futures, test_set_result_unless_cancelled) {
  cb_loop *l = cb_loop_new();
  cb_future f;
  cb_future_init(&f, l);
  cb_future_cancel(&f, NULL);
  cr_assert_eq(cb_future_set_result(&f, (cb_val){.u = 2}), -EINVAL);
  cr_assert(cb_future_cancelled(&f));
  cb_loop_close(l);
}

/* ---- BaseFutureDoneCallbackTests ---- */

Test(asyncio_futures, test_callbacks_remove_first_callback) {
  cb_loop *l = cb_loop_new();
  int bag[8], n = 0;
  ap_bag_cb cb1, cb2, cb3;
  cb_future f;
  cb_future_init(&f, l);
  bag_add(&f, &cb1, 42, bag, &n);
  bag_add(&f, &cb2, 17, bag, &n);
  bag_add(&f, &cb3, 100, bag, &n);
  cr_assert_eq(cb_future_remove_done_callback(&f, &cb1.h), 1);
  cr_assert_eq(cb_future_remove_done_callback(&f, &cb1.h), 0);
  cr_assert_eq(n, 0);
  cb_future_set_result(&f, (cb_val){.u = 7});
  run_briefly(l);
  cr_assert_eq(n, 2);
  cr_assert_eq(bag[0], 17);
  cr_assert_eq(bag[1], 100);
  cr_assert_eq(cb_future_result(&f).u, 7);
  cb_loop_close(l);
}

Test(asyncio_futures, test_callbacks_remove_first_and_second_callback) {
  cb_loop *l = cb_loop_new();
  int bag[8], n = 0;
  ap_bag_cb cb1, cb2, cb3;
  cb_future f;
  cb_future_init(&f, l);
  bag_add(&f, &cb1, 42, bag, &n);
  bag_add(&f, &cb2, 17, bag, &n);
  bag_add(&f, &cb3, 100, bag, &n);
  cb_future_remove_done_callback(&f, &cb1.h);
  cb_future_remove_done_callback(&f, &cb2.h);
  cr_assert_eq(cb_future_remove_done_callback(&f, &cb1.h), 0);
  cb_future_set_result(&f, (cb_val){.u = 7});
  run_briefly(l);
  cr_assert_eq(n, 1);
  cr_assert_eq(bag[0], 100);
  cb_loop_close(l);
}

Test(asyncio_futures, test_callbacks_remove_third_callback) {
  cb_loop *l = cb_loop_new();
  int bag[8], n = 0;
  ap_bag_cb cb1, cb2, cb3;
  cb_future f;
  cb_future_init(&f, l);
  bag_add(&f, &cb1, 42, bag, &n);
  bag_add(&f, &cb2, 17, bag, &n);
  bag_add(&f, &cb3, 100, bag, &n);
  cb_future_remove_done_callback(&f, &cb3.h);
  cr_assert_eq(cb_future_remove_done_callback(&f, &cb3.h), 0);
  cb_future_set_result(&f, (cb_val){.u = 7});
  run_briefly(l);
  cr_assert_eq(n, 2);
  cr_assert_eq(bag[0], 42);
  cr_assert_eq(bag[1], 17);
  cb_loop_close(l);
}

Test(asyncio_futures, test_callbacks_invoked_on_set_result) {
  cb_loop *l = cb_loop_new();
  int bag[8], n = 0;
  ap_bag_cb cb1, cb2;
  cb_future f;
  cb_future_init(&f, l);
  bag_add(&f, &cb1, 42, bag, &n);
  bag_add(&f, &cb2, 17, bag, &n);
  cr_assert_eq(n, 0);
  cb_future_set_result(&f, (cb_val){.u = 7});
  cr_assert_eq(n, 0, "callbacks never run inline");
  run_briefly(l);
  cr_assert_eq(n, 2);
  cr_assert_eq(bag[0], 42);
  cr_assert_eq(bag[1], 17);
  cr_assert_eq(cb_future_result(&f).u, 7);
  cb_loop_close(l);
}

Test(asyncio_futures, test_callbacks_invoked_on_set_exception) {
  cb_loop *l = cb_loop_new();
  int bag[8], n = 0;
  ap_bag_cb cb1;
  cb_future f;
  cb_future_init(&f, l);
  bag_add(&f, &cb1, 100, bag, &n);
  cb_future_set_error(&f, -ERANGE, "RuntimeError");
  run_briefly(l);
  cr_assert_eq(n, 1);
  cr_assert_eq(bag[0], 100);
  cr_assert_eq(cb_future_error(&f).code, -ERANGE);
  cb_loop_close(l);
}

/* asyncio removes callbacks by function (all equal ones at once, returning the
 * count); C callbacks are handles, removed one by one. */
Test(asyncio_futures, test_remove_done_callback) {
  cb_loop *l = cb_loop_new();
  int bag[16], n = 0;
  ap_bag_cb cb1[6], cb2[2], cb3;
  cb_future f;
  cb_future_init(&f, l);
  bag_add(&f, &cb1[0], 1, bag, &n);
  bag_add(&f, &cb2[0], 2, bag, &n);
  cr_assert_eq(cb_future_remove_done_callback(&f, &cb2[0].h), 1);
  cb3 = (ap_bag_cb){0};
  cr_assert_eq(cb_future_remove_done_callback(&f, &cb3.h), 0, "never added");
  bag_add(&f, &cb2[1], 2, bag, &n);
  for (int i = 1; i < 6; i++) bag_add(&f, &cb1[i], 1, bag, &n);
  int removed = 0;
  for (int i = 0; i < 6; i++) removed += cb_future_remove_done_callback(&f, &cb1[i].h);
  cr_assert_eq(removed, 6);
  cr_assert_eq(n, 0);
  cb_future_set_result(&f, (cb_val){.u = 7});
  run_briefly(l);
  cr_assert_eq(n, 1);
  cr_assert_eq(bag[0], 2);
  cb_loop_close(l);
}

/* A callback removing another one once the future is done changes nothing: the
 * callbacks were all scheduled at completion. */
typedef struct { cb_handle h; cb_future *f; ap_bag_cb *victim; int *bag, *n; } mut_cb;
static void mut(void *arg) {
  mut_cb *m = arg;
  m->bag[(*m->n)++] = 0;
  cr_assert_eq(cb_future_remove_done_callback(m->f, &m->victim->h), 0);
}
Test(asyncio_futures, test_schedule_callbacks_list_mutation_1) {
  cb_loop *l = cb_loop_new();
  int bag[8], n = 0;
  ap_bag_cb s1, s2;
  cb_future f;
  cb_future_init(&f, l);
  mut_cb m = {.f = &f, .victim = &s1, .bag = bag, .n = &n};
  cb_future_add_done_callback(&f, &m.h, mut, &m);
  bag_add(&f, &s1, 1, bag, &n);
  bag_add(&f, &s2, 2, bag, &n);
  cb_future_set_result(&f, (cb_val){.u = 1});
  run_briefly(l);
  cr_assert_eq(n, 3);
  cr_assert_eq(bag[0], 0);
  cr_assert_eq(bag[1], 1);
  cr_assert_eq(bag[2], 2);
  cb_loop_close(l);
}

/* ---- test_futures2.py: FutureTests ---- */

/* Awaiting a failed task again and again raises its error each time (the
 * traceback count asyncio checks has no C counterpart). */
typedef struct { cb_co co; cb_task *future; int i, raised; cb_err e; } again_frame;
static int await_again(cb_task *task, void *vf) {
  again_frame *f = vf;
  CB_CO_BEGIN(task, f);
  f->future = cb_create_task(cb_task_loop(task), raiser, sizeof(raise_frame), "raise_exc");
  ((raise_frame *)cb_task_frame(f->future))->err = -EINVAL; /* TypeError(42) */
  for (f->i = 0; f->i < 5; f->i++) {
    CB_AWAIT_TRY(cb_task_future(f->future), f->e);
    if (f->e.code == -EINVAL) f->raised++;
  }
  cb_task_release(f->future);
  CB_CO_END();
}
Test(asyncio_futures2, test_future_traceback) {
  ap_exc_log log;
  cb_loop *l = new_loop_logged(&log);
  cb_task *t = cb_create_task(l, await_again, sizeof(again_frame), NULL);
  cb_loop_run_until_complete(l, cb_task_future(t));
  cr_assert_eq(((again_frame *)cb_task_frame(t))->raised, 5);
  cb_task_release(t);
  cb_loop_close(l);
  cr_assert_eq(log.n, 0, "the awaited error counts as retrieved");
}
