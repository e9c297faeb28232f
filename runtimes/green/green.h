/* green.h — stackful green threads with cooperative blocking calls (public).
 *
 * M:1: one scheduler drives many green threads on the OS thread that calls
 * cb_green_sched_run. Each green thread has its own mmap'd stack (default 64 KiB) and
 * is switched by hand (switch_*.S, or ucontext with GREEN_SWITCH=ucontext). While a
 * scheduler runs, the blocking calls read, write, readv, writev, recv, send, recvfrom,
 * sendto, connect, accept, accept4, poll, ppoll, select, pselect, epoll_wait,
 * epoll_pwait, nanosleep, usleep, sleep and clock_nanosleep made from a green thread
 * park it until libuv reports readiness or a timer fires, honouring SO_RCVTIMEO/
 * SO_SNDTIMEO; getaddrinfo and getnameinfo park it while libuv's thread pool resolves
 * (hooks.c); made anywhere else they are the plain calls. What differs from gevent:
 * runtimes/green/CONFORMANCE.md.
 *
 * Errors are 0 / negative errno. Blocking operations (join, sleep, channel and lock
 * waits) must be called from a green thread; elsewhere they return -EPERM. */
#ifndef CB_GREEN_H
#define CB_GREEN_H

#include <stddef.h>
#include <stdint.h>

#include "common/list.h"
#include "runtimes/runtime.h"

extern const cb_model cb_model_green;

#define CB_GREEN_STACK_DEFAULT (64 * 1024)
#define CB_GREEN_STACK_MIN (16 * 1024)
#define CB_GREEN_STACK_MAX (256 * 1024 * 1024)

typedef struct cb_green_sched cb_green_sched;
typedef struct cb_green cb_green;

/* Scheduler lifetime. stack_size 0 = default; otherwise rounded up to whole pages and
 * within [CB_GREEN_STACK_MIN, CB_GREEN_STACK_MAX], else -EINVAL. */
int cb_green_sched_new(size_t stack_size, cb_green_sched **out);
/* Finished green threads keep their stacks for reuse by later spawns; the pages of
 * any beyond this many go back to the kernel (when the scheduler is idle, and when
 * cb_green_sched_run returns), so a burst of threads does not stay resident. */
#define CB_GREEN_WARM_STACKS 1024
/* Runs green threads until none is alive. Returns 0, or -EDEADLK when every live green
 * thread is parked with nothing (IO, timer) left that could wake it. */
int cb_green_sched_run(cb_green_sched *s);
/* Frees the scheduler, its stacks and its loop. Green threads still alive (after
 * -EDEADLK) are discarded without being resumed. */
void cb_green_sched_free(cb_green_sched *s);

/* 0 when this process's blocking calls resolve to the hooks (hooks.c) for every
 * library, e.g. libcurl; -ENOSYS when they do not (program linked without -rdynamic),
 * in which case green threads would block the whole scheduler in those calls. */
int cb_green_hooks_check(void);

extern const cb_model cb_model_green_mn;

/* Micro-measurements (bench.c), best of several trials, ns per operation. */
typedef struct cb_green_bench {
  const char *backend;     /* "asm" or "ucontext" */
  double raw_switch_ns;    /* one bare context switch */
  double yield_ns;         /* one cb_green_yield between two green threads */
  double chan_handoff_ns;  /* one hand-off over an unbuffered channel */
  double write_hooked_ns;  /* write(2) of 1 byte to /dev/null through the hook, */
  double write_libc_ns;    /* ... and through libc's write, outside green threads */
  double fresh_page_ns;    /* first write to a fresh anonymous page (a page fault) */
  double page_unmap_ns;    /* unmapping one such page */
} cb_green_bench;
int cb_green_microbench(cb_green_bench *out);

