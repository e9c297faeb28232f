/* test_no_shell.c — no shell sees user text (issue 15, item 1). A run id, a run
 * folder's path and the names inside its cells.jsonl are data: each test plants
 * shell syntax that would create a file if anything handed it to sh, and checks that
 * no file appears and the command does what it should. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/helpers/run_cmd.h"

#define CONCBENCH CB_BIN_DIR "/concbench"
#define FIXTURE CB_SRC_DIR "/tests/fixtures/run-small"

static char work[64];

/* Each test runs in a fresh folder of its own (Criterion forks per test). */
static void enter_work(void) {
  snprintf(work, sizeof work, "/tmp/cb-noshell-XXXXXX");
  cr_assert_not_null(mkdtemp(work));
  cr_assert_eq(chdir(work), 0);
}

static void leave_work(void) {
  char *const argv[] = {"/bin/rm", "-rf", work, NULL};
  cmd_result r;
  run_cmd(argv, 30, &r);
  cmd_result_free(&r);
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* A copy of the fixture run at dest (a path a shell would choke on). */
static void copy_fixture(const char *dest) {
  char *const argv[] = {"/bin/cp", "-a", FIXTURE, (char *)dest, NULL};
  cmd_result r;
  run_cmd(argv, 30, &r);
  cr_assert(r.exited && r.code == 0, "cp: %s", r.err);
  cmd_result_free(&r);
}

TestSuite(no_shell, .init = enter_work, .fini = leave_work, .timeout = 120);

Test(no_shell, a_run_id_with_shell_syntax_is_refused) {
  const char *ids[] = {"x'; touch PWNED; echo '", "$(touch PWNED)", "a b", "`touch PWNED`", "x\ny", ".hidden", ""};
  for (size_t k = 0; k < sizeof ids / sizeof *ids; k++) {
    char *const argv[] = {CONCBENCH, "bench", "--run-id", (char *)ids[k], "--results", "res", "--models", "sync",
                          "--workloads", "sleep", "--tasks", "10", "--runs", "2", "--param", "ms=1", NULL};
    cmd_result r;
    run_cmd(argv, 60, &r);
    cr_expect(r.exited && r.code == 2, "--run-id '%s': exit %d, want 2", ids[k], r.code);
    cr_expect_eq(count_lines(r.err), 1, "--run-id '%s': stderr is not one line: %s", ids[k], r.err);
    cr_expect(strstr(r.err, "--run-id") != NULL, "the error names the argument: %s", r.err);
    cmd_result_free(&r);
  }
  cr_expect(!exists("PWNED"), "a run id reached a shell");
  cr_expect(!exists("res"), "a refused bench created its results folder");
}

Test(no_shell, a_bench_with_a_plain_run_id_writes_its_meta) {
  char *const argv[] = {CONCBENCH, "bench", "--run-id", "ok-1.x_y", "--results", "res", "--models", "sync",
                        "--workloads", "sleep", "--tasks", "10", "--runs", "2", "--param", "ms=1", NULL};
  cmd_result r;
  run_cmd(argv, 120, &r);
  cmd_result_free(&r); /* the report of a one-cell run may not draw every chart; meta.json is the point */
  FILE *f = fopen("res/ok-1.x_y/meta.json", "r");
  cr_assert_not_null(f, "meta.sh (spawned with an argument vector) wrote no meta.json");
  char buf[256] = "";
  cr_expect(fgets(buf, sizeof buf, f) && buf[0] == '{', "meta.json does not start a JSON object: %s", buf);
  fclose(f);
}

Test(no_shell, a_run_folder_path_with_shell_syntax_is_reported) {
  const char *dir = "r$(touch PWNED2)'\"`touch PWNED3`x";
  copy_fixture(dir);
  char *const argv[] = {CONCBENCH, "report", (char *)dir, NULL};
  cmd_result r;
  run_cmd(argv, 120, &r);
  cr_expect(r.exited && r.code == 0, "report exit %d: %s", r.code, r.err);
  cmd_result_free(&r);
  cr_expect(!exists("PWNED2") && !exists("PWNED3"), "the run folder's path reached a shell");
  const char *charts[] = {"bars.png", "scaling.svg", "memory.png", "cores.svg"};
  for (size_t k = 0; k < 4; k++) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, charts[k]);
    cr_expect(exists(path), "%s was not drawn", charts[k]);
  }
}

