/* green_int.h — green thread internals shared by the files of runtimes/green. */
#ifndef CB_GREEN_INT_H
#define CB_GREEN_INT_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/check.h"
#include "common/list.h"
#include "common/timer_heap.h"
#include "runtimes/green/green.h"
#include "runtimes/green/switch.h"

/* ---- stacks (stack.c) ---- */
struct cb_green_sched;
typedef struct cb__stack_map {
  void *addr;
  size_t len;
} cb__stack_map;

typedef struct cb__stack_pool {
  size_t size;          /* bytes per stack slot, page multiple */
  size_t page;
  size_t guard;         /* bytes below a guarded stack or a slab that fault (stack.c) */
  int guard_markers;    /* guards are MADV_GUARD_INSTALL markers, else PROT_NONE */
  int batched_markers;  /* a batch's markers may be tried with one process_madvise */
  uint64_t count;       /* stacks handed out */
  uint64_t guards;      /* guard regions made (one per guarded stack, one per slab) */
  uint64_t drops;       /* cb__stack_drop calls (pages given back) */
  uint64_t guarded;     /* of which have their own guard page */
  uint64_t guarded_max; /* how many may (stack.c) */
  char *batch_next;     /* next slot of the current batch of guarded stacks */
  uint64_t batch_left;
  char *slab_next;      /* next free slot of the current slab (grows upward) */
  size_t slab_left;     /* slots left in it */
  char *reserve_next;   /* unused part of the last mapping, handed out to batches and slabs */
  size_t reserve_left;
  cb__stack_map *maps;  /* every mapping, for munmap */
  size_t nmaps, capmaps;
} cb__stack_pool;

int cb__stack_pool_init(cb__stack_pool *p, size_t size);
void cb__stack_pool_destroy(cb__stack_pool *p);
/* A fresh stack slot [*lo, *lo + p->size); the stack proper ends CB__CANARY_BYTES
 * below its top (cb__stack_usable). *canary = 1 when it shares its slab without a
 * guard page of its own: then the CB__CANARY_BYTES just below *lo (the top of the
 * neighbour's slot) are its canary, which must stay zero (cb__stack_check). */
int cb__stack_alloc(cb__stack_pool *p, char **lo, int *canary);
/* A stack slot [*lo, *lo + p->size) with a guard region of its own below it, mapped
 * apart from the batches and slabs (copy mode's shared stack, copystack.c). */
int cb__stack_alloc_guarded(cb__stack_pool *p, char **lo);
/* Gives the pages of the stack slots in [lo, hi) back to the kernel (MADV_DONTNEED):
 * they stay mapped and usable and read as zero. Guards inside the span are left as they
 * are; the span must be one run of slots that cb__stack_joinable says may be joined. */
void cb__stack_drop(cb__stack_pool *p, char *lo, char *hi);
/* Resident bytes (mincore) of [lo, lo + len), a range of p's mappings, and of all of
 * p's mappings (its stacks' pages: guards and unused reserve are never resident);
 * 0 if mincore fails. */
uint64_t cb__stack_resident(const cb__stack_pool *p, const char *lo, size_t len);
uint64_t cb__stack_pool_resident(const cb__stack_pool *p);
/* 1 when the slot [lo, lo + size) may join a drop span [span_lo, span_hi) that is
 * just above or below it: it touches the span, or one guard region lies between them
 * (the upper one of the two has a guard below it: !canary) and the guards are markers,
 * which MADV_DONTNEED leaves in place (a PROT_NONE guard is a mapping of its own).
 * The guard test matters: a gap of p->guard bytes may also be a live neighbour's slot. */
static inline int cb__stack_joinable(const cb__stack_pool *p, const char *span_lo, const char *span_hi,
                                     int span_lo_canary, const char *lo, int canary) {
  const char *hi = lo + p->size;
  if (lo == span_hi || hi == span_lo) return 1;
  if (!p->guard_markers) return 0;
  return (lo == span_hi + p->guard && !canary) || (span_lo == hi + p->guard && !span_lo_canary);
}
#define CB__CANARY_BYTES 64
static inline size_t cb__stack_usable(const cb__stack_pool *p) { return p->size - CB__CANARY_BYTES; }
/* Address space the pool's stacks take: their slots and guard regions (not the unused
 * rest of the last reserve). */
