/* stack.c — green thread stacks: mmap'd, pooled, overflow never silent.
 *
 * The problem: a guard page per stack costs time and, made with mprotect, two memory
 * mappings (the stack and its PROT_NONE guard cannot merge); the stock
 * vm.max_map_count is 65530, so one such guard page each caps a process near 32,000
 * stacks. Linux 6.13+ has guard markers (MADV_GUARD_INSTALL: page-table entries that
 * fault, no mapping of their own), which lift the cap but still cost a system call
 * and page-table work per stack, about a page fault's worth. The design:
 *
 *  1. The first CB__GUARDED_STACKS stacks (16,384; 1,024 under valgrind, whose
 *     address-space manager tracks far fewer segments) each get a guard region below
 *     (CB__GUARD_BYTES: the guard page, made large against big frames): guard markers
 *     where the kernel has them, else PROT_NONE (32,768 mappings, half the stock
 *     budget). They are made CB__SLAB_STACKS at a time. An overflow faults in the
 *     guard; the SIGSEGV handler, running on an alternate signal stack, sees the
 *     fault address inside the running green thread's guard and prints the overflow
 *     message.
 *  2. Stacks beyond that are carved from slabs of CB__SLAB_STACKS stacks, each with
 *     one guard at its bottom. The lowest stack of a slab
 *     is caught as in 1. For the others, the memory below a stack is the top of its
 *     neighbour, which belongs to a *suspended* green thread (M:1: only one runs).
 *     Every switch out of a green thread and its exit check (cb__stack_check) that
 *     (a) its canary, the CB__CANARY_BYTES (64) just below its stack, still read all
 *     zero and (b) its stack pointer is inside its stack; on failure the process exits
 *     with the message before any other green thread runs, so a neighbour whose stack
 *     was scribbled on never resumes. The canary is the top of the neighbour's slot,
 *     which no stack ever uses (every stack ends CB__CANARY_BYTES below its slot's
 *     top); it stays zero, the value of a fresh anonymous page, until an overflow
 *     writes return addresses, saved registers and locals there, which are not all
 *     zero. Placing it there rather than at the bottom of the stack's own slot puts it
 *     on the neighbour's top page, which the neighbour's own frames map (on x86-64
 *     from its spawn, when its first frame is written; elsewhere once it has run):
 *     checking it then faults no page in, and it never costs memory (a fresh bottom
 *     page would cost a fault that maps the shared zero page, once per stack).
 *     Limit: a frame that jumps over the canary and returns before the next switch
 *     writes into the neighbour and is caught only if it also touched the canary; the
 *     first 16,384 stacks do not have this hole.
 *
 * Batches and slabs are both cut from large mappings (CB__RESERVE_BYTES), so that
 * mmap calls and mappings stay few.
 * Stacks are never unmapped one by one: a finished green thread keeps its stack in the
 * scheduler's free list (sched.c) and the next spawn reuses both. Mappings use
 * MAP_NORESERVE: only the pages a green thread touches cost memory. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "runtimes/green/green_int.h"
#include "runtimes/green/sanitize.h"

#define CB__GUARDED_STACKS 16384
#define CB__GUARDED_STACKS_VALGRIND 1024
#define CB__SLAB_STACKS 64
/* Batches and slabs are carved from mappings of at least this size: one mmap (and
 * one madvise) per 16 slabs of 64 KiB stacks instead of one per slab. MAP_NORESERVE
 * address space only; it also keeps the number of mappings low for the fault path. */
#define CB__RESERVE_BYTES ((size_t)128 << 20)
/* PROT_NONE below a stack: one mapping whatever its size, and it costs no memory, so
 * it is made big enough that a large frame (alloca, big arrays) cannot jump over it
 * into someone else's memory. Frames larger than this still can; code built with
 * -fstack-clash-protection probes every page and cannot. */
#define CB__GUARD_BYTES (64 * 1024)
#define CB__ALTSTACK_SIZE (64 * 1024)
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13 uapi; glibc headers may lag */
#endif
/* process_madvise on the calling process without a pidfd (Linux 6.14 uapi) */
#define CB__PIDFD_SELF_THREAD (-10000)

