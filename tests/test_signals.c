/* test_signals.c — a signalled run or bench leaves no process behind (issue 15,
 * item 2). `concbench run` is sent SIGTERM, SIGINT, SIGHUP or SIGKILL by its PID
 * while its job phase runs: a catchable signal ends it with one line and exit 130
 * (CB_EXIT_INTERRUPTED); whatever the signal, none of its descendants (delayd, the
 * procs model's workers) survives. A bench is signalled while hyperfine's timed
 * runs go on, and none of its descendants survives either. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "tests/helpers/proctree.h"

#define CONCBENCH CB_BIN_DIR "/concbench"
#define MAXP 64

/* Threads of pid (from /proc/PID/status). */
static int threads_of(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  int n = 0;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "Threads: %d", &n) == 1) break;
  if (f) fclose(f);
  return n;
}

/* Starts argv with stdout to /dev/null and stderr into *err_rd (non-blocking: its
 * descendants may hold it open); it dies with this test. */
static pid_t start(char *const argv[], int *err_rd) {
  int pe[2];
  cr_assert_eq(pipe(pe), 0);
  pid_t parent = getpid(), pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, STDIN_FILENO);
    dup2(devnull, STDOUT_FILENO);
    dup2(pe[1], STDERR_FILENO);
    close(pe[0]);
    execv(argv[0], argv);
    _exit(127);
  }
  close(pe[1]);
  fcntl(pe[0], F_SETFL, O_NONBLOCK);
  *err_rd = pe[0];
  return pid;
}

/* Sends sig to pid, reaps it, and checks that every process in kids is gone within
 * a generous 5 s (killing any survivor). Returns the wait status. */
static int signal_and_reap(pid_t pid, int sig, pid_t *kids, int n) {
  cr_assert_eq(kill(pid, sig), 0);
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  int left = n;
  for (int k = 0; k < 100 && left > 0; k++) {
    usleep(50 * 1000);
    left = 0;
    for (int j = 0; j < n; j++) left += proc_alive(kids[j]);
  }
  for (int j = 0; j < n; j++) {
    char comm[64] = "?";
    if (!proc_stat(kids[j], NULL, comm, sizeof comm)) continue;
    cr_expect(0, "after %s, descendant %d (%s) is still running 5 s later", strsignal(sig), (int)kids[j], comm);
    kill(kids[j], SIGKILL);
  }
  return status;
}

/* What a catchable signal must give: exit 130 and one line naming the signal. */
static void expect_stopped(int status, int sig, int err_rd) {
  char err[4096];
  ssize_t got = read(err_rd, err, sizeof err - 1);
  err[got > 0 ? got : 0] = '\0';
  close(err_rd);
  cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == CB_EXIT_INTERRUPTED,
            "after %s: %s %d, want exit %d", strsignal(sig), WIFEXITED(status) ? "exit" : "killed by signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), CB_EXIT_INTERRUPTED);
  const char *name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
  char want[64];
  snprintf(want, sizeof want, "stopped by %s", name);
  cr_expect(strstr(err, want) != NULL, "after %s, stderr: '%s'", name, err);
  cr_expect(strchr(err, '\n') == err + strlen(err) - 1, "after %s, not one line: '%s'", name, err);
}

typedef struct run_case {
  char model[16], workload[16], concurrency[8]; /* "0": one process or thread per job */
  int sig;
} run_case;

