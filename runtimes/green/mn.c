/* mn.c — M:N: green threads over W worker OS threads, one M:1 scheduler each.
 *
 * A group (cb_green_group) owns W schedulers (cb_green_sched with s->mn set). Each
 * runs on its own OS thread the M:1 machinery of sched.c, io.c and deadline.c,
 * unchanged: its run queue, its libuv loop for IO readiness and timers, its stack
 * pool. What this file adds, per worker (cb__mn_worker):
 *
 *  - New threads. cb_green_spawn queues a new (not yet started) thread on the caller's
 *    worker's deque (Chase-Lev, below): the worker runs the newest first (child first,
 *    as M:1 does); an idle worker steals the older half from the other end, one
 *    compare-and-swap each (Go's runq steal, Boost.Fiber's work_stealing). Past
 *    CB__MN_DEQUE queued, new threads go on a list only their worker runs. Only threads that
 *    have not started move: a started thread stays on its worker for life, because
 *    compiled code may keep the address of thread-local data (errno, libc's and
 *    libcurl's TLS) in a register or a stack slot across a switch (README.md).
 *    cb_green_group_spawn places a thread on the least-loaded worker (live threads
 *    plus queued new ones), cb_green_group_spawn_on on a given one, pinned.
 *  - Remote wake-ups. A green thread parked on a channel, lock or join is woken by
 *    whoever takes it off the wait queue; from another OS thread that is a push on its
 *    worker's `inbox` (a lock-free LIFO of cb_green, taken whole and reversed by the
 *    owner) and, only when the owner is (about to be) asleep in libuv, a
 *    uv_async_send. The owner takes its inbox in its main context, so a thread woken
 *    before it has finished parking is never lost: it has parked by then.
 *    The sleeping flag and the inbox/new-thread counts form a Dekker pair (both
 *    sides write then read with sequential consistency): a waker either sees the
 *    owner asleep and wakes it, or the owner sees the work before it blocks.
 *  - Idle workers spin a while (checking their inbox and the others' new threads)
 *    before they block: a wake-up through the kernel costs tens of microseconds on a
 *    VM, a spin a cache miss. A worker spins long (CB__MN_SPIN_LONG_NS) while work
 *    keeps coming from other workers (its inbox or a steal found some since its last
 *    long spin came to nothing), else briefly (CB__MN_SPIN_SHORT_NS): IO-bound workers
 *    do not burn the CPU, hand-offs between workers do not sleep.
 *  - End and deadlock. A worker about to block with nothing in its loop (no IO, no
 *    timer) counts itself quiet under the group's mutex; the last one to do so, with
 *    every inbox and new-thread list empty, ends the run: no live thread left is the
 *    normal end, otherwise -EDEADLK. Every worker is then woken to return.
 *  - The end of a joinable thread is published (joiner word set to DONE) by whatever
 *    runs next on its worker, once nothing runs on its stack any more: the joiner,
 *    maybe on another worker, reuses the record and its stack right after.
 *  - Workers start apart: each is created on a CPU of its own, then allowed every CPU
 *    of the group (start_cpu), since Linux leaves a new thread on its creator's CPU.
 *  - Pools stay apart. A thread's record and stack come from the pool of the worker
 *    that spawned it (its home) and go back there when it ends, wherever it ran: a
 *    stolen thread's end pushes it on its home's `returns` (a lock-free LIFO, pushed
 *    with a compare-and-swap once its stack is left, taken whole by the home when its
 *    free list is empty or before it blocks). Retired to the thief instead, its stack
 *    would fill the thief's free list (up to CB_GREEN_WARM_STACKS warm stacks) while
 *    the home, its own list drained by the steals, mapped new ones. So every retire
 *    happens on the home, and a pool's counts are its owner's alone.
 *  - A finished joinable thread not joined yet gives its stack back at once on 2
 *    workers or more (give_back_stack): a parent joins its children in order, and
 *    while it waits for one stolen by another worker its finished siblings wait too.
 *    Kept with their stacks, skynet on 2 workers made 391-692 stacks (71 on one).
 *  - Wake-ups of sleeping workers for new threads cost a spawn nothing: a worker about
 *    to sleep sets its flag, then looks at every deque (sequentially consistent); the
 *    owner of a non-empty deque looks for sleepers once per turn of its main loop
 *    (offer: a fence, then the flags), so a sleeper is woken within one turn. A
 *    thread that runs long without switching delays that turn, so a worker that
 *    sleeps while another runs wakes up every CB__MN_RECHECK_MS to look for itself. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "runtimes/green/green_int.h"
#include "runtimes/green/sanitize.h"

#define CB__MN_FD_RESERVE 65536 /* fd slots made before a second worker starts (below) */
#define CB__MN_DEQUE 1024 /* new threads a worker can offer to thieves, power of 2 */
#define CB__MN_RECHECK_MS 1
#define CB__MN_SPIN_LONG_NS 50000
#define CB__MN_SPIN_BATCH 4 /* pauses between two yields of the CPU while spinning */
#define CB__MN_SPIN_SHORT_NS 2000
#define JOIN_DONE ((cb_green *)(uintptr_t)1)

