/* switch_x86_64.S — green thread context switch, System V x86-64 ABI.
 *
 * void cb__gctx_switch(cb__gctx *from, cb__gctx *to)   from = rdi, to = rsi
 *
 * Saves exactly the callee-saved state the ABI requires a callee to preserve;
 * everything else is caller-saved and already spilled by the compiler around the call.
 * The return address stays on the saved stack, so `ret` resumes the other side.
 *
 * cb__gctx layout (runtimes/green/switch.h), 64 bytes:
 *   offset  0  rsp        (points at the return address)
 *   offset  8  rbp
 *   offset 16  rbx
 *   offset 24  r12
 *   offset 32  r13
 *   offset 40  r14
 *   offset 48  r15
 *   offset 56  MXCSR      (32 bit: SSE rounding mode, exception masks)
 *   offset 60  x87 CW     (16 bit: x87 precision/rounding control)
 *   offset 62  padding
 *
 * A fresh context (switch_asm.c) has rsp pointing at the address of
 * cb__gctx_trampoline, r12 = entry function, r13 = its argument, rbp = 0.
 */
#if defined(__x86_64__)
	.text
	.globl	cb__gctx_switch
	.type	cb__gctx_switch, @function
	.p2align 4
cb__gctx_switch:
	.cfi_startproc
	movq	%rsp,  0(%rdi)
	movq	%rbp,  8(%rdi)
	movq	%rbx, 16(%rdi)
	movq	%r12, 24(%rdi)
	movq	%r13, 32(%rdi)
	movq	%r14, 40(%rdi)
	movq	%r15, 48(%rdi)
	stmxcsr	56(%rdi)
	fnstcw	60(%rdi)

	movq	 0(%rsi), %rsp
	movq	 8(%rsi), %rbp
	movq	16(%rsi), %rbx
	movq	24(%rsi), %r12
	movq	32(%rsi), %r13
	movq	40(%rsi), %r14
	movq	48(%rsi), %r15
	ldmxcsr	56(%rsi)
	fldcw	60(%rsi)
	ret
	.cfi_endproc
	.size	cb__gctx_switch, .-cb__gctx_switch

/* First code a new green thread runs: call entry(arg); entry never returns. */
	.globl	cb__gctx_trampoline
	.type	cb__gctx_trampoline, @function
	.p2align 4
cb__gctx_trampoline:
	.cfi_startproc
	.cfi_undefined rip
	movq	%r13, %rdi
	callq	*%r12
	ud2
	.cfi_endproc
	.size	cb__gctx_trampoline, .-cb__gctx_trampoline
#elif !defined(__aarch64__)
#error "green threads: no assembly context switch for this architecture; build with GREEN_SWITCH=ucontext"
#endif
	.section .note.GNU-stack,"",@progbits
