/* test_loop_core.c — the loop, futures, tasks and combinators against the
 * seeds' asyncio scenarios (001, 002, 004). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runtimes/loop/combinators.h"
#include "runtimes/loop/loop.h"
#include "runtimes/loop/task.h"

#define MS 1000000ull

/* ---- seed 001: compute(x, y) awaited by print_sum, a nested coroutine ---- */
typedef struct { cb_co co; uint64_t x, y; } compute_frame;
static int compute(cb_task *task, void *vf) {
  compute_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_SLEEP(2 * MS);
  CB_RETURN((cb_val){.u = f->x + f->y});
  CB_CO_END();
}
typedef struct { cb_co co; compute_frame child; } sum_frame;
static int print_sum(cb_task *task, void *vf) {
  sum_frame *f = vf;
  CB_CO_BEGIN(task, f);
  f->child.x = 1;
  f->child.y = 2;
  CB_CALL(compute, &f->child);
  CB_RETURN(f->child.co.ret);
  CB_CO_END();
}

Test(loop_core, nested_coroutine_returns_through_await) {
  cb_loop *l = cb_loop_new();
  cb_task *t = cb_create_task(l, print_sum, sizeof(sum_frame), "print_sum");
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cr_assert_eq(cb_task_result(t).u, 3);
  cr_assert_eq(cb_task_error(t).code, 0);
  cb_task_release(t);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- gather keeps argument order ---- */
/* Sleeps ms, or until `until` (loop time) when set: children given deadlines from one
 * base complete in deadline order however late each of them starts on a busy machine. */
typedef struct { cb_co co; uint64_t ms, val, until; uint64_t *log; int *nlog; } sleeper_frame;
static int sleeper(cb_task *task, void *vf) {
  sleeper_frame *f = vf;
  CB_CO_BEGIN(task, f);
  if (f->until) CB_SLEEP_UNTIL(f->until);
  else CB_SLEEP(f->ms * MS);
  if (f->log) f->log[(*f->nlog)++] = f->val;
  CB_RETURN((cb_val){.u = f->val});
  CB_CO_END();
}
static cb_task *spawn_sleeper(cb_loop *l, uint64_t ms, uint64_t val, uint64_t *log, int *nlog) {
  cb_task *t = cb_create_task(l, sleeper, sizeof(sleeper_frame), NULL);
  sleeper_frame *f = cb_task_frame(t);
  f->ms = ms;
  f->val = val;
  f->log = log;
  f->nlog = nlog;
  return t;
}

typedef struct {
  cb_co co;
  cb_task *kids[3];
  cb_future *futs[3];
  cb_slot slots[3];
  cb_gather g;
  uint64_t results[3];
  uint64_t log[3];
  int nlog;
} gather_frame;
static int gather_main(cb_task *task, void *vf) {
  gather_frame *f = vf;
  CB_CO_BEGIN(task, f);
  static const uint64_t ms[3] = {30, 10, 20};
  uint64_t base = cb_loop_time(cb_task_loop(task));
  for (int i = 0; i < 3; i++) {
    f->kids[i] = spawn_sleeper(cb_task_loop(task), ms[i], 100 + i, f->log, &f->nlog);
    ((sleeper_frame *)cb_task_frame(f->kids[i]))->until = base + ms[i] * MS;
    f->futs[i] = cb_task_future(f->kids[i]);
  }
  cb_gather_init(&f->g, cb_task_loop(task), f->futs, f->slots, 3, 0);
  CB_AWAIT(&f->g.fut);
  for (int i = 0; i < 3; i++) {
    f->results[i] = cb_task_result(f->kids[i]).u;
    cb_task_release(f->kids[i]);
  }
  CB_RETURN((cb_val){.u = f->g.fut.result.u});
  CB_CO_END();
}

Test(loop_core, gather_keeps_argument_order) {
  cb_loop *l = cb_loop_new();
  cb_task *t = cb_create_task(l, gather_main, sizeof(gather_frame), "main");
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  gather_frame *f = cb_task_frame(t);
  cr_assert_eq(cb_task_result(t).u, 3);
  for (int i = 0; i < 3; i++) cr_assert_eq(f->results[i], 100 + i, "result %d = %lu", i, f->results[i]);
  /* completion order is by sleep length: 101 (10 ms), 102, 100 */
  cr_assert_eq(f->log[0], 101);
  cr_assert_eq(f->log[1], 102);
  cr_assert_eq(f->log[2], 100);
  cb_task_release(t);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- gather with an error: without return_exceptions it raises; with, all results ---- */
typedef struct { cb_co co; int fail; } failer_frame;
static int failer(cb_task *task, void *vf) {
  failer_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_SLEEP(MS);
  if (f->fail) CB_RAISE(-EIO, "boom");
  CB_RETURN((cb_val){.u = 7});
  CB_CO_END();
}
typedef struct {
  cb_co co;
  int return_exceptions;
  cb_task *kids[2];
  cb_future *futs[2];
  cb_slot slots[2];
  cb_gather g;
  cb_err e;
} gerr_frame;
static int gather_err_main(cb_task *task, void *vf) {
  gerr_frame *f = vf;
  CB_CO_BEGIN(task, f);
  for (int i = 0; i < 2; i++) {
    f->kids[i] = cb_create_task(cb_task_loop(task), failer, sizeof(failer_frame), i ? "bad" : "good");
    ((failer_frame *)cb_task_frame(f->kids[i]))->fail = i;
    f->futs[i] = cb_task_future(f->kids[i]);
  }
  cb_gather_init(&f->g, cb_task_loop(task), f->futs, f->slots, 2, f->return_exceptions);
  CB_AWAIT_TRY(&f->g.fut, f->e);
  CB_SLEEP(2 * MS); /* let both finish */
  CB_CO_END();
}

Test(loop_core, gather_error_propagates_or_is_returned) {
  for (int rex = 0; rex < 2; rex++) {
    cb_loop *l = cb_loop_new();
    cb_task *t = cb_create_task(l, gather_err_main, sizeof(gerr_frame), "main");
    gerr_frame *f = cb_task_frame(t);
    f->return_exceptions = rex;
    cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
    if (rex) {
      cr_assert_eq(f->e.code, 0);
      cr_assert_eq(cb_task_result(f->kids[0]).u, 7);
      cr_assert_eq(cb_task_error(f->kids[1]).code, -EIO);
    } else {
      cr_assert_eq(f->e.code, -EIO);
      cr_assert_str_eq(f->e.msg, "boom");
    }
    cb_task_release(f->kids[0]);
    cb_task_release(f->kids[1]);
    cb_task_release(t);
    cr_assert_eq(cb_loop_close(l), 0);
  }
}

/* ---- wait FIRST_COMPLETED leaves one pending; wait_for then finishes it ---- */
typedef struct {
  cb_co co;
  cb_task *kids[2];
  cb_future *futs[2];
  cb_slot slots[2];
  cb_wait w;
  cb_wait_for wf;
  size_t ndone, npending, done_idx[2], pending_idx[2];
  uint64_t late;
} wait_frame;
static int wait_main(cb_task *task, void *vf) {
  wait_frame *f = vf;
  CB_CO_BEGIN(task, f);
  /* 5 ms and 300 ms: only a stall of the whole loop longer than 295 ms could make
   * both done at the first completion; wait_for's 10 s is a limit, not a measure */
  f->kids[0] = spawn_sleeper(cb_task_loop(task), 5, 1, NULL, NULL);
  f->kids[1] = spawn_sleeper(cb_task_loop(task), 300, 2, NULL, NULL);
  f->futs[0] = cb_task_future(f->kids[0]);
  f->futs[1] = cb_task_future(f->kids[1]);
  cb_wait_init(&f->w, cb_task_loop(task), f->futs, f->slots, 2, CB_FIRST_COMPLETED, -1);
  CB_AWAIT(&f->w.fut);
  f->ndone = cb_wait_split(&f->w, f->done_idx, f->pending_idx, &f->npending);
  cb_wait_for_init(&f->wf, cb_task_loop(task), f->futs[f->pending_idx[0]], 10000 * MS);
  CB_AWAIT(&f->wf.fut);
  f->late = f->wf.fut.result.u;
  cb_task_release(f->kids[0]);
  cb_task_release(f->kids[1]);
  CB_CO_END();
}

Test(loop_core, wait_first_completed_then_wait_for) {
  cb_loop *l = cb_loop_new();
  cb_task *t = cb_create_task(l, wait_main, sizeof(wait_frame), "main");
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  wait_frame *f = cb_task_frame(t);
  cr_assert_eq(f->ndone, 1);
  cr_assert_eq(f->npending, 1);
  cr_assert_eq(f->done_idx[0], 0);
  cr_assert_eq(f->pending_idx[0], 1);
  cr_assert_eq(f->late, 2);
  cr_assert_eq(cb_task_error(t).code, 0);
  cb_task_release(t);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- wait_for timeout cancels the inner task and raises -ETIMEDOUT ---- */
typedef struct { cb_co co; cb_task *kid; cb_wait_for wf; cb_err e; } wft_frame;
static int wait_for_timeout_main(cb_task *task, void *vf) {
  wft_frame *f = vf;
  CB_CO_BEGIN(task, f);
  f->kid = spawn_sleeper(cb_task_loop(task), 10000, 1, NULL, NULL);
  cb_wait_for_init(&f->wf, cb_task_loop(task), cb_task_future(f->kid), 5 * MS);
  CB_AWAIT_TRY(&f->wf.fut, f->e);
  CB_CO_END();
}

Test(loop_core, wait_for_timeout_cancels_inner) {
  cb_loop *l = cb_loop_new();
  uint64_t t0 = cb_loop_time(l);
  cb_task *t = cb_create_task(l, wait_for_timeout_main, sizeof(wft_frame), "main");
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  wft_frame *f = cb_task_frame(t);
  cr_assert_eq(f->e.code, -ETIMEDOUT, "code %d", f->e.code);
  cr_assert(cb_task_cancelled(f->kid));
  /* the 10 s sleeper was cancelled, not waited for (5 s: generous on a busy machine) */
  cr_assert_lt(cb_loop_time(l) - t0, 5000 * MS);
  cb_task_release(f->kid);
  cb_task_release(t);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- cancelling a sleeping task marks it cancelled ---- */
typedef struct { cb_co co; cb_task *kid; cb_err e; } cancel_frame;
static int cancel_main(cb_task *task, void *vf) {
  cancel_frame *f = vf;
  CB_CO_BEGIN(task, f);
  f->kid = spawn_sleeper(cb_task_loop(task), 10000, 1, NULL, NULL);
  CB_SLEEP(MS);
  cr_assert_eq(cb_task_cancel(f->kid, "stop it"), 1);
  CB_AWAIT_TRY(cb_task_future(f->kid), f->e);
  CB_CO_END();
}

Test(loop_core, cancel_sleeping_task) {
  cb_loop *l = cb_loop_new();
  cb_task *t = cb_create_task(l, cancel_main, sizeof(cancel_frame), "main");
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cancel_frame *f = cb_task_frame(t);
  cr_assert(cb_task_cancelled(f->kid));
  cr_assert_eq(f->e.code, -ECANCELED);
  cr_assert_str_eq(f->e.msg, "stop it");
  cr_assert_eq(cb_task_cancel(f->kid, NULL), 0, "cancel of a done task");
  cr_assert(!cb_task_cancelled(t), "the awaiting task itself was not cancelled");
  cb_task_release(f->kid);
  cb_task_release(t);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- a task catches its cancellation, cleans up, and re-raises or suppresses ---- */
typedef struct { cb_co co; int suppress, cleaned; cb_err e; } catcher_frame;
static int catcher(cb_task *task, void *vf) {
  catcher_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_SLEEP_TRY(10000 * MS, f->e);
  if (f->e.code == -ECANCELED) {
    CB_SLEEP(MS); /* asynchronous cleanup still works after catching */
    f->cleaned = 1;
    if (!f->suppress) CB_RAISE_ERR(f->e);
    CB_RETURN((cb_val){.u = 42});
  }
  CB_CO_END();
}
typedef struct { cb_co co; cb_task *kid; int suppress; cb_err e; } cmain_frame;
static int catcher_main(cb_task *task, void *vf) {
  cmain_frame *f = vf;
  CB_CO_BEGIN(task, f);
  f->kid = cb_create_task(cb_task_loop(task), catcher, sizeof(catcher_frame), "catcher");
  ((catcher_frame *)cb_task_frame(f->kid))->suppress = f->suppress;
  CB_SLEEP(MS);
  cb_task_cancel(f->kid, NULL);
  CB_AWAIT_TRY(cb_task_future(f->kid), f->e);
  CB_CO_END();
}

Test(loop_core, task_catches_cancellation_and_cleans_up) {
  for (int suppress = 0; suppress < 2; suppress++) {
    cb_loop *l = cb_loop_new();
    cb_task *t = cb_create_task(l, catcher_main, sizeof(cmain_frame), "main");
    cmain_frame *f = cb_task_frame(t);
    f->suppress = suppress;
    cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
    catcher_frame *cf = cb_task_frame(f->kid);
    cr_assert_eq(cf->cleaned, 1);
    if (suppress) {
      cr_assert(!cb_task_cancelled(f->kid));
      cr_assert_eq(f->e.code, 0);
      cr_assert_eq(cb_task_result(f->kid).u, 42);
    } else {
      cr_assert(cb_task_cancelled(f->kid));
      cr_assert_eq(f->e.code, -ECANCELED);
    }
    cb_task_release(f->kid);
    cb_task_release(t);
    cr_assert_eq(cb_loop_close(l), 0);
  }
}

/* ---- shield keeps the inner task running when the outer is cancelled ---- */
typedef struct { cb_co co; cb_task *inner; cb_shield sh; cb_err e; } shield_frame;
static int shielded_awaiter(cb_task *task, void *vf) {
  shield_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cb_shield_init(&f->sh, cb_task_loop(task), cb_task_future(f->inner));
  CB_AWAIT_TRY(&f->sh.fut, f->e);
  if (f->e.code) CB_RAISE_ERR(f->e);
  CB_RETURN(f->sh.fut.result);
  CB_CO_END();
}
/* The inner task finishes when main opens its gate, after the outer one was
 * cancelled: the order does not depend on timing. */
typedef struct { cb_co co; cb_future *gate; } gated_frame;
static int gated(cb_task *task, void *vf) {
  gated_frame *f = vf;
  CB_CO_BEGIN(task, f);
  CB_AWAIT(f->gate);
  CB_RETURN((cb_val){.u = 9});
  CB_CO_END();
}
typedef struct { cb_co co; cb_task *inner, *outer; cb_err e; cb_future gate; int inner_done_at_cancel; } smain_frame;
static int shield_main(cb_task *task, void *vf) {
  smain_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cb_future_init(&f->gate, cb_task_loop(task));
  f->inner = cb_create_task(cb_task_loop(task), gated, sizeof(gated_frame), "inner");
  ((gated_frame *)cb_task_frame(f->inner))->gate = &f->gate;
  f->outer = cb_create_task(cb_task_loop(task), shielded_awaiter, sizeof(shield_frame), "outer");
  ((shield_frame *)cb_task_frame(f->outer))->inner = f->inner;
  CB_SLEEP(2 * MS); /* the outer task awaits the shield by now */
  cb_task_cancel(f->outer, NULL);
  CB_AWAIT_TRY(cb_task_future(f->outer), f->e);
  f->inner_done_at_cancel = cb_task_done(f->inner);
  cb_future_set_result(&f->gate, (cb_val){.u = 0});
  CB_AWAIT(cb_task_future(f->inner));
  CB_CO_END();
}

Test(loop_core, shield_keeps_inner_running) {
  cb_loop *l = cb_loop_new();
  cb_task *t = cb_create_task(l, shield_main, sizeof(smain_frame), "main");
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  smain_frame *f = cb_task_frame(t);
  cr_assert(cb_task_cancelled(f->outer));
  cr_assert_eq(f->e.code, -ECANCELED);
  cr_assert_not(f->inner_done_at_cancel, "the inner task ended with the outer one");
  cr_assert(!cb_task_cancelled(f->inner));
  cr_assert_eq(cb_task_result(f->inner).u, 9);
  cb_task_release(f->inner);
  cb_task_release(f->outer);
  cb_task_release(t);
  cr_assert_eq(cb_loop_close(l), 0);
}

static void stop_cb(void *l) { cb_loop_stop(l); }

/* ---- done callbacks run in order, via call_soon, never inline ---- */
typedef struct { int order[4]; int n; } cb_log;
typedef struct { cb_log *log; int id; } cb_arg;
static void log_cb(void *arg) {
  cb_arg *a = arg;
  a->log->order[a->log->n++] = a->id;
}

Test(loop_core, done_callbacks_in_order_via_call_soon) {
  cb_loop *l = cb_loop_new();
  cb_future fut, stop;
  cb_future_init(&fut, l);
  cb_future_init(&stop, l);
  cb_log log = {{0}, 0};
  cb_arg args[4] = {{&log, 1}, {&log, 2}, {&log, 3}, {&log, 4}};
  cb_handle h[4] = {0};
  for (int i = 0; i < 4; i++) cb_future_add_done_callback(&fut, &h[i], log_cb, &args[i]);
  cr_assert_eq(cb_future_remove_done_callback(&fut, &h[2]), 1);
  cr_assert_eq(cb_future_set_result(&fut, (cb_val){.u = 5}), 0);
  cr_assert_eq(log.n, 0, "callbacks ran inline");
  cr_assert_eq(cb_future_set_result(&fut, (cb_val){.u = 6}), -EINVAL);
  cb_handle hs = {0};
  cb_future_add_done_callback(&fut, &hs, stop_cb, l);
  cr_assert_eq(cb_loop_run_forever(l), 0);
  cr_assert_eq(log.n, 3);
  cr_assert_eq(log.order[0], 1);
  cr_assert_eq(log.order[1], 2);
  cr_assert_eq(log.order[2], 4);
  cr_assert_eq(cb_future_result(&fut).u, 5);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- call_later runs by deadline, FIFO among equal deadlines; cancel works ---- */
Test(loop_core, call_later_orders_by_deadline) {
  cb_loop *l = cb_loop_new();
  cb_log log = {{0}, 0};
  cb_arg args[4] = {{&log, 1}, {&log, 2}, {&log, 3}, {&log, 4}};
  cb_timer t[5] = {0};
  uint64_t now = cb_loop_time(l);
  cb_call_at(l, &t[0], now + 30 * MS, log_cb, &args[0]);
  cb_call_at(l, &t[1], now + 10 * MS, log_cb, &args[1]); /* earlier than the lane tail: heap */
  cb_call_at(l, &t[2], now + 20 * MS, log_cb, &args[2]);
  cb_call_at(l, &t[3], now + 10 * MS, log_cb, &args[3]); /* same deadline as 2, after it */
  cb_timer victim = {0};
  cb_arg va = {&log, 99};
  cb_call_at(l, &victim, now + 15 * MS, log_cb, &va);
  cr_assert_eq(cb_timer_cancel(l, &victim), 1);
  cr_assert_eq(cb_loop_run_forever(l), -EDEADLK, "returns when nothing is left");
  cr_assert_eq(log.n, 4);
  int want[4] = {2, 4, 3, 1};
  for (int i = 0; i < 4; i++) cr_assert_eq(log.order[i], want[i], "position %d: %d", i, log.order[i]);
  cr_assert_geq(cb_loop_time(l) - now, 30 * MS);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- an error nobody retrieved is reported with the task's name ---- */
typedef struct { char msgs[4][512]; int n; } exc_log;
static void capture(cb_loop *l, const char *message, void *arg) {
  exc_log *x = arg;
  if (x->n < 4) snprintf(x->msgs[x->n++], sizeof x->msgs[0], "%s", message);
}

Test(loop_core, never_retrieved_error_is_reported) {
  cb_loop *l = cb_loop_new();
  exc_log x = {.n = 0};
  cb_loop_set_exception_handler(l, capture, &x);
  cb_task *t = cb_create_task(l, failer, sizeof(failer_frame), "doomed");
  ((failer_frame *)cb_task_frame(t))->fail = 1;
  cb_task_release(t); /* fire and forget: the loop's reference remains */
  cb_task *quiet = cb_create_task(l, failer, sizeof(failer_frame), "handled");
  ((failer_frame *)cb_task_frame(quiet))->fail = 1;
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(quiet)), 0);
  cr_assert_eq(cb_task_error(quiet).code, -EIO); /* retrieved: no report */
  cb_task_release(quiet);
  cr_assert_eq(x.n, 1, "reports: %d", x.n);
  cr_assert(strstr(x.msgs[0], "never retrieved") && strstr(x.msgs[0], "doomed") && strstr(x.msgs[0], "boom"),
            "report: %s", x.msgs[0]);
  /* a pending task at close is reported too */
  cb_task *p = spawn_sleeper(l, 10000, 0, NULL, NULL);
  cb_task_release(p);
  cr_assert_eq(cb_loop_close(l), 0);
}

Test(loop_core, pending_task_destroyed_at_close_is_reported) {
  cb_loop *l = cb_loop_new();
  exc_log x = {.n = 0};
  cb_loop_set_exception_handler(l, capture, &x);
  cb_task *p = cb_create_task(l, sleeper, sizeof(sleeper_frame), "sleepy");
  ((sleeper_frame *)cb_task_frame(p))->ms = 10000;
  cb_future never;
  cb_future_init(&never, l);
  cb_timer tm = {0};
  cb_call_later(l, &tm, 2 * MS, stop_cb, l);
  cr_assert_eq(cb_loop_run_forever(l), 0);
  cr_assert_eq(cb_loop_close(l), 0);
  cr_assert_eq(x.n, 1);
  cr_assert(strstr(x.msgs[0], "destroyed but it is pending") && strstr(x.msgs[0], "sleepy"), "%s", x.msgs[0]);
}

Test(loop_core, run_until_complete_detects_deadlock) {
  cb_loop *l = cb_loop_new();
  cb_future never;
  cb_future_init(&never, l);
  cr_assert_eq(cb_loop_run_until_complete(l, &never), -EDEADLK);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- cancelling gather cancels every child; the awaiting task sees -ECANCELED ---- */
typedef struct { cb_co co; cb_task *kids[3]; cb_future *futs[3]; cb_slot slots[3]; cb_gather g; cb_err e; } gc_frame;
static int gather_awaiter(cb_task *task, void *vf) {
  gc_frame *f = vf;
  CB_CO_BEGIN(task, f);
  for (int i = 0; i < 3; i++) {
    f->kids[i] = spawn_sleeper(cb_task_loop(task), 10000, (uint64_t)i, NULL, NULL);
    f->futs[i] = cb_task_future(f->kids[i]);
  }
  cb_gather_init(&f->g, cb_task_loop(task), f->futs, f->slots, 3, 0);
  CB_AWAIT_TRY(&f->g.fut, f->e);
  CB_RAISE_ERR(f->e);
  CB_CO_END();
}
typedef struct { cb_co co; cb_task *outer; cb_err e; } gcm_frame;
static int gather_cancel_main(cb_task *task, void *vf) {
  gcm_frame *f = vf;
  CB_CO_BEGIN(task, f);
  f->outer = cb_create_task(cb_task_loop(task), gather_awaiter, sizeof(gc_frame), "gatherer");
  CB_SLEEP(MS);
  cb_task_cancel(f->outer, "enough");
  CB_AWAIT_TRY(cb_task_future(f->outer), f->e);
  CB_CO_END();
}
Test(loop_core, cancelling_gather_cancels_children) {
  cb_loop *l = cb_loop_new();
  cb_task *t = cb_create_task(l, gather_cancel_main, sizeof(gcm_frame), "main");
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  gcm_frame *f = cb_task_frame(t);
  gc_frame *g = cb_task_frame(f->outer);
  cr_assert_eq(f->e.code, -ECANCELED);
  cr_assert(cb_task_cancelled(f->outer));
  for (int i = 0; i < 3; i++) {
    cr_assert(cb_task_cancelled(g->kids[i]), "child %d", i);
    cb_task_release(g->kids[i]);
  }
  /* asyncio: the gather finishes with the children's CancelledError (and its
   * message), it is not itself cancelled */
  cr_assert(!cb_future_cancelled(&g->g.fut));
  cr_assert_eq(g->g.fut.err, -ECANCELED);
  cr_assert_str_eq(g->g.fut.msg, "enough");
  cb_task_release(f->outer);
  cb_task_release(t);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- wait: FIRST_EXCEPTION and a timeout return done and pending sets ---- */
typedef struct {
  cb_co co;
  cb_task *kids[3];
  cb_future *futs[3];
  cb_slot slots[3];
  cb_wait w;
  size_t ndone_exc, npend_exc, ndone_to, npend_to;
  cb_err e;
} wx_frame;
static int wait_exc_main(cb_task *task, void *vf) {
  wx_frame *f = vf;
  CB_CO_BEGIN(task, f);
  /* margins a busy machine cannot eat: the failure comes at once, the short sleeper
   * after 100 ms, the wait's timeout after 600 ms, the long sleeper never (cancelled) */
  f->kids[0] = spawn_sleeper(cb_task_loop(task), 100, 0, NULL, NULL);
  f->kids[1] = cb_create_task(cb_task_loop(task), failer, sizeof(failer_frame), "failing");
  ((failer_frame *)cb_task_frame(f->kids[1]))->fail = 1;
  f->kids[2] = spawn_sleeper(cb_task_loop(task), 100000, 2, NULL, NULL);
  for (int i = 0; i < 3; i++) f->futs[i] = cb_task_future(f->kids[i]);
  cb_wait_init(&f->w, cb_task_loop(task), f->futs, f->slots, 3, CB_FIRST_EXCEPTION, -1);
  CB_AWAIT(&f->w.fut);
  f->ndone_exc = cb_wait_split(&f->w, NULL, NULL, &f->npend_exc);
  cb_wait_init(&f->w, cb_task_loop(task), f->futs, f->slots, 3, CB_ALL_COMPLETED, 600 * MS);
  CB_AWAIT(&f->w.fut); /* a timeout is not an error */
  f->ndone_to = cb_wait_split(&f->w, NULL, NULL, &f->npend_to);
  cr_assert_eq(cb_task_error(f->kids[1]).code, -EIO);
  cb_task_cancel(f->kids[2], NULL);
  CB_AWAIT_TRY(f->futs[2], f->e);
  for (int i = 0; i < 3; i++) cb_task_release(f->kids[i]);
  CB_CO_END();
}
Test(loop_core, wait_first_exception_and_timeout) {
  cb_loop *l = cb_loop_new();
  cb_task *t = cb_create_task(l, wait_exc_main, sizeof(wx_frame), "main");
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  wx_frame *f = cb_task_frame(t);
  cr_assert_eq(cb_task_error(t).code, 0);
  cr_assert_eq(f->ndone_exc, 1, "FIRST_EXCEPTION returns at the failing child");
  cr_assert_eq(f->npend_exc, 2);
  cr_assert_eq(f->ndone_to, 2, "after the timeout the 100 ms child is done too");
  cr_assert_eq(f->npend_to, 1);
  cb_task_release(t);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- a task cancelled before its first step never runs ---- */
Test(loop_core, cancelled_before_start_never_runs) {
  cb_loop *l = cb_loop_new();
  uint64_t log[1];
  int nlog = 0;
  cb_task *t = spawn_sleeper(l, 0, 5, log, &nlog);
  cr_assert_eq(cb_task_cancel(t, "early"), 1);
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cr_assert(cb_task_cancelled(t));
  cr_assert_eq(nlog, 0);
  cr_assert_str_eq(cb_task_error(t).msg, "early");
  cb_task_release(t);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- call_soon runs FIFO on the next iteration; a cancelled handle does not run ---- */
Test(loop_core, call_soon_fifo_and_cancel) {
  cb_loop *l = cb_loop_new();
  cb_log log = {{0}, 0};
  cb_arg args[3] = {{&log, 1}, {&log, 2}, {&log, 3}};
  cb_handle h[3] = {0};
  for (int i = 0; i < 3; i++) cb_call_soon(l, &h[i], log_cb, &args[i]);
  cr_assert_eq(cb_handle_cancel(l, &h[1]), 1);
  cr_assert_eq(cb_handle_cancel(l, &h[1]), 0);
  cr_assert_eq(log.n, 0);
  cr_assert_eq(cb_loop_run_forever(l), -EDEADLK);
  cr_assert_eq(log.n, 2);
  cr_assert_eq(log.order[0], 1);
  cr_assert_eq(log.order[1], 3);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- the loop cannot be re-entered from one of its callbacks ---- */
typedef struct { cb_loop *l; int nested_rc, close_rc; } reenter_ctx;
static void reenter(void *arg) {
  reenter_ctx *c = arg;
  cb_future f;
  cb_future_init(&f, c->l);
  c->nested_rc = cb_loop_run_until_complete(c->l, &f);
  c->close_rc = cb_loop_close(c->l);
}
Test(loop_core, nested_run_and_close_are_refused) {
  reenter_ctx c = {.l = cb_loop_new()};
  cb_handle h = {0};
  cb_call_soon(c.l, &h, reenter, &c);
  cr_assert_eq(cb_loop_run_forever(c.l), -EDEADLK);
  cr_assert_eq(c.nested_rc, -EBUSY);
  cr_assert_eq(c.close_rc, -EBUSY);
  cr_assert_eq(cb_loop_close(c.l), 0);
}