int cb__stack_pool_init(cb__stack_pool *p, size_t size) {
  memset(p, 0, sizeof *p);
  p->page = (size_t)sysconf(_SC_PAGESIZE);
  if (size == 0) size = CB_GREEN_STACK_DEFAULT;
  if (size < CB_GREEN_STACK_MIN || size > CB_GREEN_STACK_MAX) return -EINVAL;
  p->size = (size + p->page - 1) & ~(p->page - 1);
  p->guard = (CB__GUARD_BYTES + p->page - 1) & ~(p->page - 1);
  p->guarded_max = RUNNING_ON_VALGRIND ? CB__GUARDED_STACKS_VALGRIND : CB__GUARDED_STACKS;
  p->guard_markers = 1;
  p->batched_markers = !RUNNING_ON_VALGRIND; /* valgrind does not know process_madvise */
  return 0;
}

/* Remembers a mapping for munmap; one that the kernel placed right below or above
 * the last one (the usual case) extends its record, so that teardown unmaps the
 * pool in a few calls rather than one per slab. */
static int remember(cb__stack_pool *p, void *addr, size_t len) {
  cb__stack_map *last = p->nmaps ? &p->maps[p->nmaps - 1] : NULL;
  if (last && (char *)addr + len == (char *)last->addr) {
    last->addr = addr;
    last->len += len;
    return 0;
  }
  if (last && (char *)last->addr + last->len == (char *)addr) {
    last->len += len;
    return 0;
  }
  if (p->nmaps == p->capmaps) {
    size_t cap = p->capmaps ? 2 * p->capmaps : 64;
    cb__stack_map *m = realloc(p->maps, cap * sizeof *m);
    if (!m) return -ENOMEM;
    p->maps = m;
    p->capmaps = cap;
  }
  p->maps[p->nmaps++] = (cb__stack_map){addr, len};
  return 0;
}

/* len bytes of untouched stack memory (no huge pages): the next part of the current
 * mapping, else of a new one of max(len, CB__RESERVE_BYTES) (what was left of the
 * old one stays unused), remembered for munmap. */
static char *map_region(cb__stack_pool *p, size_t len) {
  if (p->reserve_left < len) {
    size_t n = len > CB__RESERVE_BYTES ? len : CB__RESERVE_BYTES;
    char *m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                   -1, 0);
    if (m == MAP_FAILED) return NULL;
    /* with transparent huge pages a first touch would fault in (and zero) 2 MiB */
    madvise(m, n, MADV_NOHUGEPAGE);
    if (remember(p, m, n) != 0) {
      munmap(m, n);
      return NULL;
    }
    p->reserve_next = m;
    p->reserve_left = n;
  }
  char *r = p->reserve_next;
  p->reserve_next += len;
  p->reserve_left -= len;
  return r;
}

/* Makes [at, at + p->guard) fault on any access: guard markers, or PROT_NONE on
 * kernels without them (the first EINVAL switches the pool to mprotect). */
static int make_guard(cb__stack_pool *p, char *at) {
  if (p->guard_markers) {
    if (madvise(at, p->guard, MADV_GUARD_INSTALL) == 0) return 0;
    if (errno != EINVAL) return -errno;
    p->guard_markers = 0;
  }
  return mprotect(at, p->guard, PROT_NONE) == 0 ? 0 : -errno;
}

/* Installs the guard markers of a batch, the n regions at m, m + slot, ..., with one
 * process_madvise on this process (Linux 6.14+), which costs about a third less per
 * guard than one madvise each; returns 0 if that did them all. Installing a marker
 * twice is harmless, so a partial or failed call is simply redone by make_guard. */
static int install_markers(cb__stack_pool *p, char *m, size_t slot, uint64_t n) {
  if (!p->guard_markers || !p->batched_markers) return -1;
  struct iovec iov[CB__SLAB_STACKS];
  for (uint64_t i = 0; i < n; i++) iov[i] = (struct iovec){m + i * slot, p->guard};
  long done = syscall(SYS_process_madvise, CB__PIDFD_SELF_THREAD, iov, (size_t)n, MADV_GUARD_INSTALL, 0);
  if (done == (long)(n * p->guard)) return 0;
  if (done < 0) p->batched_markers = 0; /* an older kernel: one madvise per guard from now on */
  return -1;
}

