/* test_green_switch.c — the context switch itself: callee-saved and FP state survive,
 * deep recursion on a green stack, many stacks. Runs with both switch backends
 * (make test builds the green tests with GREEN_SWITCH=ucontext too). */
#include <criterion/criterion.h>
#include <fenv.h>
#include <stdint.h>
#include <string.h>

#include "runtimes/green/green.h"
#include "runtimes/green/switch.h"

#if defined(__x86_64__)
/* uint64_t regs_across_switch(cb__gctx *from, cb__gctx *to, uint64_t seed)
 * Loads seed+0..5 into rbx rbp r12 r13 r14 r15, switches, and returns the XOR of each
 * register with the value it must still hold (0 = all callee-saved registers intact).
 * The caller's own registers are saved and restored around it. */
__asm__(".text\n"
        ".globl regs_across_switch\n"
        "regs_across_switch:\n"
        "  push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
        "  push %rdx\n"
        "  mov %rdx, %rbx\n lea 1(%rdx), %rbp\n lea 2(%rdx), %r12\n lea 3(%rdx), %r13\n"
        "  lea 4(%rdx), %r14\n lea 5(%rdx), %r15\n"
        "  call cb__gctx_switch\n"
        "  pop %rdx\n"
        "  mov %rbx, %rax\n xor %rdx, %rax\n"
        "  lea 1(%rdx), %rcx\n xor %rbp, %rcx\n or %rcx, %rax\n"
        "  lea 2(%rdx), %rcx\n xor %r12, %rcx\n or %rcx, %rax\n"
        "  lea 3(%rdx), %rcx\n xor %r13, %rcx\n or %rcx, %rax\n"
        "  lea 4(%rdx), %rcx\n xor %r14, %rcx\n or %rcx, %rax\n"
        "  lea 5(%rdx), %rcx\n xor %r15, %rcx\n or %rcx, %rax\n"
        "  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
        "  ret\n");
uint64_t regs_across_switch(cb__gctx *from, cb__gctx *to, uint64_t seed);

static uint32_t get_mxcsr(void) {
  uint32_t v;
  __asm__ volatile("stmxcsr %0" : "=m"(v));
  return v;
}
static uint16_t get_x87cw(void) {
  uint16_t v;
  __asm__ volatile("fnstcw %0" : "=m"(v));
  return v;
}

struct regs_test {
  cb__gctx main, green;
  int rounds;
  uint64_t green_bad;
  int green_round_bad;
};

static void regs_green(void *p) {
  struct regs_test *t = p;
  fesetround(FE_TOWARDZERO); /* this side's FP control state differs from main's */
  for (int i = 0; i < t->rounds; i++) {
    t->green_bad |= regs_across_switch(&t->green, &t->main, 0x7700000000000000ull + (uint64_t)i * 16);
    if (fegetround() != FE_TOWARDZERO || (get_mxcsr() & 0x6000) != 0x6000 || (get_x87cw() & 0x0c00) != 0x0c00)
      t->green_round_bad++;
  }
  cb__gctx_switch(&t->green, &t->main);
}

Test(green_switch, callee_saved_and_fp_control_survive) {
  static char stack[64 * 1024] __attribute__((aligned(16)));
  struct regs_test t = {.rounds = 1000};
  cb__gctx_make(&t.green, stack, sizeof stack, regs_green, &t);
  fesetround(FE_TONEAREST);
  uint64_t bad = 0;
  int main_round_bad = 0;
  for (int i = 0; i < t.rounds; i++) {
    bad |= regs_across_switch(&t.main, &t.green, 0x1100000000000000ull + (uint64_t)i * 16);
    if (fegetround() != FE_TONEAREST || (get_mxcsr() & 0x6000) != 0 || (get_x87cw() & 0x0c00) != 0)
      main_round_bad++;
  }
  cb__gctx_switch(&t.main, &t.green); /* let the green side finish its last check */
  cr_expect_eq(bad, 0, "main side registers changed: xor mask %#llx", (unsigned long long)bad);
  cr_expect_eq(t.green_bad, 0, "green side registers changed: xor mask %#llx", (unsigned long long)t.green_bad);
  cr_expect_eq(main_round_bad, 0, "main lost its rounding mode %d times", main_round_bad);
  cr_expect_eq(t.green_round_bad, 0, "green thread lost its rounding mode %d times", t.green_round_bad);
}
#endif