static inline uint64_t cb__stack_vm_bytes(const cb__stack_pool *p) { return p->count * p->size + p->guards * p->guard; }
/* Exits the process with the overflow message unless the stack in slot [lo, lo+size)
 * is intact: canary (if any, below lo) still zero and sp within the slot. O(1), on
 * every switch out. */
__attribute__((noreturn)) void cb__stack_overflow_exit(size_t size);
static inline void cb__stack_check(const char *lo, size_t size, int canary, uintptr_t sp) {
  if (__builtin_expect(sp < (uintptr_t)lo || sp >= (uintptr_t)lo + size, 0)) cb__stack_overflow_exit(size);
  if (canary) {
    const uint64_t *w = (const uint64_t *)(const void *)(lo - CB__CANARY_BYTES);
    uint64_t any = 0;
    for (size_t i = 0; i < CB__CANARY_BYTES / sizeof *w; i++) any |= w[i];
    if (__builtin_expect(any != 0, 0)) cb__stack_overflow_exit(size);
  }
}
/* Installed for the duration of cb_green_sched_run: SIGSEGV on an alternate stack; a
 * fault in the guard page below the running green thread's stack is reported as an
 * overflow; anything else goes back to the previous disposition and faults again. */
int cb__stack_segv_install(cb_green_sched *s);
void cb__stack_segv_remove(cb_green_sched *s);
/* The two halves of the above, for M:N, where one handler serves every worker: the
 * process-wide handler (installed once by the group, old disposition saved in *old)
 * and the per-thread alternate signal stack (each worker on its own OS thread). */
int cb__stack_handler_install(struct sigaction *old);
void cb__stack_handler_remove(const struct sigaction *old);
int cb__stack_altstack_install(cb_green_sched *s);
void cb__stack_altstack_remove(cb_green_sched *s);

/* ---- green threads and the scheduler (sched.c) ---- */
/* CB__G_NEW: spawned under M:N, not started, on a worker's queue of new threads (mn.c). */
enum { CB__G_READY, CB__G_RUNNING, CB__G_PARKED, CB__G_DONE, CB__G_FREE, CB__G_NEW };

struct cb_green {
  cb__gctx ctx;
  cb_green_sched *sched;
  cb_list link;        /* run queue, free list, or a primitive's wait queue */
  int state;
  int detached;
  int canary;           /* stack has a canary (slab stack) */
  int timer_fired;      /* set when its deadline passed (deadline.c) */
  void (*fn)(void *);
  void *arg;
  char *stack_lo;
  unsigned vg_id;
  int copy;             /* copy mode: runs on the scheduler's shared stack (copystack.c) */
  cb_green *joiner;     /* green thread parked in cb_green_join on this one */
  cb_timer_node tnode;  /* deadline of its sleep or timeout (CLOCK_MONOTONIC ns) and
                           its place in s->timers.q (common/timer_heap.h) */
  cb_list timer_link;   /* its lane link while on s->timers.q's lane */
  void *wait_data;      /* what a parked thread waits for (channel element...) */
  int wait_result;
  /* M:N only (mn.c), or M:1 copy mode only (copystack.c): never both in one record,
   * since a copy-mode record is only ever reused for another copy-mode thread and
   * copy mode is M:1 only. */
  union {
    struct {
      cb_green *inbox_next; /* its link on a worker's inbox of remote wake-ups, or (finished)
                               on its home worker's list of returned threads (mn.c) */
      uint16_t pinned;      /* placed on one worker by cb_green_group_spawn_on: never stolen */
      uint16_t home;        /* the worker whose pool made its record and stack: it goes back
                               there when it finishes on another (cb__mn_retire) */
    };
    struct {
      char *cs_save;        /* its used stack bytes while another copy-mode thread has the
                               shared stack (malloc'd, grown, kept for reuse), or NULL */
      uint32_t cs_len;      /* bytes saved there; 0 = never ran (a fresh thread) */
    };
  };
  void *tsan_fiber;     /* ThreadSanitizer's fiber for its stack (sanitize.h), else NULL */
};

