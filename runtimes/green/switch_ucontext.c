/* switch_ucontext.c — portable context switch over glibc ucontext (GREEN_SWITCH=ucontext). */
#if CB_GREEN_SWITCH_ucontext
#include <stdint.h>

#include "common/check.h"
#include "runtimes/green/switch.h"

const char cb__gctx_backend[] = "ucontext";

/* makecontext passes int arguments only: the function and argument pointers travel
 * as 32-bit halves. */
static void trampoline(unsigned fn_hi, unsigned fn_lo, unsigned arg_hi, unsigned arg_lo) {
  void (*fn)(void *) = (void (*)(void *))(((uintptr_t)fn_hi << 32) | fn_lo);
  void *arg = (void *)(((uintptr_t)arg_hi << 32) | arg_lo);
  fn(arg);
  CB_CHECK(!"green thread entry returned");
}

void cb__gctx_make(cb__gctx *ctx, void *stack_lo, size_t size, void (*fn)(void *), void *arg) {
  CB_CHECK(getcontext(&ctx->uc) == 0);
  ctx->uc.uc_stack.ss_sp = stack_lo;
  ctx->uc.uc_stack.ss_size = size;
  ctx->uc.uc_link = NULL;
  uintptr_t f = (uintptr_t)fn, a = (uintptr_t)arg;
  makecontext(&ctx->uc, (void (*)(void))trampoline, 4, (unsigned)(f >> 32), (unsigned)f,
              (unsigned)(a >> 32), (unsigned)a);
}

void cb__gctx_switch(cb__gctx *from, cb__gctx *to) {
  CB_CHECK(swapcontext(&from->uc, &to->uc) == 0);
}
#endif