/* Doubles live across switches in two green threads with different values. */
static void fp_worker(void *p) {
  double *out = p, base = *out;
  double a = base + 0.5, b = base * 3.25, c = base - 7.125, sum = 0;
  for (int i = 0; i < 200; i++) {
    sum += a * b - c;
    cb_green_yield();
    a += 1.0, b -= 0.5, c *= 1.0;
  }
  *out = sum;
}

static double fp_expected(double base) {
  double a = base + 0.5, b = base * 3.25, c = base - 7.125, sum = 0;
  for (int i = 0; i < 200; i++) {
    sum += a * b - c;
    a += 1.0, b -= 0.5, c *= 1.0;
  }
  return sum;
}

Test(green_switch, fp_values_survive_yields) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  double v[4] = {1.5, -2.25, 1e10, 3.0};
  for (int i = 0; i < 4; i++) cr_assert_eq(cb_green_spawn(s, fp_worker, &v[i], NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  double base[4] = {1.5, -2.25, 1e10, 3.0};
  for (int i = 0; i < 4; i++) cr_expect_eq(v[i], fp_expected(base[i]), "thread %d: %g != %g", i, v[i], fp_expected(base[i]));
  cb_green_sched_free(s);
}

/* Recursion that uses ~depth * 512 bytes of stack and yields at every level, in two
 * green threads at once: their stacks must not interfere. */
static uint64_t recurse(int depth, uint64_t salt) {
  volatile uint8_t frame[400];
  for (size_t i = 0; i < sizeof frame; i++) frame[i] = (uint8_t)(salt + depth + i);
  cb_green_yield();
  uint64_t below = depth > 0 ? recurse(depth - 1, salt) : 0;
  uint64_t mine = 0;
  for (size_t i = 0; i < sizeof frame; i++) mine += frame[i] == (uint8_t)(salt + depth + i);
  return below + mine;
}

static void deep(void *p) {
  uint64_t *io = p;
  *io = recurse(80, *io); /* ~40 KiB of a 64 KiB stack */
}

Test(green_switch, deep_recursion_two_threads) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  uint64_t a = 3, b = 200;
  cr_assert_eq(cb_green_spawn(s, deep, &a, NULL), 0);
  cr_assert_eq(cb_green_spawn(s, deep, &b, NULL), 0);
  cr_assert_eq(cb_green_sched_run(s), 0);
  cr_expect_eq(a, 81 * 400, "thread a saw %llu intact bytes", (unsigned long long)a);
  cr_expect_eq(b, 81 * 400, "thread b saw %llu intact bytes", (unsigned long long)b);
  cb_green_sched_free(s);
}

static void count_up(void *p) {
  (*(uint64_t *)p)++;
  cb_green_yield();
  (*(uint64_t *)p)++;
}

/* More live stacks than guarded ones (16,384), so slab stacks are exercised too. */
Test(green_switch, many_live_threads_and_reuse) {
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  uint64_t n = 0;
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 20000; i++) cr_assert_eq(cb_green_spawn(s, count_up, &n, NULL), 0);
    cr_assert_eq(cb_green_sched_run(s), 0);
  }
  cb_green_stats st;
  cb_green_sched_stats(s, &st);
  cr_expect_eq(n, 80000);
  cr_expect_eq(st.created, 40000);
  cr_expect_eq(st.peak_live, 20000);
  cr_expect_eq(st.stacks, 20000, "stacks must be reused, got %llu", (unsigned long long)st.stacks);
  cb_green_sched_free(s);
}

Test(green_switch, backend_matches_build) {
#if CB_GREEN_SWITCH_asm
  cr_expect_str_eq(cb__gctx_backend, "asm");
#else
  cr_expect_str_eq(cb__gctx_backend, "ucontext");
#endif
}
