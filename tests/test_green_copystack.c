/* test_green_copystack.c — copy mode (cb_green_spawn_copy, --param shared_stack=1):
 * locals on the stacks of thousands of copy-mode threads survive their sleeps and
 * yields, deep stacks too, with threads of their own stacks in the same scheduler; a
 * park copy mode cannot allow ends the process with the option named; overflow of the
 * shared stack is caught; the model runs sleep and CPU cells in copy mode, labels
 * them, and refuses what it cannot run. The exits run in child processes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "runtimes/green/green.h"
#include "runtimes/models.h"
#include "tests/helpers/child_stderr.h"
#include "tests/helpers/inproc.h"
#include "tests/helpers/run_cmd.h"
#include "workloads/workloads.h"

#define WORDS 64

/* A thread's pattern: distinct per thread and per word. */
static uint64_t pattern(uint64_t id, int k) { return (id + 1) * 0x9e3779b97f4a7c15ull ^ (uint64_t)k * 0x100000001b3ull; }

typedef struct worker {
  uint64_t id;
  int rounds;
  int good;  /* rounds after which every word and the self-pointer were intact */
} worker;

/* Fills a stack array (and a pointer into it) with its pattern, then parks rounds
 * times, alternating a short sleep and a yield, checking both after each resume. */
__attribute__((noinline)) static void park_and_check(worker *w) {
  volatile uint64_t local[WORDS];
  volatile uint64_t *self = &local[WORDS / 2]; /* a pointer into its own stack */
  for (int k = 0; k < WORDS; k++) local[k] = pattern(w->id, k);
  for (int r = 0; r < w->rounds; r++) {
    if ((r + w->id) % 2) cb_green_sleep_ns((int64_t)(w->id % 5) * 100000);
    else cb_green_yield();
    int ok = *self == pattern(w->id, WORDS / 2);
    for (int k = 0; k < WORDS; k++) ok &= local[k] == pattern(w->id, k);
    w->good += ok;
  }
}

static void worker_fn(void *p) { park_and_check(p); }

static void expect_all_good(const worker *w, int n) {
  int bad = 0;
  for (int i = 0; i < n; i++) bad += w[i].good != w[i].rounds;
  cr_expect_eq(bad, 0, "%d of %d threads found their stack changed after a park", bad, n);
}

Test(green_copystack, locals_survive_sleeps_and_yields, .timeout = 60) {
  enum { N = 3000, ROUNDS = 6 };
  static worker w[N];
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  for (int i = 0; i < N; i++) {
    w[i] = (worker){.id = (uint64_t)i, .rounds = ROUNDS};
    cr_assert_eq(cb_green_spawn_copy(s, worker_fn, &w[i], NULL), 0);
  }
  cr_assert_eq(cb_green_sched_run(s), 0);
  expect_all_good(w, N);
  cb_green_stats st;
  cb_green_sched_stats(s, &st);
  /* every thread lost the shared stack to another one at least once per round */
  cr_expect_geq(st.copy_saves, (uint64_t)N * ROUNDS, "saves %llu", (unsigned long long)st.copy_saves);
  cr_expect_geq(st.copy_saved_bytes, st.copy_saves * WORDS * 8, "saved bytes %llu", (unsigned long long)st.copy_saved_bytes);
  cr_expect_eq(st.stacks, 1, "copy-mode threads mapped %llu stacks, not the one shared", (unsigned long long)st.stacks);
  cb_green_sched_free(s);
}

/* Recurses depth frames of ~1 KiB, each with its pattern, parks at the bottom, and
 * checks every frame while unwinding. */
__attribute__((noinline)) static int deep(uint64_t id, int depth, int rounds) {
  volatile uint64_t frame[128];
  for (int k = 0; k < 128; k++) frame[k] = pattern(id * 1000 + (uint64_t)depth, k);
  int ok;
  if (depth == 0) {
    ok = 1;
    for (int r = 0; r < rounds; r++) {
      if (r % 2) cb_green_yield();
      else cb_green_sleep_ns(200000);
    }
  } else {
    ok = deep(id, depth - 1, rounds);
  }
  for (int k = 0; k < 128; k++) ok &= frame[k] == pattern(id * 1000 + (uint64_t)depth, k);
  return ok;
}

typedef struct deep_arg {
  uint64_t id;
  int depth, ok;
} deep_arg;

static void deep_fn(void *p) {
  deep_arg *a = p;
  a->ok = deep(a->id, a->depth, 4);
}