/* Thread records come CB__GREEN_BLOCK to an allocation (sched.c). */
#define CB__GREEN_BLOCK 256
typedef struct cb__green_block {
  struct cb__green_block *next;
  size_t used;
  cb_green threads[CB__GREEN_BLOCK];
} cb__green_block;
/* One readiness watcher per file descriptor (libuv allows one uv_poll_t per fd). */
typedef struct cb__fdw {
  uv_poll_t poll;        /* valid once `inited` (uv_poll_init done for this fd number) */
  int fd;
  int inited;
  cb_list waiters;      /* cb__fdwait */
  cb_list idle_link;    /* on s->idle_fds while registered with no waiter */
  cb_list pending_link; /* on s->pending_fds while waited for beyond its registration */
  uint32_t checks;       /* batched checks it went through since it was last registered */
  int events;            /* UV_READABLE|UV_WRITABLE registered in libuv, 0 = stopped */
  int64_t timeout_ns[2]; /* SO_RCVTIMEO, SO_SNDTIMEO noted by the hooks; 0 = not known (hooks.c) */
} cb__fdw;

typedef struct cb__fdwait {
  cb_list link;
  cb_green *g;
  int fd;
  int events;   /* UV_READABLE and/or UV_WRITABLE */
  int revents;  /* set when woken; UV_READABLE|UV_WRITABLE, or events on error */
  int error;    /* negative errno when the fd could not be watched */
} cb__fdwait;

/* Deadlines of the scheduler's green threads (deadline.c). */
typedef struct cb__timers {
  uv_timer_t uv;        /* armed for the earliest deadline while any is queued */
  cb_timer_heap q;      /* cb_green.tnode, lane linked through cb_green.timer_link */
  int64_t armed_for;    /* deadline the libuv timer (or the timerfd) is armed for, -1 = stopped */
} cb__timers;
/* The timerfd that keeps a deadline under 1 ms away (deadline.c); at the end of the
 * scheduler, away from the fields every switch reads. */
typedef struct cb__subms {
  int fd;               /* -1 none yet, -2 unavailable */
  int on;               /* poll started (fd armed for timers.armed_for) */
  uv_poll_t poll;
} cb__subms;

struct cb_green_sched {
  uv_loop_t loop;
  cb__gctx main_ctx;     /* the OS thread that called cb_green_sched_run */
  cb_green *current;     /* running green thread; NULL in the main context */
  struct cb__mn_worker *mn; /* NULL under M:1; this scheduler's worker under M:N (mn.c);
                            beside current: read on every switch, same cache line */
  struct cb__cs *cs;     /* the shared stack of copy-mode threads, NULL until the first
                            copy-mode spawn (copystack.c); read with mn on every switch */
  cb_green *exited;      /* M:N: a thread that ended, joinable or made by another worker, for
                            whatever runs next here to publish or send home (mn.c) */
  unsigned mn_index;     /* M:N: this worker's index (a record's home), else 0 */
  cb_list ready;        /* run queue */
  size_t nready;         /* green threads on it */
  cb_list free_threads; /* finished green threads, stack attached, for reuse */
  size_t nfree;          /* green threads on it */
  uint64_t retired;      /* threads retired with a stack of their own (sampling, memory.c) */
  uint64_t threads, peak_threads; /* records made and not yet retired (cb_green_stats) */
  cb_list cold;         /* finished ones whose stack pages are to be dropped (sched.c) */
  cb__green_block *blocks; /* every cb_green ever made, newest block first */
  uint64_t live, peak_live, created, switches, io_events, io_registrations;
  int budget;            /* switches left before the main context polls IO again */
  int in_uv;             /* inside uv_run: a wake-up must keep it from blocking */
  uv_idle_t wake;        /* active while a callback has made a green thread ready */
  cb__timers timers;
  int running;
  cb__stack_pool stacks;
  cb__fdw **fds;         /* indexed by fd, lazily allocated */
  cb_list idle_fds;     /* registered watchers nobody waits on (io.c) */
  cb_list pending_fds;  /* watchers waited for but not (fully) registered (io.c) */
  size_t npending;
  int64_t check_after_ns; /* no check of pending_fds before then (io.c) */
  struct pollfd *pfds;   /* scratch for the batched check of pending_fds */
  size_t pfds_cap;
  size_t nfds;
  cb_green_sched *outer; /* scheduler that was current on this thread before run */
  /* main stack bounds for ASan fiber switches */
  void *main_stack_lo;
  size_t main_stack_size;
  /* overflow detection (stack.c) */
  struct sigaction old_segv;
  stack_t old_altstack;
  void *altstack;
  int segv_installed;
  void *tsan_main;       /* ThreadSanitizer's fiber of the main context (sanitize.h) */
  cb__subms subms;
  uint64_t stack_samples, stack_sampled_bytes; /* cb__green_sample_stack */
};

/* The scheduler running on this OS thread (cb_green_sched_run), or NULL: the only
 * per-thread variable of the runtime (defined in sched.c), so that one scheduler can
 * later run per core. Read it through the two functions below. */
