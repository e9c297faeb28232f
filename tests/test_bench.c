/* test_bench.c — `concbench bench` for real: a hanging cell is killed with its
 * process tree at the limit and recorded as a timeout; an interrupted bench loses
 * and repeats nothing when started again; `make bench PROFILE=quick` end to end. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/helpers/run_cmd.h"

#define CONCBENCH CB_BIN_DIR "/concbench"

static char results[256];

static void make_results(void) {
  snprintf(results, sizeof results, "/tmp/cb-test-bench-%d", (int)getpid());
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", results, results);
  cr_assert_eq(system(cmd), 0);
}

static void remove_results(void) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf %s", results);
  system(cmd);
}

/* The records of RESULTS/ID/cells.jsonl, in file order (a JSON array). */
static json_t *records(const char *id) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s/cells.jsonl", results, id);
  json_t *all = json_array();
  FILE *f = fopen(path, "r");
  char line[1 << 16];
  while (f && fgets(line, sizeof line, f)) {
    json_t *o = json_loads(line, 0, NULL);
    cr_assert(json_is_object(o), "unreadable record in %s: %.200s", path, line);
    json_array_append_new(all, o);
  }
  if (f) fclose(f);
  return all;
}

/* Processes whose command line contains needle (other than this test). */
static int processes_with(const char *needle) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  int found = 0;
  while ((e = readdir(d))) {
    char path[300], buf[4096];
    snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    for (size_t k = 0; k < n; k++)
      if (buf[k] == '\0') buf[k] = ' ';
    buf[n] = '\0';
    if (strstr(buf, needle) && atoi(e->d_name) != getpid()) found++;
  }
  closedir(d);
  return found;
}

TestSuite(bench, .init = make_results, .fini = remove_results, .timeout = 240);

Test(bench, a_hanging_cell_is_killed_at_its_limit_and_recorded_as_timeout) {
  char *argv[] = {CONCBENCH, "bench", "--profile", "quick", "--models", "sync,threads", "--workloads", "sleep",
                  "--tasks", "2", "--param", "ms=599999", "--limit", "2", "--runs", "2", "--results", results,
                  "--run-id", "hang", NULL};
  time_t t0 = time(NULL);
  cmd_result r;
  run_cmd(argv, 60, &r);
  time_t took = time(NULL) - t0;
  cr_assert_eq(r.code, 0, "bench exit %d: %s", r.code, r.err);
  cr_expect(took < 20, "two 2 s limits took %ld s", (long)took);
  json_t *recs = records("hang");
  cr_assert_eq(json_array_size(recs), 2, "records: %zu", json_array_size(recs));
  size_t k;
  json_t *rec;
  json_array_foreach(recs, k, rec) {
    cr_expect_str_eq(json_string_value(json_object_get(rec, "status")), "timeout");
    cr_expect(json_object_get(rec, "times") == NULL, "a timeout has times");
  }
  cr_expect_eq(processes_with("ms=599999"), 0, "a killed cell left processes behind");
  char path[512];
  snprintf(path, sizeof path, "%s/hang/tables.md", results);
  cr_expect(access(path, R_OK) == 0, "no report after the bench");
  json_decref(recs);
  cmd_result_free(&r);
}

/* Starts a bench, checks that a second one on the same run folder is refused, and
 * interrupts the first (SIGINT) once `after` cells are recorded. */
