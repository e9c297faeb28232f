/* test_bad_input.c — input that used to slip through (issue 15, item 5). Each is one
 * line on stderr naming the argument and what is allowed, exit 2, and no work: no
 * JSON, no results folder. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/helpers/run_cmd.h"

#define CONCBENCH CB_BIN_DIR "/concbench"

static void expect_usage_error(const char *what, char *const argv[], const char *needle) {
  cmd_result r;
  run_cmd(argv, 60, &r);
  cr_expect(r.exited, "%s: did not exit normally (signal %d)", what, r.code);
  cr_expect_eq(r.code, 2, "%s: exit %d, want 2; stderr: %s", what, r.code, r.err);
  cr_expect_eq(count_lines(r.err), 1, "%s: stderr has %d lines, want 1: %s", what, count_lines(r.err), r.err);
  cr_expect(strstr(r.err, needle) != NULL, "%s: stderr '%s' does not name '%s'", what, r.err, needle);
  cr_expect_str_empty(r.out, "%s: printed on stdout (the cell ran): %s", what, r.out);
  cmd_result_free(&r);
}

#define RUN_BAD(needle, ...)                                                    \
  do {                                                                          \
    char *const argv[] = {CONCBENCH, "run", __VA_ARGS__, NULL};                 \
    expect_usage_error(#__VA_ARGS__, argv, needle);                             \
  } while (0)

static char results[64];

static void make_name(void) { snprintf(results, sizeof results, "/tmp/cb-test-bad-input-%d", (int)getpid()); }

/* A bench that is refused creates no results folder. */
#define BENCH_BAD(needle, ...)                                                                              \
  do {                                                                                                      \
    char *const argv[] = {CONCBENCH, "bench", "--results", results, "--runs", "2", __VA_ARGS__, NULL};      \
    expect_usage_error(#__VA_ARGS__, argv, needle);                                                         \
    struct stat st;                                                                                         \
    cr_expect_neq(stat(results, &st), 0, "%s: the bench created %s", #__VA_ARGS__, results);                \
  } while (0)

TestSuite(bad_input, .init = make_name, .timeout = 120);

Test(bad_input, an_out_file_that_cannot_be_written) {
  RUN_BAD("'/nonexistent/dir/x.json'", "--model", "sync", "--workload", "sleep", "--param", "ms=1", "--out",
          "/nonexistent/dir/x.json");
  RUN_BAD("--out: cannot append to ''", "--model", "sync", "--workload", "sleep", "--param", "ms=1", "--out", "");
  RUN_BAD("--out: cannot append to '/tmp'", "--model", "sync", "--workload", "sleep", "--param", "ms=1", "--out",
          "/tmp");
}

Test(bad_input, an_out_file_gets_the_record) {
  char path[96];
  snprintf(path, sizeof path, "%s.jsonl", results);
  unlink(path);
  char *const argv[] = {CONCBENCH, "run", "--model", "sync", "--workload", "sleep", "--tasks", "2",
                        "--param", "ms=1", "--out", path, NULL};
  for (int k = 0; k < 2; k++) {
    cmd_result r;
    run_cmd(argv, 60, &r);
    cr_expect(r.exited && r.code == 0, "exit %d: %s", r.code, r.err);
    cmd_result_free(&r);
  }
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "no %s", path);
  char line[4096];
  int n = 0;
  while (fgets(line, sizeof line, f)) n += strstr(line, "\"verified\":true") != NULL;
  fclose(f);
  unlink(path);
  cr_expect_eq(n, 2, "want the two records appended, got %d", n);
}

Test(bad_input, numbers_with_white_space) {
  RUN_BAD("--tasks", "--model", "sync", "--workload", "sleep", "--tasks", " 10");
  RUN_BAD("--tasks", "--model", "sync", "--workload", "sleep", "--tasks", "\t10");
  RUN_BAD("--tasks", "--model", "sync", "--workload", "sleep", "--tasks", "10 ");
  RUN_BAD("--concurrency", "--model", "threads", "--workload", "sleep", "--concurrency", " 2");
  RUN_BAD("ms of sleep", "--model", "sync", "--workload", "sleep", "--param", "ms= 1");
  BENCH_BAD("--tasks", "--workloads", "sleep", "--tasks", " 10");
  BENCH_BAD("--limit", "--workloads", "sleep", "--limit", " 5");
}

Test(bad_input, empty_items_in_bench_lists) {
  BENCH_BAD("--models: an empty item in 'sync,,threads'", "--models", "sync,,threads", "--workloads", "sleep");
  BENCH_BAD("--models: an empty item in ''", "--models", "", "--workloads", "sleep");
  BENCH_BAD("--workloads: an empty item in ',sleep'", "--workloads", ",sleep");
  BENCH_BAD("--tasks: an empty item in '10,'", "--workloads", "sleep", "--tasks", "10,");
  BENCH_BAD("--cores: an empty item in '1,,1'", "--workloads", "sleep", "--cores", "1,,1");
}

Test(bad_input, a_tree_larger_than_procs_builds) {
  /* procs forks a process per node: a bigger tree than it builds is refused before
   * any fork, naming the parameter and its range for procs. */
  RUN_BAD("--param leaves: procs builds trees of 1 to 10000 leaves", "--model", "procs", "--workload", "spawn",
          "--tasks", "2", "--param", "leaves=10001");
  char *const argv[] = {CONCBENCH, "run", "--model", "procs", "--workload", "spawn", "--tasks", "1",
                        "--param", "leaves=10000", "--param", "fanout=100", NULL};
  cmd_result r;
  run_cmd(argv, 60, &r);
  cr_expect(r.exited && r.code == 0, "leaves=10000: exit %d: %s", r.code, r.err);
  cr_expect(strstr(r.out, "\"verified\":true") != NULL, "leaves=10000: %s", r.out);
  cmd_result_free(&r);
}

Test(bad_input, a_model_parameter_out_of_range) {
  /* green-mn's own --param workers: 1 to 64, named with the model; another model has none */
  RUN_BAD("--param: workers of model green-mn must be an integer from 1 to 64, got '0'", "--model", "green-mn",
          "--workload", "sleep", "--param", "ms=1", "--param", "workers=0");
  RUN_BAD("--param: workers of model green-mn must be an integer from 1 to 64, got '65'", "--model", "green-mn",
          "--workload", "sleep", "--param", "ms=1", "--param", "workers=65");
  RUN_BAD("workload sleep and model green have no parameter 'workers'", "--model", "green", "--workload", "sleep",
          "--param", "workers=2");
}

Test(bad_input, a_server_port_out_of_range) {
  RUN_BAD("port 99999 is out of range", "--model", "sync", "--workload", "http", "--server", "http://127.0.0.1:99999");
  RUN_BAD("port 0 is out of range", "--model", "sync", "--workload", "http", "--server", "http://127.0.0.1:0/");
  RUN_BAD("port 123456789012 is out of range", "--model", "sync", "--workload", "http", "--server",
          "http://[::1]:123456789012");
}
