/* task.h — tasks and the stackless coroutine macros.
 *
 * A coroutine is a function `int fn(cb_task *task, void *frame)` plus a frame
 * struct whose FIRST member is `cb_co co`. Everything that must survive an await
 * lives in the frame; C locals do not survive (they are reset at every resume).
 * The function is resumed at its last await point through a switch on co.label
 * (protothreads style); CB_* macros below hide the labels:
 *
 *   typedef struct { cb_co co; int x; cb_future *fut; } my_frame;
 *   static int my_co(cb_task *task, void *vf) {
 *     my_frame *f = vf;
 *     CB_CO_BEGIN(task, f);
 *     CB_SLEEP(1000000);               // may raise (e.g. cancellation)
 *     CB_AWAIT(f->fut);                // error of fut raises in this coroutine
 *     CB_RETURN((cb_val){.u = f->x});
 *     CB_CO_END();
 *   }
 *
 * Awaits re-evaluate their arguments after resuming: pass frame fields, not
 * temporaries. Errors propagate like exceptions: the plain forms return from the
 * coroutine with the error (unwinding to the awaiting coroutine/task); the _TRY
 * forms store it in a cb_err lvalue instead (code 0 = none) so the coroutine may
 * handle it, clean up and CB_RAISE it again, or suppress it. Cancellation arrives
 * as -ECANCELED at the current await point. Macros must not be used twice on one
 * source line (labels come from __COUNTER__, so they may; __LINE__ is not used).
 *
 * A task = one allocation from the loop's slab (168 B header + frame, no malloc
 * header). Its wakeup handle is embedded, so awaiting, sleeping and waking
 * allocate nothing. */
#ifndef CB_LOOP_TASK_H
#define CB_LOOP_TASK_H

#include <stddef.h>

#include "runtimes/loop/future.h"

typedef struct cb_co {
  uint32_t label;
  int32_t err; /* the coroutine's error once it returned (0 = none) */
  const char *msg;
  cb_val ret; /* its return value */
} cb_co;

typedef struct cb_task cb_task;
typedef int (*cb_co_fn)(cb_task *task, void *frame);
enum { CB_CO_DONE = 0, CB_CO_PENDING = 1 };

struct cb_task {
  cb_future fut; /* first: a task is a future */
  cb_timer wake; /* ready queue, timer queue, future callback list or wait list */
  cb_list link;  /* loop's list of live tasks */
  cb_co_fn fn;
  cb_future *waiting; /* the future it awaits (wait_kind FUTURE) */
  const char *name;   /* NULL: "Task-<id>" */
  int32_t throw_err; /* cancellation to deliver at the next await */
  uint32_t id;
  int32_t refs;
  uint8_t wait_kind, started, granted, reported;
  uint8_t deferred_cancel; /* a cancellation raised after re-acquiring a lock (Condition) */
  uint8_t slab_cls;        /* allocator size class, 0 = malloc */
  _Alignas(8) unsigned char frame[]; /* 8-byte aligned: no long double / __int128 in frames */
};

/* Creates a task running fn on a zeroed frame of frame_size bytes (>= sizeof
 * cb_co) and schedules its first step via call_soon; fill the frame (from
 * cb_task_frame) before returning to the loop. name: static string or NULL.
 * Returns a reference the caller must drop with cb_task_release. One malloc;
 * NULL (errno ENOMEM) on failure. */
cb_task *cb_create_task(cb_loop *loop, cb_co_fn fn, size_t frame_size, const char *name);
/* The same, not scheduled: the coroutine object. Start it with cb_task_start;
 * releasing it unstarted warns "never awaited" in debug mode. */
cb_task *cb_task_new(cb_loop *loop, cb_co_fn fn, size_t frame_size, const char *name);
void cb_task_start(cb_task *t);

static inline void *cb_task_frame(cb_task *t) { return t->frame; }
static inline cb_future *cb_task_future(cb_task *t) { return &t->fut; }
static inline cb_loop *cb_task_loop(const cb_task *t) { return t->fut.loop; }

