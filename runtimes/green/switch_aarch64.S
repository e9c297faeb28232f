/* switch_aarch64.S — green thread context switch, AAPCS64.
 *
 * void cb__gctx_switch(cb__gctx *from, cb__gctx *to)   from = x0, to = x1
 *
 * Saves exactly the callee-saved state: x19-x28, the frame pointer x29, the link
 * register x30 (where `ret` resumes), sp, and the low 64 bits of v8-v15 (d8-d15).
 *
 * cb__gctx layout (runtimes/green/switch.h), 168 bytes:
 *   offset   0  x19     offset  8  x20     offset 16  x21     offset 24  x22
 *   offset  32  x23     offset 40  x24     offset 48  x25     offset 56  x26
 *   offset  64  x27     offset 72  x28     offset 80  x29     offset 88  x30 (lr)
 *   offset  96  sp
 *   offset 104  d8      offset 112 d9      offset 120 d10     offset 128 d11
 *   offset 136  d12     offset 144 d13     offset 152 d14     offset 160 d15
 *
 * A fresh context (switch_asm.c) has x30 = cb__gctx_trampoline, x19 = entry function,
 * x20 = its argument, x29 = 0 and sp = the 16-byte aligned stack top.
 */
#if defined(__aarch64__)
	.text
	.globl	cb__gctx_switch
	.type	cb__gctx_switch, %function
	.p2align 4
cb__gctx_switch:
	stp	x19, x20, [x0, #0]
	stp	x21, x22, [x0, #16]
	stp	x23, x24, [x0, #32]
	stp	x25, x26, [x0, #48]
	stp	x27, x28, [x0, #64]
	stp	x29, x30, [x0, #80]
	mov	x9, sp
	str	x9, [x0, #96]
	stp	d8, d9, [x0, #104]
	stp	d10, d11, [x0, #120]
	stp	d12, d13, [x0, #136]
	stp	d14, d15, [x0, #152]

	ldp	x19, x20, [x1, #0]
	ldp	x21, x22, [x1, #16]
	ldp	x23, x24, [x1, #32]
	ldp	x25, x26, [x1, #48]
	ldp	x27, x28, [x1, #64]
	ldp	x29, x30, [x1, #80]
	ldr	x9, [x1, #96]
	mov	sp, x9
	ldp	d8, d9, [x1, #104]
	ldp	d10, d11, [x1, #120]
	ldp	d12, d13, [x1, #136]
	ldp	d14, d15, [x1, #152]
	ret
	.size	cb__gctx_switch, .-cb__gctx_switch

/* First code a new green thread runs: call entry(arg); entry never returns. */
	.globl	cb__gctx_trampoline
	.type	cb__gctx_trampoline, %function
	.p2align 4
cb__gctx_trampoline:
	mov	x0, x20
	blr	x19
	brk	#0
	.size	cb__gctx_trampoline, .-cb__gctx_trampoline
	.section .note.GNU-stack,"",%progbits
#endif
