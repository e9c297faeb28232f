/* switch_asm.c — initial register images for the assembly switch (switch_*.S). */
#if CB_GREEN_SWITCH_asm
#include <string.h>

#include "runtimes/green/switch.h"

const char cb__gctx_backend[] = "asm";

void cb__gctx_trampoline(void);

/* Contract: see switch.h. The stack top is aligned down to 16 bytes; the new context
 * starts in cb__gctx_trampoline with the entry function and argument in callee-saved
 * registers, so the ABI's stack alignment holds when the trampoline calls fn. */
void cb__gctx_make(cb__gctx *ctx, void *stack_lo, size_t size, void (*fn)(void *), void *arg) {
  uintptr_t top = ((uintptr_t)stack_lo + size) & ~(uintptr_t)15;
  memset(ctx, 0, sizeof *ctx);
#if defined(__x86_64__)
  /* `ret` in cb__gctx_switch pops the trampoline address, leaving rsp = top (16-byte
   * aligned), so the trampoline's call enters fn with rsp = 8 mod 16 as the ABI wants. */
  top -= 8;
  *(void **)top = (void *)cb__gctx_trampoline;
  ctx->regs[0] = top;             /* rsp */
  ctx->regs[1] = 0;               /* rbp: ends frame-pointer backtraces */
  ctx->regs[3] = (uintptr_t)fn;   /* r12 */
  ctx->regs[4] = (uintptr_t)arg;  /* r13 */
  ctx->mxcsr = 0x1f80;            /* ABI initial values: all exceptions masked, */
  ctx->x87cw = 0x037f;            /* round to nearest, extended precision */
#elif defined(__aarch64__)
  ctx->regs[0] = (uintptr_t)fn;   /* x19 */
  ctx->regs[1] = (uintptr_t)arg;  /* x20 */
  ctx->regs[10] = 0;              /* x29 */
  ctx->regs[11] = (uintptr_t)cb__gctx_trampoline; /* x30 */
  ctx->regs[12] = top;            /* sp */
#endif
}
#endif