/* Statistics of a scheduler. */
typedef struct cb_green_stats {
  uint64_t created;   /* green threads spawned */
  uint64_t peak_live; /* most alive at once (M:N: started ones, on each worker) */
  uint64_t peak_threads; /* most in existence at once: made and not yet retired (queued,
                            running, parked, or finished and not yet joined; M:N: records
                            of each worker's pool) */
  uint64_t stacks;    /* stacks mapped (reused through the pool) */
  uint64_t switches;  /* context switches */
  uint64_t io_events; /* readiness events reported for parked fds (libuv, or the check of pending fds) */
  uint64_t io_registrations; /* fds registered with libuv, or their events widened (io.c) */
  size_t stack_size;  /* bytes per stack slot, whole pages (stack.c) */
  /* copy mode (cb_green_spawn_copy): saves of a thread's used stack bytes off the
   * shared stack, the bytes they copied, the save buffers' capacity summed */
  uint64_t copy_saves, copy_saved_bytes, copy_buffer_bytes;
  /* memory (memory.c): threads whose own stack was sampled when they finished (one in
   * CB__STACK_SAMPLE_EVERY) and the resident bytes of those stacks, summed; the thread
   * records' bytes (their blocks' malloc usable sizes); the stacks' address space
   * (slots and guard regions) */
  uint64_t stack_samples, stack_sampled_bytes, record_bytes, stack_vm_bytes;
  /* the stacks' resident bytes now (mincore over the pool), when no stack's pages were
   * ever given back (stack_trimmed 0): then it is also their peak */
  uint64_t stack_resident_bytes;
  int stack_trimmed;
} cb_green_stats;
void cb_green_sched_stats(const cb_green_sched *s, cb_green_stats *out);

/* The scheduler running on this OS thread, if called from one of its green threads;
 * NULL otherwise. cb_green_self likewise returns the running green thread or NULL. */
cb_green_sched *cb_green_current_sched(void);
cb_green *cb_green_self(void);

/* Creates a green thread running fn(arg); it runs once the current one blocks or
 * yields (child first). With out == NULL it is detached, else *out must be joined
 * exactly once. May be called from the scheduler's green threads or, before or
 * between runs, from the thread that owns the scheduler. -ENOMEM on failure. */
int cb_green_spawn(cb_green_sched *s, void (*fn)(void *), void *arg, cb_green **out);
/* cb_green_spawn in copy mode (libaco's copy stack; M:1 only, else -ENOTSUP): every
 * copy-mode thread of s runs on one shared stack, and a parked one keeps only its used
 * bytes, copied to a buffer of its own, instead of a stack. Restriction: nothing may
 * point into a copy-mode thread's stack while it is parked (those bytes are not at
 * their addresses then), so it may sleep (cb_green_sleep_ns and the hooked sleeps),
 * yield and exit, and spawn (children get no pointer into its stack from the
 * runtime); any other park (channel, mutex, condition variable, wait group, join,
 * hooked IO, resolver) ends the process with one line on stderr and exit status 2.
 * Its stack size is the scheduler's. */
int cb_green_spawn_copy(cb_green_sched *s, void (*fn)(void *), void *arg, cb_green **out);
/* Waits until g has finished and releases it. */
int cb_green_join(cb_green *g);
/* Lets every other ready green thread run once, then continues. */
void cb_green_yield(void);
/* Parks the caller for at least ns nanoseconds (a deadline under 1 ms away is kept by a
 * timerfd, so it ends within scheduling latency; further ones by libuv's ms timer). */
int cb_green_sleep_ns(int64_t ns);
/* Ends the calling green thread (as if fn returned). */
__attribute__((noreturn)) void cb_green_exit(void);

/* ---- M:N: a group of W worker OS threads, each with its own scheduler (mn.c) ----
 * Every function above works inside a group's green threads, and the channels, mutex,
 * condition variable and wait group work between green threads of different workers.
 * cb_green_spawn from a green thread queues the child on the caller's worker; an idle
 * worker steals threads that have not started yet. A started green thread stays on its
 * worker for life (README.md: why). */
typedef struct cb_green_group cb_green_group;
#define CB_GREEN_GROUP_MAX_WORKERS 64
/* workers from 1 to CB_GREEN_GROUP_MAX_WORKERS, else -EINVAL; stack_size as for
 * cb_green_sched_new. */