/* The chart scripts hand the names in their data files to awk through gnuplot's
 * shell escape: a model named with shell syntax in a (crafted) cells.jsonl must not get
 * there as it is. */
Test(no_shell, names_inside_a_run_reach_no_shell) {
  copy_fixture("run");
  FILE *in = fopen("run/cells.jsonl", "r");
  cr_assert_not_null(in);
  FILE *out = fopen("run/cells.jsonl.new", "w");
  char line[1 << 16];
  int planted = 0;
  while (fgets(line, sizeof line, in)) {
    char *m = strstr(line, "\"model\":\"threads\"");
    if (m) {
      /* "threads" -> thr'$(touch PWNED4)'eads, in JSON */
      fwrite(line, 1, (size_t)(m - line), out);
      fputs("\"model\":\"thr'$(touch PWNED4)'eads\"", out);
      fputs(m + strlen("\"model\":\"threads\""), out);
      planted++;
    } else {
      fputs(line, out);
    }
  }
  fclose(in);
  fclose(out);
  cr_assert_gt(planted, 0, "the fixture has no threads cell to rename");
  cr_assert_eq(rename("run/cells.jsonl.new", "run/cells.jsonl"), 0);
  char *const argv[] = {CONCBENCH, "report", "run", NULL};
  cmd_result r;
  run_cmd(argv, 120, &r);
  cr_expect(r.exited && r.code == 0, "report exit %d: %s", r.code, r.err);
  cmd_result_free(&r);
  cr_expect(!exists("PWNED4") && !exists("run/PWNED4"), "a model name from cells.jsonl reached a shell");
}

/* The sources call no shell: every helper is spawned with an argument vector. */
Test(no_shell, no_system_or_popen_in_the_sources) {
  char *const argv[] = {"/bin/grep", "-rnE", "(^|[^a-z_])(system|popen)\\(", CB_SRC_DIR "/common", CB_SRC_DIR "/harness",
                        CB_SRC_DIR "/runtimes", CB_SRC_DIR "/workloads", CB_SRC_DIR "/servers", CB_SRC_DIR "/tools",
                        "--include=*.c", "--include=*.h", NULL};
  cmd_result r;
  run_cmd(argv, 30, &r);
  cr_expect(r.exited && r.code == 1, "grep found calls (or failed, exit %d):\n%s%s", r.code, r.out, r.err);
  cmd_result_free(&r);
}

/* hyperfine -N splits the cell's command line as a shell would (running none): a
 * results folder with a quote, a dollar and a space still reaches `concbench run` as
 * one argument, and the cells verify. */
Test(no_shell, a_results_folder_with_quotes_is_timed) {
  const char *results = "q'r $x \"y";
  char *const argv[] = {CONCBENCH, "bench", "--results", (char *)results, "--run-id", "t", "--models", "sync",
                        "--workloads", "sleep", "--tasks", "10", "--runs", "2", "--param", "ms=1", NULL};
  cmd_result r;
  run_cmd(argv, 120, &r);
  cmd_result_free(&r);
  char path[256], line[1 << 16];
  snprintf(path, sizeof path, "%s/t/cells.jsonl", results);
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "no %s", path);
  int ok = 0;
  while (fgets(line, sizeof line, f)) ok += strstr(line, "\"status\":\"ok\"") != NULL;
  fclose(f);
  cr_expect_eq(ok, 1, "the cell was not timed: %s", line);
}