Test(green_copystack, deep_stacks_survive, .timeout = 60) {
  enum { N = 40 };
  deep_arg a[N];
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  for (int i = 0; i < N; i++) {
    a[i] = (deep_arg){.id = (uint64_t)i, .depth = 10 + i / 2}; /* up to ~30 KiB of a 64 KiB stack (more under ASan) */
    cr_assert_eq(cb_green_spawn_copy(s, deep_fn, &a[i], NULL), 0);
  }
  cr_assert_eq(cb_green_sched_run(s), 0);
  int bad = 0;
  for (int i = 0; i < N; i++) bad += !a[i].ok;
  cr_expect_eq(bad, 0, "%d of %d deep stacks changed", bad, N);
  cb_green_stats st;
  cb_green_sched_stats(s, &st);
  cr_expect_gt(st.copy_saved_bytes / st.copy_saves, 10 * 1024, "mean save %llu bytes",
               (unsigned long long)(st.copy_saved_bytes / st.copy_saves));
  cb_green_sched_free(s);
}

/* A thread of its own stack that spawns copy-mode threads and joins them (a join by
 * a thread of its own stack is allowed), checking its own locals too. */
typedef struct joiner_arg {
  worker kids[20];
  worker self;
  int joined;
} joiner_arg;

static void joiner_fn(void *p) {
  joiner_arg *j = p;
  cb_green *g[20];
  for (int i = 0; i < 20; i++) cr_assert_eq(cb_green_spawn_copy(cb_green_current_sched(), worker_fn, &j->kids[i], &g[i]), 0);
  park_and_check(&j->self);
  for (int i = 0; i < 20; i++) j->joined += cb_green_join(g[i]) == 0;
}

Test(green_copystack, mixed_with_threads_of_their_own_stacks, .timeout = 60) {
  enum { N = 2000, ROUNDS = 5 };
  static worker w[N];
  static joiner_arg j[4];
  cb_green_sched *s;
  cr_assert_eq(cb_green_sched_new(0, &s), 0);
  for (int i = 0; i < N; i++) {
    w[i] = (worker){.id = (uint64_t)i, .rounds = ROUNDS};
    int rc = i % 3 ? cb_green_spawn_copy(s, worker_fn, &w[i], NULL) : cb_green_spawn(s, worker_fn, &w[i], NULL);
    cr_assert_eq(rc, 0);
  }
  for (int k = 0; k < 4; k++) {
    j[k].self = (worker){.id = 100000 + (uint64_t)k, .rounds = ROUNDS};
    for (int i = 0; i < 20; i++) j[k].kids[i] = (worker){.id = 200000 + (uint64_t)(k * 20 + i), .rounds = ROUNDS};
    cr_assert_eq(cb_green_spawn(s, joiner_fn, &j[k], NULL), 0);
  }
  cr_assert_eq(cb_green_sched_run(s), 0);
  expect_all_good(w, N);
  for (int k = 0; k < 4; k++) {
    expect_all_good(j[k].kids, 20);
    expect_all_good(&j[k].self, 1);
    cr_expect_eq(j[k].joined, 20);
  }
  /* a second run reuses the finished copy-mode records and their buffers */
  for (int i = 0; i < N; i++) {
    w[i] = (worker){.id = (uint64_t)i + 7, .rounds = ROUNDS};
    cr_assert_eq(cb_green_spawn_copy(s, worker_fn, &w[i], NULL), 0);
  }
  cr_assert_eq(cb_green_sched_run(s), 0);
  expect_all_good(w, N);
  cb_green_sched_free(s);
}

/* ---- what copy mode refuses, in child processes ---- */

static void sleep_a_minute(void *p) {
  (void)p;
  cb_green_sleep_ns(60000000000);
}

/* Runs fn as a copy-mode thread (after `filler` threads of their own stacks that sleep
 * for a minute) in a child; returns its wait status and its stderr in err. */
static int run_child(void (*fn)(void *), int filler, char *err, size_t errlen) {
  int fd;
  pid_t pid = fork_with_stderr(&fd);
  if (pid == 0) {
    cb_green_sched *s;
    if (cb_green_sched_new(0, &s) != 0) _exit(99);
    for (int i = 0; i < filler; i++)
      if (cb_green_spawn(s, sleep_a_minute, NULL, NULL) != 0) _exit(98);
    if (cb_green_spawn_copy(s, fn, NULL, NULL) != 0) _exit(97);
    cb_green_sched_run(s);
    _exit(0);
  }
  return wait_with_stderr(pid, fd, err, errlen);
}

