/* task.c — tasks: creation, the step that resumes a coroutine, waiting, waking,
 * cancellation, and reference counting with the "never retrieved" report. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/loop/loop_int.h"

void cb__co_bad_label(uint32_t label) {
  fprintf(stderr, "concbench loop: coroutine resumed at unknown label %u (frame corrupt?)\n", label);
  abort();
}

const char *cb_task_name(const cb_task *t, char *buf, size_t len) {
  if (t->name)
    snprintf(buf, len, "%s", t->name);
  else
    snprintf(buf, len, "Task-%u", t->id);
  return buf;
}

/* One malloc of header + frame; the frame is zeroed. */
cb_task *cb_task_new(cb_loop *l, cb_co_fn fn, size_t frame_size, const char *name) {
  CB_CHECK(frame_size >= sizeof(cb_co));
  uint8_t cls;
  cb_task *t = cb__slab_alloc(l, sizeof *t + frame_size, &cls);
  if (!t) return NULL;
  memset(t, 0, sizeof *t);
  memset(t->frame, 0, frame_size);
  cb_future_init(&t->fut, l);
  t->fut.kind = CB__FUT_TASK;
  t->wake.h.fn = cb__task_step;
  t->wake.h.arg = t;
  t->fn = fn;
  t->name = name;
  t->id = ++l->next_task_id;
  t->refs = 1;
  t->slab_cls = cls;
  cb__list_push_back(&l->tasks, &t->link);
  l->tasks_created++;
  if (++l->tasks_alive > l->tasks_peak) l->tasks_peak = l->tasks_alive;
  return t;
}

void cb_task_start(cb_task *t) {
  CB_CHECK(!t->started);
  t->started = 1;
  t->refs++; /* the loop's, dropped when the task is done */
  t->wait_kind = CB__WAIT_READY;
  cb__list_push_back(&t->fut.loop->ready, &t->wake.h.node);
}

cb_task *cb_create_task(cb_loop *l, cb_co_fn fn, size_t frame_size, const char *name) {
  cb_task *t = cb_task_new(l, fn, frame_size, name);
  if (t) cb_task_start(t);
  return t;
}

void cb_task_retain(cb_task *t) {
  CB_CHECK(t->refs > 0);
  t->refs++;
}

static void report_unretrieved(cb_task *t) {
  if (t->fut.state != CB_FUT_FINISHED || t->fut.err == 0 || t->fut.retrieved || t->reported) return;
  char name[64];
  t->reported = 1;
  cb__report(t->fut.loop, "Task exception was never retrieved: task '%s': %s (%s)",
             cb_task_name(t, name, sizeof name), t->fut.msg ? t->fut.msg : "error",
             strerror(-t->fut.err));
}

static void task_free(cb_task *t) {
  cb_loop *l = t->fut.loop;
  char name[64];
  if (!t->started && l->debug)
    cb__report(l, "coroutine of task '%s' was never awaited (debug)", cb_task_name(t, name, sizeof name));
  report_unretrieved(t);
  cb__list_remove(&t->link);
  l->tasks_alive--;
  cb__slab_free(l, t, t->slab_cls);
}

void cb_task_release(cb_task *t) {
  CB_CHECK(t->refs > 0);
  if (--t->refs == 0) task_free(t);
}

static void task_finish(cb_task *t, cb_co *co) {
  cb_future *f = &t->fut;
  if (co->err == -ECANCELED) {
    cb__future_cancel_plain(f, co->msg);
  } else if (co->err) {
    CB_CHECK(cb_future_set_error(f, co->err, co->msg) == 0);
  } else {
    CB_CHECK(cb_future_set_result(f, co->ret) == 0);
  }
  cb_loop *l = f->loop;
  if (l->on_task_done) l->on_task_done(t, l->hook_arg);
  cb_task_release(t); /* the loop's reference */
}

void cb_loop_set_task_hooks(cb_loop *l, cb_task_hook on_start, cb_task_hook on_done, void *arg) {
  l->on_task_start = on_start;
  l->on_task_done = on_done;
  l->hook_arg = arg;
}

/* Resumes the coroutine at its last await point. A cancellation requested before
 * the first step ends the task without running it (asyncio does the same). */
void cb__task_step(void *arg) {
  cb_task *t = arg;
  cb_loop *l = t->fut.loop;
  cb_co *co = (cb_co *)t->frame;
  t->wait_kind = CB__WAIT_NONE;
  t->waiting = NULL;
  if (co->label == 0 && l->on_task_start) l->on_task_start(t, l->hook_arg);
  if (co->label == 0 && t->throw_err) {
    co->err = t->throw_err;
    co->msg = t->fut.msg;
    co->label = CB__CO_FINISHED;
  } else {
    l->current = t;
    int r = t->fn(t, t->frame);
    l->current = NULL;
    if (r == CB_CO_PENDING) {
      CB_CHECK(t->wait_kind != CB__WAIT_NONE); /* suspended without a wakeup */
      return;
    }
    CB_CHECK(co->label == CB__CO_FINISHED);
    /* Cancelled while running, and it returned before reaching an await. */
    if (t->throw_err && co->err == 0) {
      co->err = -ECANCELED;
      co->msg = t->fut.msg;
    }
  }
  t->throw_err = 0;
  task_finish(t, co);
}

