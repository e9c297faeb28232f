/* sched.c — the M:1 scheduler: spawn, join, yield, sleep, exit, park/ready.
 *
 * All state lives in one cb_green_sched. The only per-OS-thread variable is cb__tls_sched,
 * the scheduler running on this thread (under M:N, mn.c runs one per worker OS thread);
 * the syscall hooks use it to tell "inside a green thread" from everything else.
 * Under M:N (s->mn set) a few steps differ, each behind one test of s->mn: a spawn
 * queues the child where idle workers may steal it, the next thread is chosen by
 * cb__mn_next, and the end of a joinable thread, or of one whose record and stack
 * came from another worker's pool (it goes back there), is handed over by whatever
 * runs next on its worker, once its stack is left (s->exited, cb__mn_after_switch, in
 * M:N's version of switch_out only).
 *
 * Switching goes straight from one green thread to the next ready one; the main
 * context (the OS thread in cb_green_sched_run) is entered only when the run queue is
 * empty (it then blocks in libuv for IO and timers) or once every thread that was
 * ready at the last poll has had its turn, and at least CB__POLL_EVERY switches
 * (it then polls libuv without blocking so that IO is not starved by yield loops;
 * each poll also checks, with one ppoll, the fds waited for but not yet registered
 * with libuv: io.c registers an fd lazily).
 * A thread woken by IO thus runs before the next poll: polling sooner would report
 * its fd again (epoll is level-triggered and the data is still unread), and with
 * thousands of woken threads every poll would return the same thousand events.
 * Copy mode (copystack.c, green_int.h): once s has a shared stack (s->cs), switch_out
 * takes a third version, which routes a switch between two copy-mode threads through
 * the main context and copies a thread's bytes back before a switch from a thread of
 * its own stack; without one, the test of s->mn is a test of s->mn | s->cs.
 * Run queue policy: a new child goes to the front (runs next, depth first, like Go's
 * runnext), a thread parked in join is resumed right after the child it joins exits
 * (front), everything else (yield, wake-ups) goes to the back. */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtimes/green/green_int.h"
#include "runtimes/green/sanitize.h"

#define CB__POLL_EVERY 64

static void ready_back(cb_green_sched *s, cb_green *g) {
  cb__list_push_back(&s->ready, &g->link);
  s->nready++;
}

static void ready_front(cb_green_sched *s, cb_green *g) {
  cb__list_push_front(&s->ready, &g->link);
  s->nready++;
}

static cb_green *ready_pop(cb_green_sched *s) {
  cb_list *l = cb__list_pop_front(&s->ready);
  if (!l) return NULL;
  s->nready--;
  return cb__container_of(l, cb_green, link);
}

/* Switches the main context allows before it polls IO again. */
static int poll_budget(const cb_green_sched *s) {
  if (s->nready <= CB__POLL_EVERY) return CB__POLL_EVERY;
  return s->nready < INT_MAX ? (int)s->nready + 1 : INT_MAX;
}
int cb__green_poll_budget(const cb_green_sched *s) { return poll_budget(s); }
cb_green *cb__green_ready_pop(cb_green_sched *s) { return ready_pop(s); }
void cb__green_ready_push(cb_green_sched *s, cb_green *g, int front) {
  g->state = CB__G_READY;
  if (front) ready_front(s, g);
  else ready_back(s, g);
}

__thread cb_green_sched *cb__tls_sched;

cb_green_sched *cb_green_current_sched(void) { return cb__green_tls(); }

cb_green *cb_green_self(void) {
  cb_green_sched *s = cb__tls_sched;
  return s ? s->current : NULL;
}