static void expect_refused(int st, const char *err) {
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == CB_EXIT_USAGE, "status %#x; stderr: %s", st, err);
  /* one line, the last (ASan may warn before it about ucontext) */
  const char *line = strstr(err, "green: --param shared_stack=1");
  cr_expect(line && strstr(line, "sleep, yield and exit") && count_lines(line) == 1, "stderr: %s", err);
}

static void recv_on_channel(void *p) {
  (void)p;
  cb_green_chan *c;
  if (cb_green_chan_new(sizeof(int), 0, &c) != 0) _exit(96);
  int v;
  cb_green_chan_recv(c, &v); /* nobody sends: parks, its element's address on the stack */
  _exit(0);
}

static void nap(void *p) {
  (void)p;
  cb_green_sleep_ns(1000000);
}

static void join_unfinished(void *p) {
  (void)p;
  cb_green *g;
  if (cb_green_spawn(cb_green_current_sched(), nap, NULL, &g) != 0) _exit(96);
  cb_green_join(g);
  _exit(0);
}

static void read_pipe(void *p) {
  (void)p;
  int fds[2];
  if (pipe(fds) != 0) _exit(96);
  char c;
  (void)!read(fds[0], &c, 1); /* hooked: parks on the fd, its waiter on the stack */
  _exit(0);
}

Test(green_copystack, parks_that_keep_pointers_into_the_stack_are_refused, .timeout = 30) {
  char err[512];
  expect_refused(run_child(recv_on_channel, 0, err, sizeof err), err);
  expect_refused(run_child(join_unfinished, 0, err, sizeof err), err);
  expect_refused(run_child(read_pipe, 0, err, sizeof err), err);
}

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static unsigned long recurse_forever(unsigned long n) {
  volatile char frame[512];
  frame[0] = (char)n;
  frame[511] = (char)n;
  return recurse_forever(n + 1) + frame[0] + frame[511];
}

static void overflow(void *p) {
  (void)p;
  recurse_forever(0);
}

Test(green_copystack, overflow_of_the_shared_stack_is_caught, .timeout = 60) {
  char err[512];
  /* past the 16,384 guarded stacks, where a pool stack would have no guard page */
  for (int filler = 0; filler <= 16384 + 5; filler += 16384 + 5) {
    int st = run_child(overflow, filler, err, sizeof err);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == CB_EXIT_STACK_OVERFLOW, "filler %d: status %#x; stderr: %s",
              filler, st, err);
    cr_expect(strstr(err, "green thread stack overflow (64 KiB stack)") != NULL, "stderr: %s", err);
  }
}

static void try_copy_spawn(void *p) { *(int *)p = cb_green_spawn_copy(cb_green_current_sched(), nap, NULL, NULL); }

Test(green_copystack, spawn_copy_is_m1_only) {
  cb_green_group *gr;
  int rc = 0;
  cr_assert_eq(cb_green_group_new(1, 0, &gr), 0);
  cr_assert_eq(cb_green_group_spawn_on(gr, 0, try_copy_spawn, &rc, NULL), 0);
  cr_assert_eq(cb_green_group_run(gr), 0);
  cr_expect_eq(rc, -ENOTSUP);
  cb_green_group_free(gr);
}

/* ---- the model's option ---- */

static const int64_t copy_on[] = {1};

static double extra(const cb_run_report *r, const char *key) {
  for (int k = 0; k < r->nextra; k++)
    if (strcmp(r->extra[k].key, key) == 0) return r->extra[k].value;
  return -1;
}

/* Runs model green over w with --param shared_stack=1 in this process; returns rc. */
static int run_copy(const cb_workload *w, const char *const p[], uint64_t tasks, uint64_t conc, cb_run_report *report,
                    cb_verdict *v) {
  static cb_params params;
  static cb_job_env env;
  inproc_params(w, &params, p);
  env = (cb_job_env){.workload = w, .params = &params};
  cb_run_spec spec = {.workload = w, .env = &env, .tasks = tasks, .concurrency = conc, .model_params = copy_on};
  *report = (cb_run_report){.jobs = calloc(tasks, sizeof(cb_job_record))};
  int rc = cb_model_green.run(&spec, report);
  if (v) cb_verify(&spec, report->jobs, v);
  return rc;
}

