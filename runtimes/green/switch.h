/* switch.h — the context switch behind one interface (private to runtimes/green).
 *
 * Two backends, chosen at build time (Makefile GREEN_SWITCH=asm|ucontext):
 *   asm       switch_x86_64.S / switch_aarch64.S + switch_asm.c: saves exactly the
 *             callee-saved state of the ABI; a few nanoseconds.
 *   ucontext  switch_ucontext.c: getcontext/makecontext/swapcontext from glibc; portable
 *             but each switch also saves/restores the signal mask (a system call).
 * The tests run both. */
#ifndef CB_GREEN_SWITCH_H
#define CB_GREEN_SWITCH_H

#include <stddef.h>
#include <stdint.h>

#if CB_GREEN_SWITCH_ucontext
#include <ucontext.h>
typedef struct cb__gctx {
  ucontext_t uc;
} cb__gctx;
#elif CB_GREEN_SWITCH_asm
/* Register save area; layouts and offsets are documented in the .S files. */
typedef struct cb__gctx {
#if defined(__x86_64__)
  uint64_t regs[7]; /* rsp rbp rbx r12 r13 r14 r15 */
  uint32_t mxcsr;
  uint16_t x87cw;
  uint16_t pad;
#elif defined(__aarch64__)
  uint64_t regs[13]; /* x19..x28, x29 (fp), x30 (lr), sp */
  uint64_t fpregs[8]; /* d8..d15 */
#else
#error "green threads: no assembly context switch for this architecture; build with GREEN_SWITCH=ucontext"
#endif
} cb__gctx;
#else
#error "define CB_GREEN_SWITCH_asm or CB_GREEN_SWITCH_ucontext (see Makefile GREEN_SWITCH)"
#endif

/* Prepares ctx so that the first switch to it runs fn(arg) on the stack
 * [stack_lo, stack_lo + size). fn must never return (it ends by switching away). */
void cb__gctx_make(cb__gctx *ctx, void *stack_lo, size_t size, void (*fn)(void *), void *arg);

/* Saves the current state into from and resumes to. Returns when something switches
 * back to from. Cost: asm ~2-5 ns; ucontext ~10x more (sigprocmask). */
void cb__gctx_switch(cb__gctx *from, cb__gctx *to);

/* Name of the backend compiled in ("asm" or "ucontext"), for reports and tests. */
extern const char cb__gctx_backend[];

#endif