int64_t cb__mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int cb_green_sched_new(size_t stack_size, cb_green_sched **out) {
  cb_green_sched *s = calloc(1, sizeof *s);
  if (!s) return -ENOMEM;
  int r = cb__stack_pool_init(&s->stacks, stack_size);
  if (r == 0) r = uv_loop_init(&s->loop);
  if (r != 0) {
    free(s);
    return r;
  }
  s->loop.data = s;
  CB_CHECK(uv_idle_init(&s->loop, &s->wake) == 0);
  cb__green_timers_init(s);
  cb__list_init(&s->ready);
  cb__list_init(&s->free_threads);
  cb__list_init(&s->cold);
  cb__list_init(&s->idle_fds);
  cb__list_init(&s->pending_fds);
  *out = s;
  return 0;
}

void cb_green_sched_stats(const cb_green_sched *s, cb_green_stats *out) {
  out->created = s->created;
  out->peak_live = s->peak_live;
  out->peak_threads = s->peak_threads;
  out->stacks = s->stacks.count;
  out->switches = s->switches;
  out->io_events = s->io_events;
  out->io_registrations = s->io_registrations;
  out->stack_size = s->stacks.size;
  out->copy_saves = s->cs ? s->cs->saves : 0;
  out->copy_saved_bytes = s->cs ? s->cs->saved_bytes : 0;
  out->copy_buffer_bytes = s->cs ? s->cs->buffer_bytes : 0;
  out->stack_samples = s->stack_samples;
  out->stack_sampled_bytes = s->stack_sampled_bytes;
  out->stack_trimmed = s->stacks.drops > 0;
  out->stack_resident_bytes = out->stack_trimmed ? 0 : cb__stack_pool_resident(&s->stacks);
  out->stack_vm_bytes = cb__stack_vm_bytes(&s->stacks);
  out->record_bytes = 0;
  /* the records made and their blocks' overhead; a block's unused slots are never
   * touched (fresh calloc'd memory) and cost no memory */
  for (const cb__green_block *b = s->blocks; b; b = b->next)
    out->record_bytes += malloc_usable_size((void *)b) - (CB__GREEN_BLOCK - b->used) * sizeof(cb_green);
}

static void close_noop(uv_handle_t *h) { (void)h; }

void cb_green_sched_free(cb_green_sched *s) {
  CB_CHECK(!s->running);
  cb__green_timers_close(s);
  uv_close((uv_handle_t *)&s->wake, close_noop);
  cb__io_destroy(s);
  uv_run(&s->loop, UV_RUN_DEFAULT);
  CB_CHECK(uv_loop_close(&s->loop) == 0);
  if (s->cs) cb__cs_free(s);
  while (s->blocks) {
    cb__green_block *b = s->blocks;
    if (RUNNING_ON_VALGRIND)
      for (size_t i = 0; i < b->used; i++)
        if (!b->threads[i].copy && b->threads[i].stack_lo) cb__vg_stack_deregister(b->threads[i].vg_id);
    for (size_t i = 0; i < b->used; i++) cb__tsan_fiber_free(b->threads[i].tsan_fiber);
    s->blocks = b->next;
    free(b);
  }
  cb__stack_pool_destroy(&s->stacks);
  free(s);
}

/* Puts g, finished, on the free list. Past CB_GREEN_WARM_STACKS free ones, its stack
 * goes on s->cold instead, to be given back to the kernel by trim_cold: after a burst of
 * 100,000 threads, 400 MiB of touched stack would otherwise stay resident until the
 * scheduler is freed (and then cost the teardown ~40 ms of page freeing on top of
 * the run). g may still be running on that stack: the pages are dropped later, from
 * the main context. Once stacks have been trimmed, one in CB__STACK_SAMPLE_EVERY has
 * its stack's resident pages counted (memory.c). */
static void put_free(cb_green_sched *s, cb_green *g) {
  g->state = CB__G_FREE;
  g->sched = s; /* M:N: it may have run on another worker */
  if (__builtin_expect(s->cs != NULL, 0) && g->copy) {
    cb__list_push_front(&s->cs->free, &g->link); /* no stack of its own to trim */
    return;
  }
  if (__builtin_expect((s->retired++ & (CB__STACK_SAMPLE_EVERY - 1)) == 0, 0) && s->stacks.drops)
    cb__green_sample_stack(s, g);
  if (s->nfree < CB_GREEN_WARM_STACKS) {
    cb__list_push_front(&s->free_threads, &g->link);
    s->nfree++;
  } else {
    cb__list_push_back(&s->cold, &g->link);
  }
}