static void run_case_test(const run_case *c) {
  int http = strcmp(c->workload, "http") == 0;
  int pool = strcmp(c->concurrency, "0") != 0;
  char *argv[] = {CONCBENCH, "run", "--model", (char *)c->model, "--workload", (char *)c->workload, "--tasks", "4",
                  "--param", http ? "delay_ms=60000" : "ms=60000", pool ? "--concurrency" : NULL,
                  (char *)c->concurrency, NULL};
  int err_rd;
  pid_t pid = start(argv, &err_rd);
  /* Running: procs has delayd and a worker per job (or 2 in a pool), threads a
   * thread per job. */
  int procs = strcmp(c->model, "procs") == 0;
  int want = procs ? http + (pool ? 2 : 4) : 5;
  pid_t kids[MAXP];
  int n = 0;
  for (int k = 0; k < 600 && (procs ? n : threads_of(pid)) < want; k++) {
    usleep(50 * 1000);
    if (procs) n = proc_add_descendants(pid, kids, n, MAXP);
  }
  cr_assert((procs ? n : threads_of(pid)) >= want, "the run did not get going within 30 s");
  int status = signal_and_reap(pid, c->sig, kids, n);
  if (c->sig == SIGKILL) {
    cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(err_rd);
  } else {
    expect_stopped(status, c->sig, err_rd);
  }
}

ParameterizedTestParameters(signals, a_signalled_run_leaves_nothing) {
  static run_case cases[] = {
      /* delayd and a worker per job (workers waiting on delayd end with it) */
      {"procs", "http", "0", SIGTERM},    {"procs", "http", "0", SIGINT},    {"procs", "http", "0", SIGHUP},
      {"procs", "http", "0", SIGKILL},    {"procs", "http", "2", SIGTERM},
      /* workers that wait on nothing but the clock: a worker per job, and a pool */
      {"procs", "sleep", "0", SIGTERM},   {"procs", "sleep", "0", SIGKILL},  {"procs", "sleep", "2", SIGKILL},
      {"threads", "sleep", "0", SIGTERM}, {"threads", "sleep", "0", SIGINT}, {"threads", "sleep", "0", SIGHUP},
  };
  return cr_make_param_array(run_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(run_case *c, signals, a_signalled_run_leaves_nothing, .timeout = 60) { run_case_test(c); }

static char results[64];

static void make_results(void) {
  snprintf(results, sizeof results, "/tmp/cb-signals-XXXXXX");
  cr_assert_not_null(mkdtemp(results));
}

static void remove_results(void) {
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/rm", "rm", "-rf", results, (char *)NULL);
    _exit(127);
  }
  waitpid(pid, NULL, 0);
}

/* A bench signalled while hyperfine runs a cell's timed runs (a run of 12 s: the probe
 * passed, hyperfine has started `concbench run`): nothing it started survives it,
 * not even the run hyperfine started when the bench is killed outright. */
static void bench_case(int sig) {
  char *argv[] = {CONCBENCH, "bench", "--models", "sync", "--workloads", "sleep", "--tasks", "1", "--cores", "1",
                  "--param", "ms=12000", "--runs", "2", "--limit", "120", "--results", results, "--run-id", "sig",
                  NULL};
  int err_rd;
  pid_t pid = start(argv, &err_rd);
  pid_t kids[MAXP];
  int n = 0, timed = 0;
  for (int k = 0; k < 600 && !timed; k++) { /* the probe (12 s), then hyperfine and its run */
    usleep(50 * 1000);
    n = proc_add_descendants(pid, kids, n, MAXP);
    for (int j = 0; j < n; j++) {
      char comm[64];
      pid_t pp;
      if (proc_stat(kids[j], &pp, comm, sizeof comm) && strcmp(comm, "concbench") == 0 && pp != pid) timed = 1;
    }
  }
  n = proc_add_descendants(pid, kids, n, MAXP);
  cr_assert(timed, "no timed run under hyperfine within 30 s");
  signal_and_reap(pid, sig, kids, n);
  close(err_rd);
}

TestSuite(bench_signals, .init = make_results, .fini = remove_results, .timeout = 90);

Test(bench_signals, a_terminated_bench_leaves_nothing) { bench_case(SIGTERM); }
Test(bench_signals, an_interrupted_bench_leaves_nothing) { bench_case(SIGINT); }
Test(bench_signals, a_killed_bench_leaves_nothing_even_during_timed_runs) { bench_case(SIGKILL); }