typedef struct cb__mn_worker {
  /* written by other workers (wakers, spawners, thieves); each group on a cache line
   * of its own, away from what the owner writes on every turn */
  _Alignas(64) cb_green *inbox; /* remote wake-ups and pinned new threads (atomic, LIFO) */
  int sleeping;         /* about to block or blocked in libuv (atomic; written by the owner) */
  cb_green *returns;    /* finished threads of this worker's pool, sent back by the workers
                           they ran on (atomic, LIFO through inbox_next; cb__mn_retire) */
  _Alignas(64) int64_t top;    /* the deque of new threads (below): thieves take at top */
  _Alignas(64) int64_t bottom; /* ... the owner pushes and pops at bottom */
  cb_green *deque[CB__MN_DEQUE]; /* entries read and written atomically */
  /* the owner's */
  _Alignas(64) uint64_t load; /* live threads, published for placement (atomic) */
  cb_green_group *group;
  cb_green_sched *s;
  unsigned index;
  int quiet;            /* counted in group->quiet (under group->lock) */
  int spin_long;        /* work came from other workers since the last long spin failed */
  int joiner_next;      /* the head of the run queue is a joiner whose child just ended */
  cb_list overflow;     /* new threads beyond the deque's capacity (never stolen) */
  cb_list spare;        /* finished records of this pool without a stack (give_back_stack) */
  uv_async_t async;     /* wakes the loop; the work itself is in inbox and deque */
  uv_timer_t recheck;   /* bounds a sleep while another worker runs (block) */
  uint64_t steals, remote_wakes, sleeps;
  pthread_t thread;
} cb__mn_worker;

struct cb_green_group {
  unsigned n;
  cb__mn_worker *w;
  pthread_mutex_t lock; /* quiet, rc */
  unsigned quiet;       /* workers blocked with nothing in their loop */
  int stop;             /* atomic: the run is over */
  int rc;
  int nsleeping;        /* atomic: workers with sleeping set */
  int running;
  int spread;           /* workers are created apart, on the CPUs of cpus (start_cpu) */
  cpu_set_t cpus;       /* the CPUs the group may use, when spread */
  struct sigaction old_segv;
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

void cb__spin_lock_slow(int *l) {
  for (unsigned i = 0;; i++) {
    if (__atomic_load_n(l, __ATOMIC_RELAXED) == 0 && __atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE) == 0) return;
    if (i < 128) cpu_relax();
    else sched_yield(); /* the holder may have been preempted */
  }
}

/* A thread starts (or was stolen) on s's worker: it is live there from now on. */
static void adopt(cb_green_sched *s, cb_green *g) {
  g->sched = s;
  if (++s->live > s->peak_live) s->peak_live = s->live;
  __atomic_store_n(&s->mn->load, s->live, __ATOMIC_RELAXED);
}

/* ---- the deque of new threads: Chase and Lev's, in the C11 form of Lê, Pop, Cohen
 * and Zappa Nardelli (PPoPP 2013). The owner pushes without a read-modify-write and
 * pops the newest with one exchange (a compare-and-swap only for the last entry); a
 * thief takes the oldest with a compare-and-swap on top. Stores to bottom are
 * releases and a thief's load of it an acquire, so that what the owner wrote into a
 * thread before queuing it is visible to the thief that takes it. ---- */

static size_t nfresh(const cb__mn_worker *w) {
  int64_t b = __atomic_load_n(&w->bottom, __ATOMIC_SEQ_CST), t = __atomic_load_n(&w->top, __ATOMIC_SEQ_CST);
  return b > t ? (size_t)(b - t) : 0;
}

/* Owner: 0 when the deque is full. */
static int dq_push(cb__mn_worker *w, cb_green *g) {
  int64_t b = __atomic_load_n(&w->bottom, __ATOMIC_RELAXED), t = __atomic_load_n(&w->top, __ATOMIC_ACQUIRE);
  if (b - t >= CB__MN_DEQUE) return 0;
  __atomic_store_n(&w->deque[b & (CB__MN_DEQUE - 1)], g, __ATOMIC_RELAXED);
  __atomic_store_n(&w->bottom, b + 1, __ATOMIC_RELEASE);
  return 1;
}