/* From the main context, when no green thread is ready (the work fills time the
 * scheduler would spend blocked): drops the pages of the stacks on s->cold and puts
 * them at the back of the free list, behind the warm ones. A dropped stack reads as
 * zero again, canaries included. */
static void trim_cold(cb_green_sched *s) {
  /* Threads finish in about the order they were made, so consecutive cold stacks
   * are often neighbours: one madvise per run of them, not one per stack. */
  char *lo = NULL, *hi = NULL;
  int lo_canary = 0; /* of the stack at the bottom of [lo, hi) */
  cb_list *l;
  while ((l = cb__list_pop_front(&s->cold))) {
    cb_green *g = cb__container_of(l, cb_green, link);
    char *glo = g->stack_lo, *ghi = glo + s->stacks.size;
    if (lo && cb__stack_joinable(&s->stacks, lo, hi, lo_canary, glo, g->canary)) {
      if (glo < lo) lo = glo, lo_canary = g->canary;
      else hi = ghi;
    } else {
      if (lo) cb__stack_drop(&s->stacks, lo, hi);
      lo = glo;
      hi = ghi;
      lo_canary = g->canary;
    }
    cb__list_push_back(&s->free_threads, &g->link);
    s->nfree++;
  }
  if (lo) cb__stack_drop(&s->stacks, lo, hi);
}
/* A thread ends for good: one fewer in existence, its record and stack to the pool. */
static void retire(cb_green_sched *s, cb_green *g) {
  s->threads--;
  put_free(s, g);
}
void cb__green_retire(cb_green_sched *s, cb_green *g) { retire(s, g); }
void cb__green_put_stack(cb_green_sched *s, cb_green *g) { put_free(s, g); }
void cb__green_trim(cb_green_sched *s) { trim_cold(s); }

/* Switches from the running green thread g (already queued, parked or finished) to
 * the next ready one, or to the main context. Returns when g is resumed. Checks g's
 * stack first (stack.c). Cost: a few ns plus the switch. Compiled twice from this one
 * body: mn a constant, so that M:1's version has no M:N step in it. */
static inline __attribute__((always_inline)) void switch_out_as(cb_green_sched *s, cb_green *g, int mn, int cs) {
  void *fake = NULL;
  cb__stack_check(g->stack_lo, s->stacks.size, g->canary, (uintptr_t)&fake);
  cb_green *next = NULL;
  if (--s->budget > 0) next = mn ? cb__mn_next(s) : ready_pop(s);
  if (next == g) {
    g->state = CB__G_RUNNING;
    return;
  }
  if (cs && next && next->copy && next != s->cs->owner) {
    if (g->copy) { /* g runs on the shared stack: the main context copies next in */
      ready_front(s, next);
      next = NULL;
    } else {
      cb__cs_acquire(s, next);
    }
  }
  s->switches++;
  void **fake_save = g->state == CB__G_DONE || g->state == CB__G_FREE ? NULL : &fake;
  if (next) {
    next->state = CB__G_RUNNING;
    s->current = next;
    cb__san_start_switch(fake_save, next->stack_lo, s->stacks.size);
    cb__tsan_switch(next->tsan_fiber);
    cb__gctx_switch(&g->ctx, &next->ctx);
  } else {
    s->current = NULL;
    cb__san_start_switch(fake_save, s->main_stack_lo, s->main_stack_size);
    cb__tsan_switch(s->tsan_main);
    cb__gctx_switch(&g->ctx, &s->main_ctx);
  }
  cb__san_finish_switch(fake);
  if (mn && s->exited) cb__mn_after_switch(s);
}