extern __thread cb_green_sched *cb__tls_sched;

/* The scheduler whose green thread is running on this OS thread, or NULL (outside a
 * green thread, including the scheduler's own main context). One TLS load. */
static inline cb_green_sched *cb__green_tls(void) {
  cb_green_sched *s = cb__tls_sched;
  return s && s->current ? s : NULL;
}
static inline cb_green_sched *cb__green_tls_sched(void) { return cb__tls_sched; }
/* Parks the running green thread; returns after cb__green_ready made it runnable. */
void cb__green_park(cb_green_sched *s);
/* Makes a parked green thread runnable (at the tail of the run queue); no-op else. */
void cb__green_ready(cb_green_sched *s, cb_green *g);
/* Wakes g, parked on a primitive (channel, lock, join) by a waker that took it off the
 * primitive's wait queue: cb__green_ready when g's scheduler runs on this OS thread
 * (always under M:1), else a remote wake-up through its worker's inbox (mn.c). */
void cb__mn_wake_remote(cb_green *g);
static inline void cb__green_wake(cb_green *g) {
  cb_green_sched *s = g->sched;
  if (__builtin_expect(s->mn == NULL, 1) || s == cb__tls_sched) cb__green_ready(s, g);
  else cb__mn_wake_remote(g);
}

/* ---- M:N (mn.c): what sched.c and the primitives need of it ---- */
/* A spin lock for the primitives' state when they may be used from several OS
 * threads (M:N). Spins with a pause, then yields the CPU (its holder may have been
 * preempted). */
void cb__spin_lock_slow(int *l);
static inline void cb__spin_lock(int *l) {
  if (__builtin_expect(__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE) != 0, 0)) cb__spin_lock_slow(l);
}
static inline void cb__spin_unlock(int *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }
/* 1 when the primitives must lock: the caller is not on an M:1 scheduler's thread
 * (an M:N worker, or a thread outside any scheduler). One TLS load. */
static inline int cb__green_shared(void) {
  cb_green_sched *s = cb__tls_sched;
  return s == NULL || s->mn != NULL;
}
/* The next thread to run on an M:N worker: its newest not-yet-started one (child
 * first), else the head of its run queue; NULL if none. */
cb_green *cb__mn_next(cb_green_sched *s);
/* An M:N spawn: queues the new thread g (state CB__G_NEW) where it may be stolen. */
void cb__mn_push_new(cb_green_sched *s, cb_green *g);
/* On a worker, right after a switch away from a joinable thread that ended
 * (s->exited): publishes the end (its stack is no longer in use) and wakes its
 * joiner. */
void cb__mn_after_switch(cb_green_sched *s);
/* Joins g under M:N (g may have run on another worker). */
int cb__mn_join(cb_green_sched *s, cb_green *g);
/* Finished g, its stack no longer in use, back to the pool it came from: s's free
 * list if s is its home worker, else a lock-free push on its home's list of returned
 * threads, which the home takes whole (cb__mn_take_returns). So a worker's records and
 * stacks serve only its own spawns: a thief's free list does not fill with its
 * victim's stacks while the victim maps new ones. */
void cb__mn_retire(cb_green_sched *s, cb_green *g);
/* Owner: retires onto s's free list every thread returned to s by other workers;
 * returns how many. A relaxed load when there are none. */
size_t cb__mn_take_returns(cb_green_sched *s);

/* ---- sched.c pieces the M:N worker loop (mn.c) runs ---- */
/* From the main context: runs g (popped, ready) until control returns to the main
 * context. */
void cb__green_resume(cb_green_sched *s, cb_green *g);
/* From the main context: gives back stack pages of finished threads (trim_cold). */
void cb__green_trim(cb_green_sched *s);
/* The switches the main context allows before it polls IO again. */
int cb__green_poll_budget(const cb_green_sched *s);
/* The run queue: the head (NULL if empty); g made ready at the front or the back. */
cb_green *cb__green_ready_pop(cb_green_sched *s);
void cb__green_ready_push(cb_green_sched *s, cb_green *g, int front);
/* A thread record for fn(arg) from s's free list or a fresh one, stack ready, state
 * CB__G_NEW, queued nowhere, counted in s->created but not live. */