static int interrupted_bench(char *const argv[], size_t after) {
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execv(argv[0], argv);
    _exit(127);
  }
  for (int k = 0; k < 600; k++) {
    json_t *recs = records("resume");
    size_t n = json_array_size(recs);
    json_decref(recs);
    if (n >= after) break;
    usleep(50 * 1000);
  }
  cmd_result second;
  run_cmd(argv, 30, &second);
  cr_expect_eq(second.code, 2, "a second bench on the same run: exit %d, %s", second.code, second.err);
  cr_expect(strstr(second.err, "--run-id") != NULL, "%s", second.err);
  cmd_result_free(&second);
  kill(pid, SIGINT);
  int status;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(bench, resume_after_an_interrupt_loses_and_repeats_nothing) {
  char *argv[] = {CONCBENCH, "bench", "--profile", "quick", "--models", "sync,threads", "--workloads", "sleep",
                  "--tasks", "1,2", "--param", "ms=150", "--runs", "2", "--results", results, "--run-id", "resume",
                  NULL};
  int code = interrupted_bench(argv, 1);
  cr_expect_eq(code, 130, "interrupted bench exit %d, want 130", code);
  json_t *before = records("resume");
  size_t kept = json_array_size(before);
  cr_assert(kept >= 1 && kept < 4, "kept %zu cells", kept);
  cmd_result r;
  run_cmd(argv, 120, &r);
  cr_assert_eq(r.code, 0, "resumed bench exit %d: %s", r.code, r.err);
  char done[64];
  snprintf(done, sizeof done, "4 cells (%zu already done)", kept);
  cr_expect(strstr(r.err, done) != NULL, "resume did not see the finished cells: %s", r.err);
  json_t *after = records("resume");
  cr_assert_eq(json_array_size(after), 4, "cells after resume: %zu", json_array_size(after));
  for (size_t k = 0; k < kept; k++)
    cr_expect(json_equal(json_array_get(before, k), json_array_get(after, k)), "record %zu changed", k);
  for (size_t i = 0; i < 4; i++) {
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(after, i), "status")), "ok");
    for (size_t j = i + 1; j < 4; j++)
      cr_expect_str_neq(json_string_value(json_object_get(json_array_get(after, i), "key")),
                        json_string_value(json_object_get(json_array_get(after, j), "key")), "cell %zu ran twice", i);
  }
  cmd_result_free(&r);
  run_cmd(argv, 60, &r); /* a finished run: nothing more to do */
  cr_expect_eq(r.code, 0);
  json_t *again = records("resume");
  cr_expect_eq(json_array_size(again), 4, "a finished run ran cells again");
  json_decref(before);
  json_decref(after);
  json_decref(again);
  cmd_result_free(&r);
}

Test(bench, make_bench_quick_end_to_end, .timeout = 300) {
  char args[512];
  snprintf(args, sizeof args, "BENCH_ARGS=--results %s --fresh", results);
  char *argv[] = {"/usr/bin/env", "-u", "MAKEFLAGS", "-u", "MAKELEVEL", "-u", "MFLAGS", "make", "-s", "-C",
                  CB_SRC_DIR, "bench", "PROFILE=quick", "RUN_ID=quick", args, NULL};
  time_t t0 = time(NULL);
  cmd_result r;
  run_cmd(argv, 280, &r);
  long took = (long)(time(NULL) - t0);
  fprintf(stderr, "make bench PROFILE=quick took %ld s\n", took);
  cr_assert_eq(r.code, 0, "make bench exit %d: %s", r.code, r.err);
  cr_expect(took <= 150, "PROFILE=quick took %ld s (budget 90 s on a quiet machine)", took);
  json_t *recs = records("quick");
  cr_expect(json_array_size(recs) >= 8, "only %zu cells", json_array_size(recs));
  size_t k, ok = 0;
  json_t *rec;
  json_array_foreach(recs, k, rec) ok += strcmp(json_string_value(json_object_get(rec, "status")), "ok") == 0;
  cr_expect(ok * 2 >= json_array_size(recs), "%zu of %zu cells ok", ok, json_array_size(recs));
  const char *files[] = {"tables.md", "report.html", "summary.csv", "meta.json", "bars.svg"};
  for (size_t j = 0; j < sizeof files / sizeof *files; j++) {
    char path[512];
    snprintf(path, sizeof path, "%s/quick/%s", results, files[j]);
    cr_expect(access(path, R_OK) == 0, "%s missing", files[j]);
  }
  json_decref(recs);
  cmd_result_free(&r);
}