static void switch_out(cb_green_sched *s, cb_green *g) {
  if (__builtin_expect(((uintptr_t)s->mn | (uintptr_t)s->cs) == 0, 1)) switch_out_as(s, g, 0, 0);
  else if (s->mn) switch_out_as(s, g, 1, 0);
  else switch_out_as(s, g, 0, 1);
}

__attribute__((noreturn)) void cb_green_exit(void) {
  cb_green_sched *s = cb__green_tls();
  CB_CHECK(s != NULL);
  cb_green *g = s->current;
  s->live--;
  if (g->detached && (!s->mn || g->home == s->mn_index)) {
    /* nothing can take it from this scheduler's free list before we have switched
     * away (M:N too: only this worker spawns from it) */
    retire(s, g);
  } else if (s->mn) {
    /* M:N: its joiner, or its home worker (it came from another's pool), may run on
     * another worker and reuse this stack as soon as it is handed over, so whatever
     * runs next here hands it over (cb__mn_after_switch) */
    g->state = CB__G_DONE;
    s->exited = g;
  } else {
    g->state = CB__G_DONE;
    if (g->joiner) {
      g->joiner->state = CB__G_READY;
      ready_front(s, g->joiner);
    }
  }
  switch_out(s, g);
  CB_CHECK(!"finished green thread resumed");
  abort();
}

void cb__green_entry(void *p) {
  cb_green *g = p;
  cb__san_finish_switch(NULL);
  if (__builtin_expect(g->sched->exited != NULL, 0)) cb__mn_after_switch(g->sched);
  g->fn(g->arg);
  cb_green_exit();
}

/* A finished thread to reuse, warm ones first, or NULL. M:N: with none left, the
 * ones other workers sent back (cb__mn_take_returns) before a new stack is mapped. */
static cb_green *reusable_thread(cb_green_sched *s) {
  cb_list *l = cb__list_pop_front(&s->free_threads);
  if (l) s->nfree--;
  else l = cb__list_pop_front(&s->cold); /* not trimmed yet: still warm */
  if (!l && s->mn && cb__mn_take_returns(s)) return reusable_thread(s);
  return l ? cb__container_of(l, cb_green, link) : NULL;
}

/* A new thread record (the next slot of the current block; a calloc per
 * CB__GREEN_BLOCK threads) with a fresh stack. Records are never freed one by one:
 * a finished one waits on the free list with its stack, teardown frees whole blocks. */
static cb_green *next_record(cb_green_sched *s) {
  if (!s->blocks || s->blocks->used == CB__GREEN_BLOCK) {
    cb__green_block *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->next = s->blocks;
    s->blocks = b;
  }
  return &s->blocks->threads[s->blocks->used];
}

cb_green *cb__green_record(cb_green_sched *s) {
  cb_green *g = next_record(s);
  if (g) s->blocks->used++;
  return g;
}

static int new_thread(cb_green_sched *s, cb_green **out) {
  cb_green *g = next_record(s);
  if (!g) return -ENOMEM;
  int r = cb__stack_alloc(&s->stacks, &g->stack_lo, &g->canary);
  if (r != 0) return r; /* the slot stays free for the next try */
  s->blocks->used++;
  g->home = (uint16_t)s->mn_index;
  g->vg_id = cb__vg_stack_register(g->stack_lo, s->stacks.size);
  /* links and timer node: zeroed by calloc, unlinked and not queued */
  *out = g;
  return 0;
}

/* What every new thread's record gets, whatever its stack: a fresh TSan fiber, its
 * function, not joined, not started; counted made and in existence. */
static void start_record(cb_green_sched *s, cb_green *g, void (*fn)(void *), void *arg, int detached) {
  cb__tsan_fiber_free(g->tsan_fiber);
  g->tsan_fiber = cb__tsan_fiber_new();
  g->sched = s;
  g->fn = fn;
  g->arg = arg;
  g->detached = detached;
  g->joiner = NULL;
  g->state = CB__G_NEW;
  s->created++;
  if (++s->threads > s->peak_threads) s->peak_threads = s->threads;
}