/* Owner: the newest, or NULL. */
static cb_green *dq_pop(cb__mn_worker *w) {
  int64_t b = __atomic_load_n(&w->bottom, __ATOMIC_RELAXED) - 1;
  /* the store and the full fence the algorithm puts after it, as one exchange (x86:
   * xchg, cheaper than mfence) */
  __atomic_exchange_n(&w->bottom, b, __ATOMIC_SEQ_CST);
  int64_t t = __atomic_load_n(&w->top, __ATOMIC_RELAXED);
  cb_green *g = NULL;
  if (t <= b) {
    g = __atomic_load_n(&w->deque[b & (CB__MN_DEQUE - 1)], __ATOMIC_RELAXED);
    if (t == b) { /* the last one: a thief may be taking it too */
      if (!__atomic_compare_exchange_n(&w->top, &t, t + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) g = NULL;
      __atomic_store_n(&w->bottom, b + 1, __ATOMIC_RELEASE);
    }
  } else {
    __atomic_store_n(&w->bottom, b + 1, __ATOMIC_RELEASE);
  }
  return g;
}

/* Thief: the oldest of v's, or NULL (empty, or lost a race: *lost set). */
static cb_green *dq_steal(cb__mn_worker *v, int *lost) {
  /* sequentially consistent loads in place of the paper's fence between them: the
   * same ordering against the owner's exchange, free on x86, and understood by TSan */
  int64_t t = __atomic_load_n(&v->top, __ATOMIC_SEQ_CST);
  int64_t b = __atomic_load_n(&v->bottom, __ATOMIC_SEQ_CST);
  if (t >= b) return NULL;
  cb_green *g = __atomic_load_n(&v->deque[t & (CB__MN_DEQUE - 1)], __ATOMIC_RELAXED);
  if (!__atomic_compare_exchange_n(&v->top, &t, t + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
    *lost = 1;
    return NULL;
  }
  return g;
}

/* Wakes w's loop if w is (about to be) blocked in it. */
static void kick(cb__mn_worker *w) {
  if (__atomic_load_n(&w->sleeping, __ATOMIC_SEQ_CST)) uv_async_send(&w->async);
}

/* Wakes one sleeping worker other than w, if any sleeps: it may steal from w. Called
 * by w's owner from its main context when it has new threads to offer (a sleeper
 * that was missed is found at the next call, within one turn of that loop). */
static void offer(cb__mn_worker *w) {
  cb_green_group *gr = w->group;
  if (__atomic_load_n(&gr->nsleeping, __ATOMIC_RELAXED) == 0) return;
  /* our pushes before their flags (Dekker): a sequentially consistent read-modify-write
   * on the counter every sleeper increments after setting its flag */
  __atomic_fetch_add(&gr->nsleeping, 0, __ATOMIC_SEQ_CST);
  for (unsigned k = 0; k < gr->n; k++)
    if (&gr->w[k] != w && __atomic_load_n(&gr->w[k].sleeping, __ATOMIC_SEQ_CST)) {
      uv_async_send(&gr->w[k].async);
      return;
    }
}

/* Owner: queues new g where thieves can take it (beyond the deque's capacity: on the
 * overflow list, for the owner only). No read-modify-write, no wake-up (offer). */
static void push_new(cb__mn_worker *w, cb_green *g) {
  if (!dq_push(w, g)) cb__list_push_front(&w->overflow, &g->link);
}

/* Contract: see green_int.h. Lock-free push; a system call only when the owner sleeps. */
void cb__mn_wake_remote(cb_green *g) {
  cb__mn_worker *w = g->sched->mn;
  cb_green *head = __atomic_load_n(&w->inbox, __ATOMIC_RELAXED);
  do g->inbox_next = head;
  while (!__atomic_compare_exchange_n(&w->inbox, &head, g, 1, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
  kick(w);
}

/* Owner, main context: makes everything on the inbox ready, in the order it came. */
static size_t take_inbox(cb_green_sched *s) {
  cb__mn_worker *w = s->mn;
  if (__atomic_load_n(&w->inbox, __ATOMIC_RELAXED) == NULL) return 0;
  cb_green *l = __atomic_exchange_n(&w->inbox, NULL, __ATOMIC_ACQUIRE), *rev = NULL;
  while (l) {
    cb_green *next = l->inbox_next;
    l->inbox_next = rev;
    rev = l;
    l = next;
  }
  size_t n = 0;
  for (cb_green *g = rev, *next; g; g = next, n++) {
    next = g->inbox_next;
    g->inbox_next = NULL;
    if (g->state == CB__G_NEW && !g->pinned) {
      push_new(w, g); /* placed here by another worker: stealable like our own */
    } else if (g->state == CB__G_NEW) {
      adopt(s, g);
      cb__green_ready_push(s, g, 0);
    } else {
      cb__green_ready(s, g);
    }
  }
  w->remote_wakes += n;
  w->spin_long = 1;
  return n;
}

void cb__mn_push_new(cb_green_sched *s, cb_green *g) { push_new(s->mn, g); }

/* Contract: see green_int.h. Order: a joiner whose child just ended, then the newest
 * new thread, then the run queue; under M:1 the first two are the front of the run
 * queue, in that order, so a spawn tree runs depth first either way. Cost: a relaxed
 * load when no new thread waits; else a lock round trip. */
cb_green *cb__mn_next(cb_green_sched *s) {
  cb__mn_worker *w = s->mn;
  if (w->joiner_next) {
    w->joiner_next = 0;
    return cb__green_ready_pop(s);
  }
  cb_green *g = __atomic_load_n(&w->bottom, __ATOMIC_RELAXED) > __atomic_load_n(&w->top, __ATOMIC_RELAXED)
                    ? dq_pop(w) : NULL;
  if (!g && !cb__list_empty(&w->overflow)) g = cb__container_of(cb__list_pop_front(&w->overflow), cb_green, link);
  if (g) {
    adopt(s, g);
    return g;
  }
  return cb__green_ready_pop(s);
}

/* Owner, idle: takes the older half of another worker's new threads onto its run
 * queue. Returns how many. */
static size_t steal(cb_green_sched *s) {
  cb__mn_worker *w = s->mn;
  cb_green_group *gr = w->group;
  for (unsigned k = 1; k < gr->n; k++) {
    cb__mn_worker *v = &gr->w[(w->index + k) % gr->n];
    size_t avail = nfresh(v), take = 0;
    if (avail == 0) continue;
    for (size_t want = (avail + 1) / 2; take < want;) {
      int lost = 0;
      cb_green *g = dq_steal(v, &lost);
      if (!g) {
        if (lost) continue; /* another thief or the owner got that one: try the next */
        break;
      }
      adopt(s, g);
      cb__green_ready_push(s, g, 0);
      take++;
    }
    w->steals += take;
    w->spin_long = 1;
    if (take) return take;
  }
  return 0;
}

/* Retires g on s, its home: onto the free list, or, without a stack (give_back_stack),
 * onto the spare records. */
static void retire_home(cb_green_sched *s, cb_green *g) {
  if (__builtin_expect(g->stack_lo != NULL, 1)) {
    cb__green_retire(s, g);
    return;
  }
  g->state = CB__G_FREE;
  s->threads--;
  cb__list_push_front(&s->mn->spare, &g->link);
}

/* Finished joinable g, its stack left and s its home, waits for its joiner without
 * its stack: the stack goes back to s's free list on a record that has none (a spare
 * one, else a fresh one), so that a thread finished but not joined yet holds its
 * record and not its stack. With 2 workers or more such threads pile up: a parent
 * joins its children in order, and while it waits for one stolen by another worker
 * its finished siblings wait too, and its worker starts other subtrees meanwhile
 * (skynet on 2 workers: 265-424 of the 391-540 threads in existence at the peak were
 * finished ones). On one worker finished children wait only for their parent's joins
 * of their siblings, as under M:1, and the swap would cost a thread ~6 ns (skynet:
 * 65 ns against 59), so it is not done there. Out of memory for a record: g keeps its
 * stack until joined. */
static void give_back_stack(cb_green_sched *s, cb_green *g) {
  cb_list *l = cb__list_pop_front(&s->mn->spare);
  cb_green *r = l ? cb__container_of(l, cb_green, link) : cb__green_record(s);
  if (!r) return;
  r->stack_lo = g->stack_lo;
  r->canary = g->canary;
  r->vg_id = g->vg_id;
  r->tsan_fiber = g->tsan_fiber;
  r->home = g->home;
  r->copy = 0;
  g->stack_lo = NULL;
  g->vg_id = 0;
  g->tsan_fiber = NULL;
  cb__green_put_stack(s, r);
}

/* Contract: see green_int.h. Cost: s's own: retire's; another's: one compare-and-swap
 * (retried under contention), no wake-up (the home takes them when it needs a stack,
 * or before it blocks). */
void cb__mn_retire(cb_green_sched *s, cb_green *g) {
  if (g->home == s->mn_index) {
    retire_home(s, g);
    return;
  }
  g->state = CB__G_FREE;
  cb__mn_worker *h = &s->mn->group->w[g->home];
  cb_green *head = __atomic_load_n(&h->returns, __ATOMIC_RELAXED);
  do g->inbox_next = head;
  while (!__atomic_compare_exchange_n(&h->returns, &head, g, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

/* Contract: see green_int.h. */
size_t cb__mn_take_returns(cb_green_sched *s) {
  cb__mn_worker *w = s->mn;
  if (__atomic_load_n(&w->returns, __ATOMIC_RELAXED) == NULL) return 0;
  size_t n = 0;
  for (cb_green *g = __atomic_exchange_n(&w->returns, NULL, __ATOMIC_ACQUIRE), *next; g; g = next, n++) {
    next = g->inbox_next;
    g->inbox_next = NULL;
    retire_home(s, g);
  }
  return n;
}

/* Contract: see green_int.h. A detached thread that ends here is a thread of another
 * worker's pool (cb_green_exit retires its own at once): it goes home. */
void cb__mn_after_switch(cb_green_sched *s) {
  cb_green *g = s->exited;
  s->exited = NULL;
  if (g->detached) {
    cb__mn_retire(s, g);
    return;
  }
  g->state = CB__G_DONE;
  /* not joined yet (a joiner that comes now finds it stackless: harmless) */
  if (s->mn->group->n > 1 && g->home == s->mn_index && __atomic_load_n(&g->joiner, __ATOMIC_RELAXED) == NULL)
    give_back_stack(s, g);
  cb_green *j = __atomic_exchange_n(&g->joiner, JOIN_DONE, __ATOMIC_ACQ_REL);
  if (!j) return;
  if (j->sched == s) { /* parked here: resumes next, before new threads (as under M:1) */
    cb__green_ready_push(s, j, 1);
    s->mn->joiner_next = 1;
  } else {
    cb__mn_wake_remote(j);
  }
}

int cb__mn_join(cb_green_sched *s, cb_green *g) {
  cb_green *self = s->current, *expect = NULL;
  if (g == self) return -EDEADLK;
  CB_CHECK(!g->detached);
  if (__atomic_compare_exchange_n(&g->joiner, &expect, self, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    cb__green_park(s);
    CB_CHECK(__atomic_load_n(&g->joiner, __ATOMIC_ACQUIRE) == JOIN_DONE);
  } else {
    CB_CHECK(expect == JOIN_DONE);
  }
  cb__mn_retire(s, g);
  return 0;
}

static int has_work(const cb_green_sched *s) {
  return !cb__list_empty(&s->ready) || !cb__list_empty(&s->mn->overflow) ||
         __atomic_load_n(&s->mn->bottom, __ATOMIC_RELAXED) > __atomic_load_n(&s->mn->top, __ATOMIC_RELAXED) ||
         __atomic_load_n(&s->mn->inbox, __ATOMIC_RELAXED) != NULL;
}

static int others_have_new(const cb_green_group *gr, const cb__mn_worker *w) {
  for (unsigned k = 0; k < gr->n; k++)
    if (&gr->w[k] != w && nfresh(&gr->w[k]) > 0) return 1;
  return 0;
}

/* Idle: spins for work from other workers; 1 if some came. */
static int spin(cb_green_sched *s) {
  cb__mn_worker *w = s->mn;
  cb_green_group *gr = w->group;
  int64_t until = cb__mono_ns() + (w->spin_long ? CB__MN_SPIN_LONG_NS : CB__MN_SPIN_SHORT_NS);
  do {
    for (int i = 0; i < CB__MN_SPIN_BATCH; i++) {
      if (__atomic_load_n(&w->inbox, __ATOMIC_RELAXED) ||
          __atomic_load_n(&gr->stop, __ATOMIC_RELAXED))
        return 1;
      cpu_relax();
    }
    if (others_have_new(gr, w) && steal(s)) return 1;
    /* the CPU to whoever waits for it: on a busy machine that is often the worker
     * whose hand-off we wait for (a cross-worker ping-pong at load 5 on 2 vCPUs:
     * 2-40 us a hand-off without, ~2 us with) */
    sched_yield();
  } while (cb__mono_ns() < until);
  w->spin_long = 0;
  return 0;
}

/* Under gr->lock, with every worker quiet: ends the run unless work is in flight. */
static void maybe_end(cb_green_group *gr) {
  uint64_t live = 0;
  for (unsigned k = 0; k < gr->n; k++) {
    cb__mn_worker *v = &gr->w[k];
    if (__atomic_load_n(&v->inbox, __ATOMIC_SEQ_CST) || nfresh(v)) return; /* its owner is being woken */
    live += v->s->live;
  }
  gr->rc = live == 0 ? 0 : -EDEADLK;
  __atomic_store_n(&gr->stop, 1, __ATOMIC_SEQ_CST);
  for (unsigned k = 0; k < gr->n; k++) uv_async_send(&gr->w[k].async);
}

static void set_quiet(cb__mn_worker *w, int quiet) {
  cb_green_group *gr = w->group;
  pthread_mutex_lock(&gr->lock);
  if (quiet && !w->quiet) {
    w->quiet = 1;
    if (++gr->quiet == gr->n) maybe_end(gr);
  } else if (!quiet && w->quiet) {
    w->quiet = 0;
    gr->quiet--;
  }
  pthread_mutex_unlock(&gr->lock);
}

static void on_recheck(uv_timer_t *h) { (void)h; /* the worker loop looks again */ }

/* Idle, spin over: blocks in libuv until IO, a timer or another worker wakes it. */
static void block(cb_green_sched *s) {
  cb__mn_worker *w = s->mn;
  cb_green_group *gr = w->group;
  cb__mn_take_returns(s); /* so that the ones beyond the warm stacks are trimmed too */
  cb__green_trim(s);
  cb__io_before_block(s); /* only what someone waits for may keep us blocked */
  __atomic_store_n(&w->sleeping, 1, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&gr->nsleeping, 1, __ATOMIC_SEQ_CST);
  if (!has_work(s) && !others_have_new(gr, w) && !__atomic_load_n(&gr->stop, __ATOMIC_SEQ_CST)) {
    int alive = uv_loop_alive(&s->loop); /* the async handle is not counted (unref'd) */
    if (!alive) set_quiet(w, 1);
    w->sleeps++;
    s->in_uv = 1;
    uv_ref((uv_handle_t *)&w->async); /* keeps uv_run waiting for it */
    /* another worker runs: it may queue new threads without passing its main loop */
    int recheck = __atomic_load_n(&gr->nsleeping, __ATOMIC_SEQ_CST) < (int)gr->n;
    /* repeating: libuv (1.44) runs due timers before it computes the poll's timeout, so
     * a one-shot timer already due by then (the loop's cached time is old, or we were
     * preempted) would fire and leave the poll with no timeout at all */
    if (recheck) {
      uv_update_time(&s->loop);
      uv_timer_start(&w->recheck, on_recheck, CB__MN_RECHECK_MS, CB__MN_RECHECK_MS);
    }
    uv_run(&s->loop, UV_RUN_ONCE);
    if (recheck) uv_timer_stop(&w->recheck);
    uv_unref((uv_handle_t *)&w->async);
    s->in_uv = 0;
    uv_idle_stop(&s->wake);
    if (!alive) set_quiet(w, 0);
  }
  __atomic_store_n(&w->sleeping, 0, __ATOMIC_SEQ_CST);
  __atomic_sub_fetch(&gr->nsleeping, 1, __ATOMIC_SEQ_CST);
}

/* A worker's main context: the M:1 main loop (sched.c) plus the inbox, stealing,
 * spinning and the group's end. */
static void worker_loop(cb_green_sched *s) {
  cb_green_group *gr = s->mn->group;
  for (;;) {
    __atomic_store_n(&s->mn->load, s->live, __ATOMIC_RELAXED); /* exits lowered it */
    take_inbox(s);
    if (__atomic_load_n(&s->mn->bottom, __ATOMIC_RELAXED) > __atomic_load_n(&s->mn->top, __ATOMIC_RELAXED))
      offer(s->mn);
    cb_green *g;
    if (s->budget > 0 && (g = cb__mn_next(s))) {
      cb__green_resume(s, g);
      if (s->exited) cb__mn_after_switch(s);
      continue;
    }
    if (__atomic_load_n(&gr->stop, __ATOMIC_ACQUIRE)) return;
    cb__io_check_pending(s, !has_work(s)); /* fds not registered with libuv (io.c) */
    if (has_work(s)) {
      s->in_uv = 1;
      uv_run(&s->loop, UV_RUN_NOWAIT);
      s->in_uv = 0;
      uv_idle_stop(&s->wake);
    } else if (!steal(s) && !spin(s)) {
      block(s);
    }
    s->budget = cb__green_poll_budget(s);
  }
}

static void run_worker(cb__mn_worker *w) {
  cb_green_group *gr = w->group;
  int rc = cb__green_run_begin(w->s, 0);
  if (rc != 0) {
    pthread_mutex_lock(&gr->lock);
    if (gr->rc == 0) gr->rc = rc;
    __atomic_store_n(&gr->stop, 1, __ATOMIC_SEQ_CST);
    for (unsigned k = 0; k < gr->n; k++) uv_async_send(&gr->w[k].async);
    pthread_mutex_unlock(&gr->lock);
    return;
  }
  w->s->old_segv = gr->old_segv; /* where a fault that is not an overflow goes */
  worker_loop(w->s);
  __atomic_store_n(&w->load, w->s->live, __ATOMIC_RELAXED);
  cb__green_run_end(w->s, 0);
}

static void *worker_main(void *p) {
  cb__mn_worker *w = p;
  /* created on a CPU of its own (start_cpu), it may go anywhere from now on */
  if (w->group->spread) sched_setaffinity(0, sizeof w->group->cpus, &w->group->cpus);
  run_worker(w);
  return NULL;
}

static void on_async(uv_async_t *h) { (void)h; /* the work is in the inbox and the deques */ }

int cb_green_group_new(unsigned workers, size_t stack_size, cb_green_group **out) {
  if (workers < 1 || workers > CB_GREEN_GROUP_MAX_WORKERS) return -EINVAL;
  cb_green_group *gr = calloc(1, sizeof *gr);
  cb__mn_worker *w = aligned_alloc(64, workers * sizeof *w);
  if (w) memset(w, 0, workers * sizeof *w);
  if (!gr || !w) {
    free(gr);
    free(w);
    return -ENOMEM;
  }
  gr->w = w;
  pthread_mutex_init(&gr->lock, NULL);
  for (unsigned k = 0; k < workers; k++) {
    int r = cb_green_sched_new(stack_size, &w[k].s);
    if (r != 0) {
      cb_green_group_free(gr);
      return r;
    }
    gr->n = k + 1;
    w[k].group = gr;
    w[k].index = k;
    cb__list_init(&w[k].overflow);
    cb__list_init(&w[k].spare);
    w[k].s->mn = &w[k];
    w[k].s->mn_index = k;
    CB_CHECK(uv_async_init(&w[k].s->loop, &w[k].async, on_async) == 0);
    /* counted only while the worker blocks (block): a busy worker's non-blocking
     * polls then skip epoll when nothing else is registered, as under M:1 */
    uv_unref((uv_handle_t *)&w[k].async);
    CB_CHECK(uv_timer_init(&w[k].s->loop, &w[k].recheck) == 0);
    uv_unref((uv_handle_t *)&w[k].recheck); /* never keeps a loop alive: see block */
  }
  *out = gr;
  return 0;
}

unsigned cb_green_group_workers(const cb_green_group *gr) { return gr->n; }

/* The scheduler a spawn from this thread takes a record from: the caller's worker,
 * or (the group not running) worker `fallback`. NULL: not allowed from here. */
static cb_green_sched *maker(cb_green_group *gr, unsigned fallback) {
  cb_green_sched *s = cb__tls_sched;
  if (s && s->mn && s->mn->group == gr) return s;
  return gr->running ? NULL : gr->w[fallback].s;
}

static int place(cb_green_group *gr, unsigned w, int pinned, void (*fn)(void *), void *arg, cb_green **out) {
  cb_green_sched *m = maker(gr, w);
  if (!m) return -EPERM;
  cb_green *g;
  int r = cb__green_make(m, fn, arg, out == NULL, &g);
  if (r != 0) return r;
  if (out) *out = g;
  g->sched = gr->w[w].s;
  g->pinned = pinned;
  if (!pinned && m == g->sched) push_new(m->mn, g); /* our own deque (or, not running, its) */
  else cb__mn_wake_remote(g); /* taken in by that worker: pinned, or onto its deque */
  return 0;
}

/* Contract: see green.h. Cost: a look at each worker's two counters, then a spawn
 * (and, placed on another worker while running, a push on that worker's inbox). */
int cb_green_group_spawn(cb_green_group *gr, void (*fn)(void *), void *arg, cb_green **out) {
  cb_green_sched *self = cb__tls_sched;
  unsigned best = self && self->mn && self->mn->group == gr ? self->mn->index : 0;
  uint64_t best_load = UINT64_MAX;
  for (unsigned k = 0; k < gr->n; k++) {
    unsigned i = (best + k) % gr->n; /* ties: the caller's own worker first */
    uint64_t load = __atomic_load_n(&gr->w[i].load, __ATOMIC_RELAXED) + nfresh(&gr->w[i]);
    if (load < best_load) best_load = load, best = i;
  }
  return place(gr, best, 0, fn, arg, out);
}

int cb_green_group_spawn_on(cb_green_group *gr, unsigned w, void (*fn)(void *), void *arg, cb_green **out) {
  if (w >= gr->n) return -EINVAL;
  return place(gr, w, 1, fn, arg, out);
}

/* Grows this process's fd table to min(RLIMIT_NOFILE, CB__MN_FD_RESERVE) slots while
 * the group's workers are not yet running. Linux grows the table by doubling, and in a
 * process of several threads each growth waits for an RCU grace period
 * (expand_fdtable: synchronize_rcu when the table is shared): milliseconds on this VM,
 * six of them from 64 to 4,096 slots, paid by a worker in the middle of its run (http,
 * 1000 jobs: 40-50 ms of a 0.1 s start-up). The table never shrinks. Cost: one copy
 * of the table into 8 bytes a slot of kernel memory (512 KiB), once per process;
 * later runs pay four system calls. */
static void reserve_fd_table(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  rlim_t slots = rl.rlim_cur < CB__MN_FD_RESERVE ? rl.rlim_cur : CB__MN_FD_RESERVE;
  int base = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (base < 0) return; /* out of fds already: nothing to grow into */
  int high = slots > (rlim_t)base + 1 ? fcntl(base, F_DUPFD_CLOEXEC, (int)(slots - 1)) : -1;
  if (high >= 0) close(high);
  close(base);
}

/* The CPU worker k (>= 1) is created on: the group's CPUs in turn, starting after
 * the one the caller (worker 0) runs on; -1 when not spread. Linux (6.18 here) starts
 * a new thread on its creator's CPU (sched_wakeup_new's target_cpu) and moves one of
 * two busy threads that share a CPU to an idle one only after several ms (both are
 * cache-hot; the idle CPU's balancing waits for the busy one's tick): in the mixed
 * cell (100 jobs of 100 us of CPU then 10 ms of waiting, twice), the 2 workers shared
 * one CPU for the first 3-14 ms of their ~8 ms of start-up computing while the other
 * idled (perf sched), and the jobs started no sooner than under M:1. So each worker
 * is created on a CPU of its own and, once running, may use every CPU of the group
 * again: a hint at the start, no pinning. */
static int start_cpu(const cb_green_group *gr, unsigned k) {
  if (!gr->spread) return -1;
  int n = CPU_COUNT(&gr->cpus), here = sched_getcpu(), rank = 0, i = 0;
  for (int c = 0; c <= here && c < CPU_SETSIZE; c++) /* CPUs of the group up to ours */
    if (CPU_ISSET(c, &gr->cpus)) rank++;
  for (int c = 0, want = (int)(((unsigned)rank + k - 1) % (unsigned)n); c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &gr->cpus) && i++ == want) return c;
  return -1;
}

static int create_worker(cb_green_group *gr, unsigned k) {
  pthread_attr_t attr;
  int rc = pthread_attr_init(&attr);
  if (rc != 0) return rc;
  int cpu = start_cpu(gr, k);
  if (cpu >= 0) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pthread_attr_setaffinity_np(&attr, sizeof one, &one);
  }
  rc = pthread_create(&gr->w[k].thread, &attr, worker_main, &gr->w[k]);
  pthread_attr_destroy(&attr);
  if (rc == EINVAL && cpu >= 0) /* the CPU went away meanwhile: where Linux puts it */
    rc = pthread_create(&gr->w[k].thread, NULL, worker_main, &gr->w[k]);
  return rc;
}

/* Contract: see green.h. */
int cb_green_group_run(cb_green_group *gr) {
  CB_CHECK(!gr->running);
  int rc = cb__stack_handler_install(&gr->old_segv);
  if (rc != 0) return rc;
  if (gr->n > 1) reserve_fd_table();
  gr->running = 1;
  gr->stop = 0;
  gr->rc = 0;
  gr->spread = gr->n > 1 && sched_getaffinity(0, sizeof gr->cpus, &gr->cpus) == 0 && CPU_COUNT(&gr->cpus) > 1;
  unsigned started = 1;
  for (; started < gr->n; started++)
    if ((rc = create_worker(gr, started)) != 0) break;
  if (started < gr->n) { /* run none of it: stop the started ones at once */
    __atomic_store_n(&gr->stop, 1, __ATOMIC_SEQ_CST);
    gr->rc = -rc;
    for (unsigned k = 1; k < started; k++) uv_async_send(&gr->w[k].async);
  } else {
    run_worker(&gr->w[0]);
  }
  for (unsigned k = 1; k < started; k++) pthread_join(gr->w[k].thread, NULL);
  cb__stack_handler_remove(&gr->old_segv);
  gr->running = 0;
  return gr->rc;
}

void cb_green_group_stats(const cb_green_group *gr, cb_green_stats *out) {
  memset(out, 0, sizeof *out);
  for (unsigned k = 0; k < gr->n; k++) {
    cb_green_stats st;
    cb_green_sched_stats(gr->w[k].s, &st);
    out->created += st.created;
    out->peak_live += st.peak_live;
    out->peak_threads += st.peak_threads;
    out->stacks += st.stacks;
    out->switches += st.switches;
    out->io_events += st.io_events;
    out->io_registrations += st.io_registrations;
    out->stack_size = st.stack_size;
    out->stack_samples += st.stack_samples;
    out->stack_sampled_bytes += st.stack_sampled_bytes;
    out->record_bytes += st.record_bytes;
    out->stack_vm_bytes += st.stack_vm_bytes;
    out->stack_resident_bytes += st.stack_resident_bytes;
    out->stack_trimmed |= st.stack_trimmed;
  }
}

void cb_green_group_stats_mn_get(const cb_green_group *gr, cb_green_group_stats_mn *out) {
  memset(out, 0, sizeof *out);
  for (unsigned k = 0; k < gr->n; k++) {
    out->steals += gr->w[k].steals;
    out->remote_wakes += gr->w[k].remote_wakes;
    out->sleeps += gr->w[k].sleeps;
  }
}

static void close_noop(uv_handle_t *h) { (void)h; }

/* Frees every worker's scheduler; green threads still parked (after -EDEADLK) are
 * discarded. Records and stacks are freed with the scheduler that made them, so all
 * go together (a record may still be running on, or be parked by, another worker,
 * or sit on its home's list of returns). */
void cb_green_group_free(cb_green_group *gr) {
  if (!gr) return;
  CB_CHECK(!gr->running);
  for (unsigned k = 0; k < gr->n; k++) {
    uv_close((uv_handle_t *)&gr->w[k].async, close_noop);
    uv_close((uv_handle_t *)&gr->w[k].recheck, close_noop);
    cb_green_sched_free(gr->w[k].s);
  }
  pthread_mutex_destroy(&gr->lock);
  free(gr->w);
  free(gr);
}