/* Maps the next batch of up to CB__SLAB_STACKS guarded stacks,
 * [guard][stack][guard][stack]..., all guards made before any page of the batch is
 * touched (splitting a mapping that has no pages yet is cheaper, for mprotect). */
static int map_guarded_batch(cb__stack_pool *p) {
  size_t slot = p->guard + p->size;
  uint64_t n = p->guarded_max - p->guarded < CB__SLAB_STACKS ? p->guarded_max - p->guarded : CB__SLAB_STACKS;
  char *m = map_region(p, n * slot);
  if (!m) return -ENOMEM;
  p->guards += n;
  if (install_markers(p, m, slot, n) != 0) {
    for (uint64_t i = 0; i < n; i++) {
      int r = make_guard(p, m + i * slot);
      if (r != 0) return r;
    }
  }
  p->batch_next = m;
  p->batch_left = n;
  return 0;
}

/* Contract: see green_int.h. Cost: guarded stacks: one process_madvise per
 * CB__SLAB_STACKS, else one madvise or mprotect each; slab stacks: one madvise or
 * mprotect per CB__SLAB_STACKS; plus one mmap per CB__RESERVE_BYTES; nothing per
 * spawn once the pool is warm. */
int cb__stack_alloc(cb__stack_pool *p, char **lo, int *canary) {
  if (p->guarded < p->guarded_max) {
    if (p->batch_left == 0) {
      int r = map_guarded_batch(p);
      if (r != 0) return r;
    }
    *lo = p->batch_next + p->guard;
    *canary = 0;
    p->batch_next += p->guard + p->size;
    p->batch_left--;
    p->guarded++;
    p->count++;
    return 0;
  }
  if (p->slab_left == 0) {
    char *m = map_region(p, p->guard + CB__SLAB_STACKS * p->size);
    if (!m) return -ENOMEM;
    int r = make_guard(p, m);
    if (r != 0) return r;
    p->guards++;
    p->slab_next = m + p->guard;
    p->slab_left = CB__SLAB_STACKS;
  }
  *lo = p->slab_next;
  /* the lowest slot of a slab sits on the guard page; the others need the canary */
  *canary = p->slab_left != CB__SLAB_STACKS;
  p->slab_next += p->size;
  p->slab_left--;
  p->count++;
  return 0;
}

/* Contract: see green_int.h. Cost: one madvise or mprotect, maybe an mmap. */
int cb__stack_alloc_guarded(cb__stack_pool *p, char **lo) {
  char *m = map_region(p, p->guard + p->size);
  if (!m) return -ENOMEM;
  int r = make_guard(p, m);
  if (r != 0) return r;
  *lo = m + p->guard;
  p->guards++;
  p->count++;
  return 0;
}

void cb__stack_drop(cb__stack_pool *p, char *lo, char *hi) {
  /* fails only for a range that is not a mapping: a bug, not a condition */
  CB_CHECK(madvise(lo, (size_t)(hi - lo), MADV_DONTNEED) == 0);
  p->drops++;
}

#define CB__MINCORE_PAGES 256 /* pages looked at per mincore call */

/* Contract: see green_int.h. Cost: one mincore per CB__MINCORE_PAGES pages mapped
 * (a 128 MiB reserve: 128 calls). */
uint64_t cb__stack_resident(const cb__stack_pool *p, const char *lo, size_t len) {
  unsigned char vec[CB__MINCORE_PAGES];
  size_t pages = len / p->page;
  uint64_t resident = 0;
  for (size_t i = 0; i < pages; i += CB__MINCORE_PAGES) {
    size_t k = pages - i < CB__MINCORE_PAGES ? pages - i : CB__MINCORE_PAGES;
    if (mincore((void *)(lo + i * p->page), k * p->page, vec) != 0) return 0;
    for (size_t j = 0; j < k; j++) resident += vec[j] & 1;
  }
  return resident * p->page;
}