/* Contract: see green_int.h. Cost: reused: O(1), no system call; otherwise
 * new_thread's. */
int cb__green_make(cb_green_sched *s, void (*fn)(void *), void *arg, int detached, cb_green **out) {
  cb_green *g = reusable_thread(s);
  if (!g) {
    int r = new_thread(s, &g);
    if (r != 0) return r;
  }
  /* ASan: frames of the previous owner (or of whatever used these addresses before
   * the mmap, e.g. a pthread stack) may have left poisoned shadow behind */
  cb__san_unpoison(g->stack_lo, s->stacks.size);
  start_record(s, g, fn, arg, detached);
  g->pinned = 0;
  cb__gctx_make(&g->ctx, g->stack_lo, cb__stack_usable(&s->stacks), cb__green_entry, g);
  *out = g;
  return 0;
}

/* cb__green_make in copy mode: a finished copy-mode record (its save buffer kept) or
 * a fresh one; its first frame is built when it first gets the shared stack. */
static int make_copy(cb_green_sched *s, void (*fn)(void *), void *arg, int detached, cb_green **out) {
  if (!s->cs) {
    int r = cb__cs_init(s);
    if (r != 0) return r;
  }
  cb_list *l = cb__list_pop_front(&s->cs->free);
  cb_green *g = l ? cb__container_of(l, cb_green, link) : cb__green_record(s);
  if (!g) return -ENOMEM;
  if (s->cs->owner == g) s->cs->owner = NULL; /* its bytes there are a finished thread's */
  start_record(s, g, fn, arg, detached);
  g->copy = 1;
  g->stack_lo = s->cs->lo;
  g->canary = 0;
  g->cs_len = 0;
  *out = g;
  return 0;
}

/* Contract: see green.h. Cost: cb__green_make's plus a queue insertion. */
int cb_green_spawn(cb_green_sched *s, void (*fn)(void *), void *arg, cb_green **out) {
  cb_green *g;
  int r = cb__green_make(s, fn, arg, out == NULL, &g);
  if (r != 0) return r;
  if (out) *out = g;
  if (__builtin_expect(s->mn != NULL, 0)) {
    cb__mn_push_new(s, g); /* counted live by the worker that starts it (mn.c) */
    return 0;
  }
  g->state = CB__G_READY;
  ready_front(s, g);
  if (++s->live > s->peak_live) s->peak_live = s->live;
  return 0;
}

/* Contract: see green.h. Cost: a first one maps the shared stack; then O(1). */
int cb_green_spawn_copy(cb_green_sched *s, void (*fn)(void *), void *arg, cb_green **out) {
  if (s->mn) return -ENOTSUP;
  cb_green *g;
  int r = make_copy(s, fn, arg, out == NULL, &g);
  if (r != 0) return r;
  if (out) *out = g;
  g->state = CB__G_READY;
  ready_front(s, g);
  if (++s->live > s->peak_live) s->peak_live = s->live;
  return 0;
}

int cb_green_join(cb_green *g) {
  cb_green_sched *s = cb__green_tls();
  if (s && s->mn) return cb__mn_join(s, g);
  if (!s || s != g->sched) return -EPERM;
  if (g == s->current) return -EDEADLK;
  CB_CHECK(!g->detached && g->joiner == NULL && g->state != CB__G_FREE);
  if (g->state != CB__G_DONE) {
    g->joiner = s->current;
    cb__green_park(s);
  }
  CB_CHECK(g->state == CB__G_DONE);
  retire(s, g);
  return 0;
}

void cb_green_yield(void) {
  cb_green_sched *s = cb__green_tls();
  if (!s) return;
  cb_green *g = s->current;
  g->state = CB__G_READY;
  ready_back(s, g);
  switch_out(s, g);
}

