/* loop.c — the loop itself: iterations, ready queue, run/stop/close, the
 * thread-safe entry and the exception handler. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtimes/loop/loop_int.h"

/* A ready queue that never empties (two tasks ping-ponging) would poll libuv once
 * per callback batch; poll at most once per POLL_EVERY_NS while work is ready. */
#define POLL_EVERY_NS 50000u
#define SLOW_CALLBACK_NS 100000000u

uint64_t cb__now(void) {
  struct timespec ts;
  CB_CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t cb_loop_time(const cb_loop *l) { return cb__now(); }

static void default_handler(cb_loop *l, const char *message, void *arg) {
  fprintf(stderr, "concbench loop: %s\n", message);
}

void cb__report(cb_loop *l, const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  l->exc_fn(l, line, l->exc_arg);
}

void cb_loop_set_exception_handler(cb_loop *l, cb_exception_handler fn, void *arg) {
  l->exc_fn = fn ? fn : default_handler;
  l->exc_arg = arg;
}

void cb_loop_set_debug(cb_loop *l, int on) { l->debug = on != 0; }
int cb_loop_get_debug(const cb_loop *l) { return l->debug; }
uint64_t cb_loop_tasks_created(const cb_loop *l) { return l->tasks_created; }
uint64_t cb_loop_tasks_alive(const cb_loop *l) { return l->tasks_alive; }
uint64_t cb_loop_tasks_peak(const cb_loop *l) { return l->tasks_peak; }

static void on_uv_timer(uv_timer_t *t) {
  cb_loop *l = t->data;
  l->armed_for = 0;
}

static void drain_threadsafe(cb_loop *l) {
  CB_CHECK(pthread_mutex_lock(&l->ts_mu) == 0);
  cb__list_splice(&l->ready, &l->ts_queue);
  __atomic_store_n(&l->ts_pending, 0, __ATOMIC_RELAXED);
  CB_CHECK(pthread_mutex_unlock(&l->ts_mu) == 0);
}

static void on_async(uv_async_t *a) { drain_threadsafe(a->data); }

cb_loop *cb_loop_new(void) {
  cb_loop *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  int rc = uv_loop_init(&l->uv);
  if (rc != 0) {
    free(l);
    errno = -rc;
    return NULL;
  }
  CB_CHECK(uv_timer_init(&l->uv, &l->uv_timer) == 0);
  l->uv_timer.data = l;
  CB_CHECK(uv_async_init(&l->uv, &l->async, on_async) == 0);
  l->async.data = l;
  uv_unref((uv_handle_t *)&l->async);
  CB_CHECK(pthread_mutex_init(&l->ts_mu, NULL) == 0);
  cb__list_init(&l->ready);
  cb__list_init(&l->ts_queue);
  cb__list_init(&l->tasks);
  cb__timers_init(l);
  cb__slab_init(l);
  l->exc_fn = default_handler;
  l->slow_ns = SLOW_CALLBACK_NS;
  const char *dbg = getenv("CONCBENCH_LOOP_DEBUG");
  l->debug = dbg && dbg[0] && strcmp(dbg, "0") != 0;
  return l;
}

/* Threadsafe handles queued before this call go first, as in asyncio's one
 * ready deque (the loop's own wakeups push to the ready queue directly). */
void cb_call_soon(cb_loop *l, cb_handle *h, cb_callback fn, void *arg) {
  CB_CHECK(!cb__list_linked(&h->node));
  h->fn = fn;
  h->arg = arg;
  if (__atomic_load_n(&l->ts_pending, __ATOMIC_ACQUIRE)) drain_threadsafe(l);
  cb__list_push_back(&l->ready, &h->node);
}

int cb_handle_cancel(cb_loop *l, cb_handle *h) {
  if (!cb__list_linked(&h->node)) return 0;
  cb__list_remove(&h->node);
  return 1;
}

void cb_call_soon_threadsafe(cb_loop *l, cb_handle *h, cb_callback fn, void *arg) {
  h->fn = fn;
  h->arg = arg;
  CB_CHECK(pthread_mutex_lock(&l->ts_mu) == 0);
  CB_CHECK(!cb__list_linked(&h->node));
  cb__list_push_back(&l->ts_queue, &h->node);
  __atomic_store_n(&l->ts_pending, 1, __ATOMIC_RELEASE);
  CB_CHECK(pthread_mutex_unlock(&l->ts_mu) == 0);
  CB_CHECK(uv_async_send(&l->async) == 0);
}

void cb_loop_hold(cb_loop *l) {
  if (l->holds++ == 0) uv_ref((uv_handle_t *)&l->async);
}

void cb_loop_unhold(cb_loop *l) {
  CB_CHECK(l->holds > 0);
  if (--l->holds == 0) uv_unref((uv_handle_t *)&l->async);
}

void cb_loop_stop(cb_loop *l) { l->stopping = 1; }

static void describe_handle(const cb_handle *h, char *buf, size_t len) {
  if (h->fn == cb__task_step) {
    char name[64];
    snprintf(buf, len, "task '%s'", cb_task_name(h->arg, name, sizeof name));
  } else {
    snprintf(buf, len, "callback %p", (void *)(uintptr_t)h->fn);
  }
}

/* Runs the handles that were ready when it began; later ones wait for the next
 * iteration, so IO and timers are never starved. */
static unsigned run_ready(cb_loop *l) {
  cb_list batch;
  cb__list_init(&batch);
  cb__list_splice(&batch, &l->ready);
  unsigned ran = 0;
  for (; !cb__list_empty(&batch); ran++) {
    cb_handle *h = cb__container_of(batch.next, cb_handle, node);
    cb__list_remove(&h->node);
    if (!l->debug) {
      h->fn(h->arg);
      continue;
    }
    char what[96];
    describe_handle(h, what, sizeof what); /* before: the callback may free h */
    uint64_t t0 = cb__now();
    h->fn(h->arg);
    uint64_t dt = cb__now() - t0;
    if (dt >= l->slow_ns)
      cb__report(l, "executing %s took %.3f seconds (debug: slow callback blocked the loop)",
                 what, dt / 1e9);
  }
  return ran;
}

/* One iteration: poll libuv (blocking until the next deadline when nothing is
 * ready), move due timers to the ready queue, run the ready batch. -EDEADLK when
 * nothing is ready, queued, pending in libuv, or held. While callbacks keep
 * coming and no timer is queued the clock is read once per 64 callbacks run. */
static int iterate(cb_loop *l, uint64_t *last_poll, unsigned *ran) {
  if (cb__list_empty(&l->ready) && !l->stopping) {
    uint64_t now = cb__now();
    uint64_t next = cb__timers_next(l);
    if (next == 0) {
      if (l->armed_for) {
        uv_timer_stop(&l->uv_timer);
        l->armed_for = 0;
      }
      if (!uv_loop_alive(&l->uv)) return -EDEADLK;
      uv_run(&l->uv, UV_RUN_ONCE);
    } else if (next > now) {
      if (l->armed_for != next) {
        uint64_t ms = (next - now + 999999) / 1000000;
        /* libuv counts from its cached time: refresh it, or a stale one makes the
         * timer fire at once and the poll then blocks without a deadline. */
        uv_update_time(&l->uv);
        CB_CHECK(uv_timer_start(&l->uv_timer, on_uv_timer, ms, 0) == 0);
        l->armed_for = next;
      }
      uv_run(&l->uv, UV_RUN_ONCE);
    } else {
      uv_run(&l->uv, UV_RUN_NOWAIT);
    }
    *last_poll = cb__now();
    if (l->timers.count) cb__timers_fire(l, *last_poll);
  } else if (l->timers.count || *ran >= 64) {
    uint64_t now = cb__now();
    *ran = 0;
    if (now - *last_poll >= POLL_EVERY_NS) {
      uv_run(&l->uv, UV_RUN_NOWAIT);
      *last_poll = now;
    }
    if (l->timers.count) cb__timers_fire(l, now);
  }
  *ran += run_ready(l);
  return 0;
}

static void set_flag(void *arg) { *(int *)arg = 1; }

/* As asyncio: a done callback on fut ends the run, so the callbacks fut had before
 * (and whatever else was ready in that iteration) have run when it returns. */
int cb_loop_run_until_complete(cb_loop *l, cb_future *fut) {
  if (l->running) return -EBUSY;
  l->running = 1; /* a stop requested before the run ends it after one iteration */
  uint64_t last_poll = 0;
  unsigned spins = 0;
  int rc = 0, done = 0;
  cb_handle h = {0};
  cb_future_add_done_callback(fut, &h, set_flag, &done);
  do rc = iterate(l, &last_poll, &spins);
  while (!done && rc == 0 && !l->stopping);
  if (!done) { /* h is on fut's callbacks, or on the ready queue */
    if (!cb_future_remove_done_callback(fut, &h)) cb_handle_cancel(l, &h);
    if (rc == 0) rc = -EINTR; /* stopped first */
  }
  l->stopping = 0;
  l->running = 0;
  return rc;
}

int cb_loop_run_forever(cb_loop *l) {
  if (l->running) return -EBUSY;
  l->running = 1; /* a stop requested before the run ends it after one iteration */
  uint64_t last_poll = 0;
  unsigned spins = 0;
  int rc = 0;
  do rc = iterate(l, &last_poll, &spins);
  while (!l->stopping && rc == 0);
  l->stopping = 0;
  l->running = 0;
  return rc;
}

int cb_loop_close(cb_loop *l) {
  if (l->running) return -EBUSY;
  while (l->exec_pending) uv_run(&l->uv, UV_RUN_ONCE);
  cb__tasks_close(l);
  cb__list_init(&l->ready); /* what is left belongs to freed frames or callers */
  cb__timers_free(l);
  cb__io_close(l);
  uv_close((uv_handle_t *)&l->uv_timer, NULL);
  uv_close((uv_handle_t *)&l->async, NULL);
  uv_run(&l->uv, UV_RUN_DEFAULT);
  CB_CHECK(uv_loop_close(&l->uv) == 0);
  CB_CHECK(pthread_mutex_destroy(&l->ts_mu) == 0);
  cb__slab_destroy(l);
  free(l);
  return 0;
}