uint64_t cb__stack_pool_resident(const cb__stack_pool *p) {
  uint64_t sum = 0;
  for (size_t i = 0; i < p->nmaps; i++) sum += cb__stack_resident(p, p->maps[i].addr, p->maps[i].len);
  return sum;
}

void cb__stack_pool_destroy(cb__stack_pool *p) {
  for (size_t i = 0; i < p->nmaps; i++) munmap(p->maps[i].addr, p->maps[i].len);
  free(p->maps);
  memset(p, 0, sizeof *p);
}

/* Async-signal-safe: formats with no stdio and leaves with _exit. */
void cb__stack_overflow_exit(size_t size) {
  char msg[128] = "green thread stack overflow (";
  size_t n = strlen(msg);
  char digits[24];
  int nd = 0;
  size_t kib = size / 1024;
  do digits[nd++] = (char)('0' + kib % 10); while ((kib /= 10) && nd < 20);
  while (nd) msg[n++] = digits[--nd];
  const char *tail = " KiB stack); rerun with a larger --stack-size\n";
  memcpy(msg + n, tail, strlen(tail));
  n += strlen(tail);
  syscall(SYS_write, 2, msg, n);
  _exit(CB_EXIT_STACK_OVERFLOW);
}

static uintptr_t fault_sp(const void *uctx) {
  const ucontext_t *uc = uctx;
#if defined(__x86_64__)
  return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
  return (uintptr_t)uc->uc_mcontext.sp;
#else
  (void)uc;
  return UINTPTR_MAX;
#endif
}

static void segv_handler(int sig, siginfo_t *si, void *uctx) {
  cb_green_sched *s = cb__green_tls_sched();
  if (s && s->current) {
    uintptr_t a = (uintptr_t)si->si_addr, lo = (uintptr_t)s->current->stack_lo;
    /* a fault in the guard page below the running green thread's stack, or with its
     * stack pointer below its stack (it ran through neighbours into a slab guard) */
    if ((a < lo && a + s->stacks.guard >= lo) || fault_sp(uctx) < lo) cb__stack_overflow_exit(s->stacks.size);
  }
  /* not ours: put the previous disposition back and let the fault happen again */
  struct sigaction *old = s ? &s->old_segv : NULL;
  if (old) {
    sigaction(SIGSEGV, old, NULL);
  } else {
    signal(SIGSEGV, SIG_DFL);
  }
  (void)sig, (void)uctx;
}

int cb__stack_handler_install(struct sigaction *old) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = segv_handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  return sigaction(SIGSEGV, &sa, old) == 0 ? 0 : -errno;
}

void cb__stack_handler_remove(const struct sigaction *old) { sigaction(SIGSEGV, old, NULL); }

int cb__stack_altstack_install(cb_green_sched *s) {
  s->altstack = mmap(NULL, CB__ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (s->altstack == MAP_FAILED) {
    s->altstack = NULL;
    return -ENOMEM;
  }
  stack_t ss = {.ss_sp = s->altstack, .ss_size = CB__ALTSTACK_SIZE, .ss_flags = 0};
  if (sigaltstack(&ss, &s->old_altstack) != 0) {
    int e = -errno;
    munmap(s->altstack, CB__ALTSTACK_SIZE);
    s->altstack = NULL;
    return e;
  }
  return 0;
}

void cb__stack_altstack_remove(cb_green_sched *s) {
  if (!s->altstack) return;
  sigaltstack(&s->old_altstack, NULL);
  munmap(s->altstack, CB__ALTSTACK_SIZE);
  s->altstack = NULL;
}

int cb__stack_segv_install(cb_green_sched *s) {
  int r = cb__stack_altstack_install(s);
  if (r != 0) return r;
  if ((r = cb__stack_handler_install(&s->old_segv)) != 0) {
    cb__stack_altstack_remove(s);
    return r;
  }
  s->segv_installed = 1;
  return 0;
}

void cb__stack_segv_remove(cb_green_sched *s) {
  if (!s->segv_installed) return;
  cb__stack_handler_remove(&s->old_segv);
  cb__stack_altstack_remove(s);
  s->segv_installed = 0;
}