static void park(cb_green_sched *s) {
  cb_green *g = s->current;
  g->state = CB__G_PARKED;
  switch_out(s, g);
}

/* Every park but a sleep's: its waiter may point into the stack (green_int.h). */
void cb__green_park(cb_green_sched *s) {
  if (__builtin_expect(s->cs != NULL, 0) && s->current->copy) cb__cs_refuse_park();
  park(s);
}

static void wake_noop(uv_idle_t *h) { (void)h; }

void cb__green_ready(cb_green_sched *s, cb_green *g) {
  if (g->state != CB__G_PARKED) return;
  g->state = CB__G_READY;
  ready_back(s, g);
  /* Called from a libuv callback: UV_RUN_ONCE runs due timers *before* it polls and
   * would then block in epoll although a green thread is ready; an active idle
   * handle makes that poll non-blocking. */
  if (s->in_uv) uv_idle_start(&s->wake, wake_noop);
}

int cb_green_sleep_ns(int64_t ns) {
  cb_green_sched *s = cb__green_tls();
  if (!s) return -EPERM;
  if (ns <= 0) {
    cb_green_yield();
    return 0;
  }
  cb_green *g = s->current;
  cb__green_timer_start(s, g, cb__mono_ns() + ns);
  while (!g->timer_fired) park(s); /* the deadline lives in g: allowed in copy mode */
  return 0;
}

void cb__green_resume(cb_green_sched *s, cb_green *g) {
  void *fake = NULL;
  if (__builtin_expect(s->cs != NULL, 0) && g->copy) cb__cs_acquire(s, g);
  g->state = CB__G_RUNNING;
  s->current = g;
  s->switches++;
  cb__san_start_switch(&fake, g->stack_lo, s->stacks.size);
  cb__tsan_switch(g->tsan_fiber);
  cb__gctx_switch(&s->main_ctx, &g->ctx);
  cb__san_finish_switch(fake);
}

int cb__green_run_begin(cb_green_sched *s, int with_handler) {
  CB_CHECK(!s->running);
  int rc = with_handler ? cb__stack_segv_install(s) : cb__stack_altstack_install(s);
  if (rc != 0) return rc;
  s->running = 1;
  s->outer = cb__tls_sched;
  cb__tls_sched = s;
  s->tsan_main = cb__tsan_fiber_current();
  cb__san_thread_stack(&s->main_stack_lo, &s->main_stack_size);
  s->budget = poll_budget(s);
  return 0;
}

void cb__green_run_end(cb_green_sched *s, int with_handler) {
  trim_cold(s);
  cb__tls_sched = s->outer;
  s->running = 0;
  if (with_handler) cb__stack_segv_remove(s);
  else cb__stack_altstack_remove(s);
}

/* Contract: see green.h. Runs ready green threads; blocks in libuv (IO, timers) only
 * when none is ready. */
int cb_green_sched_run(cb_green_sched *s) {
  CB_CHECK(s->mn == NULL); /* an M:N worker runs through mn.c */
  int rc = cb__green_run_begin(s, 1);
  if (rc != 0) return rc;
  while (s->live > 0) {
    cb_green *g;
    if (s->budget > 0 && (g = ready_pop(s))) {
      cb__green_resume(s, g);
      continue;
    }
    cb__io_check_pending(s, cb__list_empty(&s->ready)); /* fds not registered with libuv (io.c) */
    int idle = cb__list_empty(&s->ready);
    if (idle) {
      trim_cold(s);
      cb__io_before_block(s); /* only what someone waits for may keep us blocked */
    }
    s->in_uv = 1;
    int alive = uv_run(&s->loop, idle ? UV_RUN_ONCE : UV_RUN_NOWAIT);
    s->in_uv = 0;
    uv_idle_stop(&s->wake);
    s->budget = poll_budget(s);
    if (idle && !alive && cb__list_empty(&s->ready)) {
      rc = -EDEADLK;
      break;
    }
  }
  cb__green_run_end(s, 1);
  return rc;
}