int cb__green_make(cb_green_sched *s, void (*fn)(void *), void *arg, int detached, cb_green **out);
/* Puts finished g on s's free list (or cold list), for reuse by s's spawns. */
void cb__green_retire(cb_green_sched *s, cb_green *g);
/* The same for a record that carries a stack back to the pool but was no thread of
 * its own (mn.c, give_back_stack): not counted as a thread ending. */
void cb__green_put_stack(cb_green_sched *s, cb_green *g);
/* Thread-local setup of a scheduler about to run on this OS thread / its undoing:
 * cb__tls_sched, stack bounds and sanitizer state; the SIGSEGV handler is the
 * caller's (cb__stack_segv_install) except its alternate stack (with_handler 0). */
int cb__green_run_begin(cb_green_sched *s, int with_handler);
void cb__green_run_end(cb_green_sched *s, int with_handler);
/* The first code every green thread runs (cb__gctx_make's fn, with the record). */
void cb__green_entry(void *p);
/* A fresh record (no stack, zeroed links) from s's blocks; NULL when out of memory. */
cb_green *cb__green_record(cb_green_sched *s);

/* ---- copy mode: the shared stack (copystack.c) ----
 * Copy-mode threads of one M:1 scheduler all run on one shared stack, s->cs->lo
 * (their stack_lo; same size as the pool's stacks, a guard below it). At most one of
 * them, cs->owner, has its bytes on it; the others keep their used bytes (saved stack
 * pointer to stack top) in cs_save. cb__cs_acquire, never run on the shared stack
 * itself, makes a thread the owner: it saves the owner's bytes (unless it finished)
 * and copies the thread's back, or builds a fresh thread's first frame there. So a
 * copy-mode thread never switches straight to another that is not the owner: it
 * goes through the main context, which acquires (sched.c, switch_out).
 * What this costs the program: while a copy-mode thread is parked its stack bytes are
 * not at their addresses, so nothing may point into its stack. The runtime's own
 * parks that leave such pointers (channels, locks, joins, IO waits) end the process
 * (cb__cs_refuse_park); sleeps (the deadline lives in the record), yields and exits
 * are allowed. */
typedef struct cb__cs {
  char *lo;              /* the shared stack, [lo, lo + s->stacks.size) */
  cb_green *owner;       /* whose bytes are on it, or NULL */
  cb_list free;          /* finished copy-mode threads, for copy-mode spawns */
  unsigned vg_id;
  uint64_t saves, saved_bytes; /* saves made and the bytes they copied */
  uint64_t buffer_bytes; /* the save buffers' capacity, summed */
} cb__cs;
/* Sets up s->cs (mapping the shared stack); 0 or a negative errno. */
int cb__cs_init(cb_green_sched *s);
/* Makes g (copy mode, not running) the owner of the shared stack. Called from the
 * main context or from a green thread not in copy mode. */
void cb__cs_acquire(cb_green_sched *s, cb_green *g);
/* A copy-mode thread parked where its stack must stay in place: one line naming
 * --param shared_stack and what it supports, then exit(CB_EXIT_USAGE). */
__attribute__((noreturn)) void cb__cs_refuse_park(void);
/* Frees the save buffers and the shared stack's registration (sched_free). */
void cb__cs_free(cb_green_sched *s);

/* ---- deadlines (deadline.c) ---- */
/* Queues g to be made ready once CLOCK_MONOTONIC reaches deadline_ns >= 0 (replacing a
 * deadline it had); timer_fired is set when that happened. cb__green_timer_stop
 * dequeues it (no-op if not queued). */
void cb__green_timer_start(cb_green_sched *s, cb_green *g, int64_t deadline_ns);
void cb__green_timer_stop(cb_green *g);
void cb__green_timers_init(cb_green_sched *s);
/* Closes the libuv timer (the loop must then run to finish the close). */
void cb__green_timers_close(cb_green_sched *s);

/* ---- readiness (io.c) ---- */
/* Parks the current green thread until one of the n waits is ready (0) or the
 * deadline passes (-ETIMEDOUT; deadline_ns < 0 = none). Negative errno if an fd cannot
 * be watched (e.g. a regular file: -EPERM). */
int cb__io_wait(cb_green_sched *s, cb__fdwait *w, size_t n, int64_t deadline_ns);
/* From the main context, when it is about to poll libuv (before_block: with no green
 * thread ready): one ppoll over the fds waited for but not registered with libuv
 * yet, unless the last one was too recent for what it cost (io.c); wakes the waiters
 * of the ready ones. Returns how many green threads it made ready. */
