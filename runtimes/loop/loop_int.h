/* loop_int.h — the loop's private state, shared by the files of runtimes/loop. */
#ifndef CB_LOOP_INT_H
#define CB_LOOP_INT_H

#include <pthread.h>
#include <uv.h>

#include "common/check.h"
#include "runtimes/loop/task.h"

#define CB__SLAB_CLASSES 64 /* sizes up to 64 * 16 = 1024 bytes */

struct cb_loop {
  uv_loop_t uv;
  uv_timer_t uv_timer; /* armed for the earliest deadline of the timer queue */
  uv_async_t async;    /* wakes the loop for call_soon_threadsafe */
  cb_list ready;       /* handles to run next iteration, FIFO */

  cb_timer_heap timers; /* cb_timer.tnode, lane linked through cb_timer.h.node */
  uint64_t armed_for;   /* deadline the uv_timer is armed for, 0 = disarmed */

  pthread_mutex_t ts_mu; /* guards ts_queue */
  cb_list ts_queue;
  int ts_pending; /* atomic: ts_queue may be non-empty (cb_call_soon drains it first) */
  int holds;

  cb_list tasks; /* every live task */
  uint64_t tasks_created, tasks_alive, tasks_peak;
  uint32_t next_task_id;
  uint64_t exec_pending; /* executor jobs queued or running */

  cb_task_hook on_task_start, on_task_done;
  void *hook_arg;

  /* Task allocator (slab.c): per-size-class free lists carved from big blocks. */
  void *slab_free[CB__SLAB_CLASSES + 1];
  unsigned char *slab_cur, *slab_end;
  void *slab_blocks;
  int slab_on;

  cb_task *current;
  int stopping, running, debug;
  uint64_t slow_ns;
  cb_exception_handler exc_fn;
  void *exc_arg;
  struct cb__io *io; /* the IO layer's state (io_int.h), NULL until first used */
};

/* Future kinds: what cb_future_cancel does (future.c dispatches on them). */
enum {
  CB__FUT_PLAIN,
  CB__FUT_TASK,
  CB__FUT_GATHER,
  CB__FUT_WAIT,
  CB__FUT_WAIT_FOR,
  CB__FUT_SHIELD,
  CB__FUT_AS_COMPLETED,
  CB__FUT_EXEC,
  CB__FUT_NKINDS
};

uint64_t cb__now(void);
/* Moves a done future's callbacks to the ready queue. */
void cb__future_schedule_callbacks(cb_future *f);
/* Plain cancel (state change + callbacks); 1 if it was pending. */
int cb__future_cancel_plain(cb_future *f, const char *msg);
int cb__task_cancel_fut(cb_future *f, const char *msg);
int cb__gather_cancel(cb_future *f, const char *msg);
int cb__wait_cancel(cb_future *f, const char *msg);
int cb__wait_for_cancel(cb_future *f, const char *msg);
int cb__shield_cancel(cb_future *f, const char *msg);
int cb__as_completed_cancel(cb_future *f, const char *msg);
int cb__exec_cancel(cb_future *f, const char *msg);

/* Timer queue (timer.c, on common/timer_heap.h). */
void cb__timers_init(cb_loop *l);
void cb__timers_free(cb_loop *l);
/* Queues t (not queued, not on any list) for loop time `when`: O(1) on the lane. */
static inline void cb__timer_add(cb_loop *l, cb_timer *t, uint64_t when) {
  cb__timer_heap_add(&l->timers, &t->tnode, when);
}
/* 1 if t was queued (and is no more). */
static inline int cb__timer_remove(cb_loop *l, cb_timer *t) { return cb__timer_heap_remove(&l->timers, &t->tnode); }
/* Moves every timer due at `now` to the ready queue. */
void cb__timers_fire(cb_loop *l, uint64_t now);
/* Earliest deadline, or 0 when there are no timers. */
uint64_t cb__timers_next(const cb_loop *l);

/* Task memory (slab.c). *cls receives the class to pass back to free (0 = malloc). */
void cb__slab_init(cb_loop *l);
void *cb__slab_alloc(cb_loop *l, size_t size, uint8_t *cls);
void cb__slab_free(cb_loop *l, void *p, uint8_t cls);
void cb__slab_destroy(cb_loop *l);

void cb__report(cb_loop *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cb__task_step(void *arg);
/* Releases the IO layer's state at close (io.c); its handles close in the
 * last uv_run. */
void cb__io_close(cb_loop *l);
/* Frees every live task at close (task.c). */
void cb__tasks_close(cb_loop *l);

#endif