void cb_task_retain(cb_task *t);
/* Drops a reference; the last one frees the task (reporting an error nobody
 * retrieved, with the task's name, through the loop's exception handler). */
void cb_task_release(cb_task *t);

/* Requests cancellation; delivered as -ECANCELED (with msg) at the task's current
 * await point. 1 if requested, 0 if the task is already done (its error, if any,
 * then counts as retrieved: asyncio's cancel() clears the log flag). Every call
 * on a pending task returns 1 and the last msg wins. */
int cb_task_cancel(cb_task *t, const char *msg);

/* Loop-wide task lifecycle hooks (the model's per-job records use them, so a task
 * carries no per-job bookkeeping): on_start runs just before a task's first step,
 * on_done once it is done (its future completed). One branch per step when unset. */
typedef void (*cb_task_hook)(cb_task *t, void *arg);
void cb_loop_set_task_hooks(cb_loop *loop, cb_task_hook on_start, cb_task_hook on_done, void *arg);

/* asyncio.current_task(loop): the task whose step is running, NULL between steps. */
cb_task *cb_loop_current_task(const cb_loop *loop);

/* "name" or "Task-<id>" into buf; returns buf. Ids count up from 1 per loop. */
const char *cb_task_name(const cb_task *t, char *buf, size_t len);

static inline int cb_task_done(const cb_task *t) { return cb_future_done(&t->fut); }
static inline int cb_task_cancelled(const cb_task *t) { return cb_future_cancelled(&t->fut); }
static inline cb_val cb_task_result(const cb_task *t) { return t->fut.result; }
static inline cb_err cb_task_error(cb_task *t) { return cb_future_error(&t->fut); }

/* ---- coroutine macros ---- */
#define CB__CO_FINISHED 0xffffffffu

#define CB_CO_BEGIN(task_, frame_)                  \
  cb_task *const cb__t = (task_);                    \
  cb_co *const cb__co = &(frame_)->co;               \
  cb_err cb__e = {0, NULL};                          \
  (void)cb__t;                                       \
  (void)cb__e;                                       \
  switch (cb__co->label) {                           \
  default:                                           \
    cb__co_bad_label(cb__co->label);                 \
    /* FALLTHROUGH */                                \
  case CB__CO_FINISHED:                              \
    return CB_CO_DONE;                               \
  case 0:;

#define CB_CO_END()              \
  }                              \
  cb__co->label = CB__CO_FINISHED; \
  return CB_CO_DONE

#define CB_RETURN(v)                 \
  do {                               \
    cb__co->ret = (v);               \
    cb__co->err = 0;                 \
    cb__co->label = CB__CO_FINISHED; \
    return CB_CO_DONE;               \
  } while (0)

#define CB_RAISE(code_, msg_)        \
  do {                               \
    cb__co->err = (code_);           \
    cb__co->msg = (msg_);            \
    cb__co->label = CB__CO_FINISHED; \
    return CB_CO_DONE;               \
  } while (0)

#define CB_RAISE_ERR(e_) CB_RAISE((e_).code, (e_).msg)

/* The one suspension point. wait_expr runs on arrival (unless a cancellation is
 * pending) and returns nonzero when the task registered itself for a wakeup;
 * outcome_expr runs after (or instead of) the suspension and yields the cb_err. */
#define CB__AWAIT_L(lbl, wait_expr, outcome_expr, err_lv)        \
  do {                                                           \
    if (!cb__t->throw_err && (wait_expr)) {                      \
      cb__co->label = (lbl);                                     \
      return CB_CO_PENDING;                                      \
    case (lbl):;                                                 \
    }                                                            \
    (err_lv) = (outcome_expr);                                   \
  } while (0)
#define CB__AWAIT(w, o, e) CB__AWAIT_L(__COUNTER__ + 1, w, o, e)
#define CB__RAISE_IF(e_) \
  do {                   \
    if ((e_).code) CB_RAISE_ERR(e_); \
  } while (0)

/* Await a future (or task, gather, ...) of the task's own loop (another loop's
 * is undefined, not checked: asyncio raises RuntimeError): its error raises here. A task cancelled
 * while it was running (it cancelled itself, or was cancelled by a callback
 * between its steps) cancels the future it awaits next and waits for it, as
 * asyncio's Task does with _must_cancel (bpo-34872): awaiting a task then
 * cancels that task. */
