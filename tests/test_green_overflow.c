/* test_green_overflow.c — a green thread that overflows its stack ends the process
 * with the documented message and exit status, both on a stack with its own guard
 * page and on a slab stack (more than 16,384 live stacks), with guard markers and
 * with the PROT_NONE guards of kernels that lack them. Runs in child processes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "runtimes/green/green.h"
#include "tests/helpers/child_stderr.h"

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static unsigned long recurse_forever(unsigned long n) {
  volatile char frame[512];
  frame[0] = (char)n;
  frame[511] = (char)n;
  return recurse_forever(n + 1) + frame[0] + frame[511];
}

static void overflow_by_recursion(void *p) {
  (void)p;
  recurse_forever(0);
}

/* One big frame that jumps past the stack bottom, writes all of it, and returns:
 * only the canary (slab stacks) or the guard page (guarded stacks) can tell. */
__attribute__((noinline)) static void big_frame(size_t n) {
  char *buf = __builtin_alloca(n);
  memset(buf, 0x5a, n);
  __asm__ volatile("" : : "r"(buf) : "memory"); /* keep the stores */
}

static void overflow_and_return(void *p) {
  big_frame(*(size_t *)p);
  cb_green_yield();
}

static void parked(void *p) { cb_green_sleep_ns(10LL * 1000000000); (void)p; }

#define MADV_GUARD_INSTALL_ADVICE 102

/* Makes madvise(..., MADV_GUARD_INSTALL) fail with EINVAL in this process, as on a
 * kernel older than 6.13. */
static int refuse_guard_markers(void) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_madvise, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MADV_GUARD_INSTALL_ADVICE, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* Runs fn in a fresh scheduler in a child process, after `filler` sleeping green
 * threads (guards made with mprotect if no_markers); returns the child's wait status
 * and its stderr in err. */
static int run_child_guards(void (*fn)(void *), int filler, int no_markers, char *err, size_t errlen) {
  int fd;
  pid_t pid = fork_with_stderr(&fd);
  if (pid == 0) {
    if (no_markers && refuse_guard_markers() != 0) _exit(96);
    cb_green_sched *s;
    if (cb_green_sched_new(0, &s) != 0) _exit(99);
    for (int i = 0; i < filler; i++)
      if (cb_green_spawn(s, parked, NULL, NULL) != 0) _exit(98);
    size_t n = CB_GREEN_STACK_DEFAULT + 8192;
    if (cb_green_spawn(s, fn, &n, NULL) != 0) _exit(97);
    cb_green_sched_run(s);
    _exit(0);
  }
  return wait_with_stderr(pid, fd, err, errlen);
}

static int run_child(void (*fn)(void *), int filler, char *err, size_t errlen) {
  return run_child_guards(fn, filler, 0, err, errlen);
}

static void expect_overflow_report(int st, const char *err) {
  cr_expect(WIFEXITED(st), "child did not exit normally (status %#x); stderr: %s", st, err);
  cr_expect_eq(WEXITSTATUS(st), CB_EXIT_STACK_OVERFLOW, "exit status %d; stderr: %s", WEXITSTATUS(st), err);
  cr_expect(strstr(err, "green thread stack overflow (64 KiB stack); rerun with a larger --stack-size") != NULL,
            "stderr: %s", err);
}

Test(green_overflow, guarded_stack_recursion, .timeout = 20) {
  char err[512];
  expect_overflow_report(run_child(overflow_by_recursion, 0, err, sizeof err), err);
}

Test(green_overflow, guarded_stack_big_frame, .timeout = 20) {
  char err[512];
  expect_overflow_report(run_child(overflow_and_return, 0, err, sizeof err), err);
}

Test(green_overflow, slab_stack_recursion, .timeout = 60) {
  char err[512];
  expect_overflow_report(run_child(overflow_by_recursion, 16384 + 5, err, sizeof err), err);
}

Test(green_overflow, slab_stack_big_frame_caught_by_canary, .timeout = 60) {
  char err[512];
  expect_overflow_report(run_child(overflow_and_return, 16384 + 5, err, sizeof err), err);
}

Test(green_overflow, mprotect_guards_without_guard_markers, .timeout = 60) {
  char err[512];
  expect_overflow_report(run_child_guards(overflow_by_recursion, 0, 1, err, sizeof err), err);
  expect_overflow_report(run_child_guards(overflow_and_return, 0, 1, err, sizeof err), err);
  expect_overflow_report(run_child_guards(overflow_by_recursion, 16384 + 5, 1, err, sizeof err), err);
}