size_t cb__io_check_pending(cb_green_sched *s, int before_block);
/* Before blocking in libuv: stops every registered watcher nobody waits on, and
 * registers every fd still waited for, so that only those can wake the scheduler. */
void cb__io_before_block(cb_green_sched *s);
/* The fd's socket timeout noted by the setsockopt hook (hooks.c): dir 0 = receive
 * (SO_RCVTIMEO), 1 = send (SO_SNDTIMEO); ns 0 = none. set: 0 or -ENOMEM. */
int cb__io_set_timeout(cb_green_sched *s, int fd, int dir, int64_t ns);
static inline int64_t cb__io_timeout(const cb_green_sched *s, int fd, int dir) {
  return fd >= 0 && (size_t)fd < s->nfds && s->fds[fd] ? s->fds[fd]->timeout_ns[dir] : 0;
}
/* fd is being closed: wake its waiters, drop its registration and its timeouts. */
void cb__io_forget(cb_green_sched *s, int fd);
void cb__io_destroy(cb_green_sched *s);

int64_t cb__mono_ns(void);

/* ---- the models' shared pieces (model.c), used by model_mn.c too ---- */
/* A pingpong pair: cb__green_pp_a sends k and waits for it back, rounds times;
 * cb__green_pp_b echoes; the second side to end fills rec (result: hand-offs seen). */
typedef struct cb__green_pp_pair {
  cb_green_chan *to_b, *to_a;
  uint64_t rounds;
  uint64_t seen; /* hand-offs received by either side */
  cb_job_record *rec;
  int ended;     /* sides finished (atomic) */
} cb__green_pp_pair;
void cb__green_pp_a(void *arg);
void cb__green_pp_b(void *arg);
/* A skynet node (cb__green_tree_fn, its argument): a leaf's value is its number; an
 * inner node spawns min(fanout, count) children on its own scheduler and joins them. */
#define CB_GREEN_MAX_FANOUT 100
typedef struct cb__green_tree_node {
  uint64_t first, count, fanout, sum;
  int failed;
} cb__green_tree_node;
void cb__green_tree_fn(void *p);

/* ---- memory per green thread (memory.c) ---- */
/* Once a scheduler has trimmed stacks (before that the whole pool is looked at after
 * the run, memory.c), one thread in this many that finish on a stack of their own has
 * its stack's resident pages counted (retire, sched.c): a mincore of 2-3 us, ~2 ns a
 * thread. */
#define CB__STACK_SAMPLE_EVERY 1024
/* Counts the resident pages of finished g's stack slot into s->stack_samples and
 * s->stack_sampled_bytes. g may still be running on it (its exit). */
void cb__green_sample_stack(cb_green_sched *s, const cb_green *g);
/* The process's memory at the start of a job phase and its page tables at the end. */
typedef struct cb__green_mem {
  long rss0_kb;  /* peak RSS before the phase (getrusage) */
  long pte0_kb;  /* VmPTE before the phase, -1 unknown */
  long pte1_kb;  /* VmPTE after the green threads ran, before their stacks were unmapped */
} cb__green_mem;
void cb__green_mem_begin(cb__green_mem *m);
void cb__green_mem_end(cb__green_mem *m); /* after the run, before the scheduler is freed */
/* Adds the memory figures per green thread in existence at the peak
 * (st->peak_threads): bytes_per_task (peak RSS growth over the phase), peak_live,
 * peak_threads, stack_bytes_per_task, record_bytes_per_task, pagetable_bytes_per_task,
 * stack_vm_bytes_per_task (memory.c says what each is). */
void cb__green_report_memory(cb_run_report *report, const cb__green_mem *m, const cb_green_stats *st);
/* 1 when a run cell of this workload reports the memory figures: a workload whose
 * jobs wait on neither a server nor the CPU (sleep); the others keep their own
 * figure alone (membw's gb_per_s). */
int cb__green_run_reports_memory(const cb_run_spec *spec);

/* cb_model.pipeline of green-mn (pipeline.c): on a group of `workers`. */
int cb__green_mn_pipeline(const cb_run_spec *spec, const cb_pipeline_spec *p, unsigned workers,
                          cb_run_report *report);

/* The model's server (serve.c): cb_model.serve of cb_model_green, and of green-mn
 * on a group of `workers`. */
int cb__green_serve(const cb_serve_spec *spec, cb_run_report *report);
int cb__green_mn_serve(const cb_serve_spec *spec, unsigned workers, cb_run_report *report);

#endif
