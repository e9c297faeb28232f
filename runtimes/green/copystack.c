/* copystack.c — copy mode: green threads that share one stack (libaco's copy stack).
 *
 * The contract is in green_int.h ("copy mode") and green.h (cb_green_spawn_copy).
 * Why: a parked green thread of its own stack holds at least one touched 4 KiB page
 * (1,000,000 sleepers: ~4.3 GB); a parked copy-mode thread holds only the bytes its
 * frames use (a sleeping job: about a kilobyte), in a buffer of its own.
 *
 * Lazily: a thread's bytes move only when another copy-mode thread needs the shared
 * stack, so a copy-mode thread that parks and resumes with no other copy-mode thread
 * run in between (or one that alternates with threads of their own stacks) copies
 * nothing. A save copies the owner's used bytes, from the stack pointer its context
 * saved to the top of the stack; its buffer grows (rounded up to CB__CS_GRAIN) and is
 * kept for the next save and for the next thread that reuses the record.
 *
 * Sanitizers: the shared stack is one stack to valgrind (registered once) and to ASan
 * (every copy-mode thread names it when switched to). Before the bytes move, the whole
 * shared stack is unpoisoned for ASan (the previous owner's frames left redzones in its
 * shadow, and a copy must read and write through them): the restored thread's existing
 * frames thus lose their redzones until they return (frames it makes after resuming
 * have theirs), a detection loss libaco's ASan support has too. For valgrind the
 * restored range is first marked undefined-but-addressable (memory below the last
 * stack pointer seen on the shared stack is no-access to memcheck); copying undefined
 * bytes is fine, memcheck copies their state with them. */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "runtimes/green/green_int.h"
#include "runtimes/green/sanitize.h"

#define CB__CS_GRAIN 64

/* The stack pointer a switched-out context resumes with: everything its frames use is
 * at or above it (the switch keeps nothing below: no red zone is live across a call). */
static uintptr_t saved_sp(const cb__gctx *c) {
#if CB_GREEN_SWITCH_ucontext && defined(__x86_64__)
  return (uintptr_t)c->uc.uc_mcontext.gregs[REG_RSP];
#elif CB_GREEN_SWITCH_ucontext && defined(__aarch64__)
  return (uintptr_t)c->uc.uc_mcontext.sp;
#elif defined(__x86_64__)
  return (uintptr_t)c->regs[0];
#elif defined(__aarch64__)
  return (uintptr_t)c->regs[12];
#else
#error "copy mode: no saved stack pointer for this architecture"
#endif
}

int cb__cs_init(cb_green_sched *s) {
  cb__cs *cs = calloc(1, sizeof *cs);
  if (!cs) return -ENOMEM;
  int r = cb__stack_alloc_guarded(&s->stacks, &cs->lo);
  if (r != 0) {
    free(cs);
    return r;
  }
  cb__list_init(&cs->free);
  cs->vg_id = cb__vg_stack_register(cs->lo, s->stacks.size);
  s->cs = cs;
  return 0;
}

/* A save buffer is beyond the heap: the process cannot go on (a switch has no way
 * to fail), so it ends like a model that gave out. */
__attribute__((noreturn)) static void out_of_memory(void) {
  static const char msg[] = "green: out of memory for a copy-mode thread's saved stack (--param shared_stack=1)\n";
  (void)!syscall(SYS_write, 2, msg, sizeof msg - 1);
  _exit(CB_EXIT_RESOURCE);
}

/* Copies o's used bytes [sp, top) off the shared stack into its buffer. */
static void save(cb_green_sched *s, cb__cs *cs, cb_green *o, uintptr_t top) {
  uintptr_t sp = saved_sp(&o->ctx);
  if (sp < (uintptr_t)cs->lo || sp > top) cb__stack_overflow_exit(s->stacks.size);
  size_t n = top - sp, cap = o->cs_save ? malloc_usable_size(o->cs_save) : 0;
  if (n > cap) {
    size_t want = (n + CB__CS_GRAIN - 1) & ~(size_t)(CB__CS_GRAIN - 1);
    free(o->cs_save);
    o->cs_save = malloc(want);
    if (!o->cs_save) out_of_memory();
    cs->buffer_bytes += malloc_usable_size(o->cs_save) - cap;
  }
  memcpy(o->cs_save, (const void *)sp, n);
  o->cs_len = (uint32_t)n;
  cs->saves++;
  cs->saved_bytes += n;
}

/* Contract: see green_int.h. Cost: one memcpy of each thread's used bytes (a few
 * hundred bytes to a few KiB), a malloc only when a thread's frames grew; under ASan
 * the unpoisoning of the shared stack's shadow (its size / 8). */
void cb__cs_acquire(cb_green_sched *s, cb_green *g) {
  cb__cs *cs = s->cs;
  cb_green *o = cs->owner;
  if (o == g) return;
  uintptr_t top = (uintptr_t)cs->lo + cb__stack_usable(&s->stacks);
  cb__san_unpoison(cs->lo, s->stacks.size);
  if (o && o->state != CB__G_DONE && o->state != CB__G_FREE) save(s, cs, o, top);
  cs->owner = g;
  if (g->cs_len == 0) { /* never ran: its first frame, as cb__green_make builds it */
    cb__gctx_make(&g->ctx, cs->lo, cb__stack_usable(&s->stacks), cb__green_entry, g);
    return;
  }
  void *at = (void *)(top - g->cs_len);
  cb__vg_make_writable(at, g->cs_len);
  memcpy(at, g->cs_save, g->cs_len);
}

void cb__cs_refuse_park(void) {
  static const char msg[] =
      "green: --param shared_stack=1 (copy mode) supports green threads that sleep, yield and exit; one parked on "
      "a channel, lock, join or IO wait, whose stack must stay in place while parked\n";
  (void)!syscall(SYS_write, 2, msg, sizeof msg - 1);
  _exit(CB_EXIT_USAGE);
}

void cb__cs_free(cb_green_sched *s) {
  for (cb__green_block *b = s->blocks; b; b = b->next)
    for (size_t i = 0; i < b->used; i++)
      if (b->threads[i].copy) free(b->threads[i].cs_save);
  cb__vg_stack_deregister(s->cs->vg_id);
  free(s->cs); /* the stack itself is one of the pool's mappings */
  s->cs = NULL;
}