Test(green_copystack, model_runs_sleep_and_cpu_cells_labelled, .timeout = 30) {
  cb_run_report r;
  cb_verdict v;
  const char *const sp[] = {"ms=20", NULL};
  cr_expect_eq(run_copy(&cb_workload_sleep, sp, 500, 0, &r, &v), 0, "error: %s", r.error);
  cr_expect(v.verified, "error: %s", r.error);
  cr_expect_eq(extra(&r, "shared_stack"), 1);
  cr_expect_gt(extra(&r, "saved_stack_bytes"), 0);
  cr_expect_geq(extra(&r, "save_buffer_bytes"), extra(&r, "saved_stack_bytes") * 500);
  /* the memory breakdown's stack part: what a parked thread keeps, not a page */
  cr_expect_gt(extra(&r, "stack_bytes_per_task"), 0);
  cr_expect_lt(extra(&r, "stack_bytes_per_task"), 4096);
  free(r.jobs);
  const char *const fp[] = {"n=18", NULL};
  cr_expect_eq(run_copy(&cb_workload_fib, fp, 12, 3, &r, &v), 0, "error: %s", r.error);
  cr_expect(v.verified, "error: %s", r.error);
  cr_expect_eq(extra(&r, "shared_stack"), 1);
  free(r.jobs);
}

Test(green_copystack, model_refuses_what_copy_mode_cannot_run) {
  cb_run_report r;
  const char *const hp[] = {"requests=1", NULL};
  cr_expect_eq(run_copy(&cb_workload_http, hp, 2, 0, &r, NULL), -ERANGE);
  cr_expect(strstr(r.error, "--param shared_stack=1") != NULL, "error: %s", r.error);
  free(r.jobs);
  cb_params params;
  inproc_params(&cb_workload_pingpong, &params, NULL);
  cb_job_env env = {.workload = &cb_workload_pingpong, .params = &params};
  cb_job_record jobs[1] = {{0}};
  cb_run_spec spec = {.workload = &cb_workload_pingpong, .env = &env, .tasks = 1, .model_params = copy_on};
  r = (cb_run_report){.jobs = jobs};
  cr_expect_eq(cb_model_green.pingpong(&spec, 10, &r), -ERANGE);
  cr_expect(strstr(r.error, "--param shared_stack=1") != NULL, "error: %s", r.error);
  uint64_t sum;
  r = (cb_run_report){.jobs = jobs};
  cr_expect_eq(cb_model_green.spawn_tree(&spec, 10, 2, &sum, &r), -ERANGE);
  cr_expect(strstr(r.error, "--param shared_stack=1") != NULL, "error: %s", r.error);
}

#define CONCBENCH CB_BIN_DIR "/concbench"

Test(green_copystack, cell_records_the_option, .timeout = 60) {
  cmd_result c;
  char *const ok[] = {CONCBENCH, "run", "--model", "green", "--workload", "sleep", "--tasks", "200",
                      "--param", "ms=10", "--param", "shared_stack=1", NULL};
  run_cmd(ok, 50, &c);
  cr_expect(c.exited && c.code == 0, "exit %d; stderr: %s", c.code, c.err);
  cr_expect(strstr(c.out, "\"shared_stack\":1") && strstr(c.out, "\"saved_stack_bytes\":"), "stdout: %s", c.out);
  cmd_result_free(&c);
  char *const plain[] = {CONCBENCH, "run", "--model", "green", "--workload", "sleep", "--tasks", "20", "--param", "ms=1", NULL};
  run_cmd(plain, 50, &c);
  cr_expect(c.exited && c.code == 0 && !strstr(c.out, "shared_stack"), "exit %d; stdout: %s", c.code, c.out);
  cmd_result_free(&c);
  char *const bad[] = {CONCBENCH, "run", "--model", "green", "--workload", "sleep", "--tasks", "2",
                       "--param", "shared_stack=2", NULL};
  run_cmd(bad, 50, &c);
  cr_expect(c.exited && c.code == CB_EXIT_USAGE && strstr(c.err, "shared_stack") && count_lines(c.err) == 1,
            "exit %d; stderr: %s", c.code, c.err);
  cmd_result_free(&c);
  char *const pp[] = {CONCBENCH, "run", "--model", "green", "--workload", "pingpong", "--tasks", "2",
                      "--param", "rounds=10", "--param", "shared_stack=1", NULL};
  run_cmd(pp, 50, &c);
  cr_expect(c.exited && c.code == CB_EXIT_USAGE && strstr(c.err, "shared_stack"), "exit %d; stderr: %s", c.code, c.err);
  cmd_result_free(&c);
}