#define CB__AWAIT_FUT_L(lbl, fut, err_lv)                                              \
  do {                                                                               \
    if (cb__t->throw_err ? cb__future_wait_cancelling(cb__t, (fut))                  \
                         : cb__future_wait(cb__t, (fut))) {                          \
      cb__co->label = (lbl);                                                         \
      return CB_CO_PENDING;                                                          \
    case (lbl):;                                                                     \
    }                                                                                \
    (err_lv) = cb__future_outcome(cb__t, (fut));                                     \
  } while (0)
#define CB_AWAIT(fut) \
  do { CB__AWAIT_FUT_L(__COUNTER__ + 1, fut, cb__e); CB__RAISE_IF(cb__e); } while (0)
#define CB_AWAIT_TRY(fut, err_lv) CB__AWAIT_FUT_L(__COUNTER__ + 1, fut, err_lv)

/* Sleep ns nanoseconds (0: yield to the other ready callbacks once). No future,
 * no allocation: the task's own timer goes on the timer queue. */
#define CB_SLEEP(ns) \
  do { CB__AWAIT(cb__task_sleep(cb__t, (ns)), cb__task_take_throw(cb__t), cb__e); CB__RAISE_IF(cb__e); } while (0)
#define CB_SLEEP_TRY(ns, err_lv) CB__AWAIT(cb__task_sleep(cb__t, (ns)), cb__task_take_throw(cb__t), err_lv)
/* Sleep until loop time `when` (ns, cb_loop_time's clock): saves a clock read. */
#define CB_SLEEP_UNTIL(when) \
  do { CB__AWAIT(cb__task_sleep_until(cb__t, (when)), cb__task_take_throw(cb__t), cb__e); CB__RAISE_IF(cb__e); } while (0)

/* Await a child coroutine running in this task (`yield from`): child_frame is
 * a frame field whose co is reset here; its ret is in (child_frame)->co.ret. */
#define CB__CALL_L(lbl, fn, child, err_lv)                         \
  do {                                                             \
    (child)->co.label = 0;                                         \
    (child)->co.err = 0;                                           \
    cb__co->label = (lbl);                                         \
    __attribute__((fallthrough));                                  \
  case (lbl):                                                      \
    if ((fn)(cb__t, (child)) == CB_CO_PENDING) return CB_CO_PENDING; \
    (err_lv) = (cb_err){(child)->co.err, (child)->co.msg};         \
  } while (0)
#define CB_CALL(fn, child) \
  do { CB__CALL_L(__COUNTER__ + 1, fn, child, cb__e); CB__RAISE_IF(cb__e); } while (0)
#define CB_CALL_TRY(fn, child, err_lv) CB__CALL_L(__COUNTER__ + 1, fn, child, err_lv)

/* ---- internals the macros use ---- */
enum { CB__WAIT_NONE, CB__WAIT_FUTURE, CB__WAIT_TIMER, CB__WAIT_PARKED, CB__WAIT_READY };
int cb__future_wait(cb_task *t, cb_future *f);
/* With a cancellation pending: passes it to f if f accepts it, then waits for f. */
int cb__future_wait_cancelling(cb_task *t, cb_future *f);
cb_err cb__future_outcome(cb_task *t, cb_future *f);
int cb__task_sleep(cb_task *t, uint64_t ns);
int cb__task_sleep_until(cb_task *t, uint64_t when);
cb_err cb__task_take_throw(cb_task *t);
/* Parks t on a wait list (its wake handle is the node); a waker moves it to the
 * ready queue with cb__task_unpark(t, granted). Returns 1. */
int cb__task_park(cb_task *t, cb_list *waiters);
void cb__task_unpark(cb_task *t, int granted);
static inline cb_task *cb__task_of_node(cb_list *n) {
  return cb__container_of(n, cb_task, wake.h.node);
}
__attribute__((noreturn)) void cb__co_bad_label(uint32_t label);

#endif