int cb__future_wait(cb_task *t, cb_future *f) {
  if (cb_future_done(f)) return 0;
  CB_CHECK(f != &t->fut); /* a task awaiting itself */
  cb__list_push_back(&f->callbacks, &t->wake.h.node);
  t->wait_kind = CB__WAIT_FUTURE;
  t->waiting = f;
  return 1;
}

int cb__future_wait_cancelling(cb_task *t, cb_future *f) {
  if (cb_future_done(f) || f == &t->fut || !cb_future_cancel(f, t->fut.msg)) return 0;
  t->throw_err = 0; /* handed to f: its outcome is delivered here */
  return cb__future_wait(t, f);
}

cb_task *cb_loop_current_task(const cb_loop *l) { return l->current; }

cb_err cb__task_take_throw(cb_task *t) {
  int code = t->throw_err ? t->throw_err : t->deferred_cancel ? -ECANCELED : 0;
  cb_err e = {code, code ? t->fut.msg : NULL};
  t->throw_err = 0;
  t->deferred_cancel = 0;
  return e;
}

cb_err cb__future_outcome(cb_task *t, cb_future *f) {
  if (t->throw_err) return cb__task_take_throw(t);
  CB_CHECK(cb_future_done(f));
  return cb_future_error(f);
}

int cb__task_sleep(cb_task *t, uint64_t ns) {
  cb_loop *l = t->fut.loop;
  if (ns == 0) {
    cb__list_push_back(&l->ready, &t->wake.h.node);
    t->wait_kind = CB__WAIT_READY;
    return 1;
  }
  return cb__task_sleep_until(t, cb__now() + ns);
}

int cb__task_sleep_until(cb_task *t, uint64_t when) {
  cb__timer_add(t->fut.loop, &t->wake, when);
  t->wait_kind = CB__WAIT_TIMER;
  return 1;
}

int cb__task_park(cb_task *t, cb_list *waiters) {
  cb__list_push_back(waiters, &t->wake.h.node);
  t->wait_kind = CB__WAIT_PARKED;
  t->granted = 0;
  return 1;
}

void cb__task_unpark(cb_task *t, int granted) {
  CB_CHECK(t->wait_kind == CB__WAIT_PARKED);
  cb__list_remove(&t->wake.h.node);
  t->granted = (uint8_t)granted;
  t->wait_kind = CB__WAIT_READY;
  cb__list_push_back(&t->fut.loop->ready, &t->wake.h.node);
}

int cb_task_cancel(cb_task *t, const char *msg) {
  cb_loop *l = t->fut.loop;
  if (cb_future_done(&t->fut)) {
    t->fut.retrieved = 1; /* asyncio: cancel() clears the traceback log flag */
    return 0;
  }
  switch (t->wait_kind) {
  case CB__WAIT_FUTURE:
    if (cb_future_cancel(t->waiting, msg)) return 1;
    break;
  case CB__WAIT_TIMER:
    if (cb__timer_remove(l, &t->wake)) cb__list_push_back(&l->ready, &t->wake.h.node);
    t->wait_kind = CB__WAIT_READY;
    break;
  case CB__WAIT_PARKED:
    cb__list_remove(&t->wake.h.node);
    cb__list_push_back(&l->ready, &t->wake.h.node);
    t->wait_kind = CB__WAIT_READY;
    break;
  default:
    break; /* running, ready, or not started: delivered at the next await */
  }
  t->throw_err = -ECANCELED;
  t->fut.msg = msg;
  return 1;
}

int cb__task_cancel_fut(cb_future *f, const char *msg) {
  return cb_task_cancel(cb__container_of(f, cb_task, fut), msg);
}

void cb__tasks_close(cb_loop *l) {
  char name[64];
  /* First unhook every pending task from the queues it sits in, while every
   * list head still exists; then report and free. */
  for (cb_list *n = l->tasks.next; n != &l->tasks; n = n->next) {
    cb_task *t = cb__container_of(n, cb_task, link);
    if (cb_future_done(&t->fut)) continue;
    if (!cb__timer_remove(l, &t->wake) && cb__list_linked(&t->wake.h.node))
      cb__list_remove(&t->wake.h.node);
  }
  while (!cb__list_empty(&l->tasks)) {
    cb_task *t = cb__container_of(l->tasks.next, cb_task, link);
    if (t->started && !cb_future_done(&t->fut))
      cb__report(l, "Task was destroyed but it is pending: task '%s'", cb_task_name(t, name, sizeof name));
    t->started = 1; /* the never-awaited warning is for releases, not for close */
    task_free(t);
  }
}