int cb_green_group_new(unsigned workers, size_t stack_size, cb_green_group **out);
unsigned cb_green_group_workers(const cb_green_group *gr);
/* Spawns fn(arg) on the least-loaded worker (live green threads plus queued new ones),
 * where idle workers may steal it until it starts; cb_green_group_spawn_on places it on
 * worker w for good. out as for cb_green_spawn. From a green thread of the group, or
 * from any thread while the group is not running. -ENOMEM, -EINVAL (w out of range). */
int cb_green_group_spawn(cb_green_group *gr, void (*fn)(void *), void *arg, cb_green **out);
int cb_green_group_spawn_on(cb_green_group *gr, unsigned w, void (*fn)(void *), void *arg, cb_green **out);
/* Runs the workers (the caller's thread is worker 0) until no green thread is alive
 * in the group. 0, or -EDEADLK when every live green thread is parked with nothing
 * that could wake it, or a negative errno if a worker thread could not be started.
 * With W > 1 it first grows the process's fd table to min(RLIMIT_NOFILE, 65,536) slots
 * (mn.c: reserve_fd_table), which a process of several threads grows slowly. */
int cb_green_group_run(cb_green_group *gr);
/* Sum over the workers (peak_live: the sum of each worker's peak). */
void cb_green_group_stats(const cb_green_group *gr, cb_green_stats *out);
/* Extra figures of a group run: steals (threads taken by idle workers), remote_wakes
 * (wake-ups sent to another worker), sleeps (times a worker blocked in its loop). */
typedef struct cb_green_group_stats_mn {
  uint64_t steals, remote_wakes, sleeps;
} cb_green_group_stats_mn;
void cb_green_group_stats_mn_get(const cb_green_group *gr, cb_green_group_stats_mn *out);
void cb_green_group_free(cb_green_group *gr);

/* Channels: elements of elem_size bytes; cap 0 = unbuffered (send waits for a
 * receiver). send on a closed channel: -EPIPE; recv on a closed, drained channel:
 * -EPIPE; close twice: -EPIPE. Closing wakes every waiter. */
typedef struct cb_green_chan cb_green_chan;
int cb_green_chan_new(size_t elem_size, size_t cap, cb_green_chan **out);
int cb_green_chan_send(cb_green_chan *c, const void *elem);
int cb_green_chan_recv(cb_green_chan *c, void *elem);
int cb_green_chan_close(cb_green_chan *c);
void cb_green_chan_free(cb_green_chan *c); /* no waiters allowed */

/* Mutex: FIFO hand-off (unlock passes ownership to the longest waiter), so it is
 * fair under contention. Condition variable and wait group as in pthreads / Go.
 * Caller-owned storage; zero-initialise with the *_init functions. */
typedef struct cb_green_mutex {
  cb_green *owner;
  int lock;        /* private (M:N) */
  cb_list waiters; /* private */
} cb_green_mutex;
typedef struct cb_green_cond {
  int lock;        /* private (M:N) */
  cb_list waiters; /* private */
} cb_green_cond;
typedef struct cb_green_wg {
  int64_t count;
  int lock;        /* private (M:N) */
  cb_list waiters; /* private */
} cb_green_wg;

void cb_green_mutex_init(cb_green_mutex *m);
int cb_green_mutex_lock(cb_green_mutex *m);
int cb_green_mutex_unlock(cb_green_mutex *m); /* -EPERM unless the caller owns it */
void cb_green_cond_init(cb_green_cond *c);
int cb_green_cond_wait(cb_green_cond *c, cb_green_mutex *m);
void cb_green_cond_signal(cb_green_cond *c);
void cb_green_cond_broadcast(cb_green_cond *c);
void cb_green_wg_init(cb_green_wg *wg);
int cb_green_wg_add(cb_green_wg *wg, int64_t delta); /* -EINVAL if count would go < 0 */
void cb_green_wg_done(cb_green_wg *wg);
int cb_green_wg_wait(cb_green_wg *wg);

#endif
