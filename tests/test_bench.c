/* test_bench.c — `concbench bench` for real: a hanging cell is killed with its
 * process tree at the limit and recorded as a timeout; a model that gives out is
 * filed as resource_limit, one without the workload as unsupported; cells that
 * differ only in a --param have different resume keys; an interrupted bench loses
 * and repeats nothing when started again; a bench killed outright leaves no child
 * behind; scoped --param overrides and the stages sweep in the plan; `make bench
 * PROFILE=quick` end to end (meta.json's STREAM figure, the charts). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/bench/bench.h"
#include "harness/bench/stream.h"
#include "tests/helpers/proctree.h"
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

/* Processes with needle in their command line, after waiting up to 5 s for them to
 * end: a cell's processes die with their parent (PR_SET_PDEATHSIG), a moment after
 * it. */
static int processes_left_with(const char *needle) {
  int n = processes_with(needle);
  for (int k = 0; k < 50 && n > 0; k++) {
    usleep(100 * 1000);
    n = processes_with(needle);
  }
  return n;
}

Test(bench, a_hanging_cell_is_killed_at_its_limit_and_recorded_as_timeout) {
  /* a sleep of this process's own length, so that its cells are told apart from
   * those of another test run on the machine */
  char ms[32];
  snprintf(ms, sizeof ms, "ms=%d", 500000 + (int)(getpid() % 100000));
  char *argv[] = {CONCBENCH, "bench", "--profile", "quick", "--models", "sync,threads", "--workloads", "sleep",
                  "--tasks", "2", "--param", ms, "--limit", "2", "--runs", "2", "--results", results,
                  "--run-id", "hang", NULL};
  time_t t0 = time(NULL);
  cmd_result r;
  run_cmd(argv, 60, &r);
  time_t took = time(NULL) - t0;
  cr_assert_eq(r.code, 0, "bench exit %d: %s", r.code, r.err);
  cr_expect(took < 45, "two 2 s limits took %ld s: the %s sleeps were not cut short", (long)took, ms);
  json_t *recs = records("hang");
  cr_assert_eq(json_array_size(recs), 2, "records: %zu", json_array_size(recs));
  size_t k;
  json_t *rec;
  json_array_foreach(recs, k, rec) {
    cr_expect_str_eq(json_string_value(json_object_get(rec, "status")), "timeout");
    cr_expect(json_object_get(rec, "times") == NULL, "a timeout has times");
  }
  cr_expect_eq(processes_left_with(ms), 0, "a killed cell left processes behind (%s)", ms);
  char path[512];
  snprintf(path, sizeof path, "%s/hang/tables.md", results);
  cr_expect(access(path, R_OK) == 0, "no report after the bench");
  json_decref(recs);
  cmd_result_free(&r);
}

/* The status and error of the only record of RESULTS/ID/cells.jsonl with model m. */
static void expect_status(const char *id, const char *model, const char *status, const char *in_error) {
  json_t *recs = records(id);
  size_t k, found = 0;
  json_t *rec;
  json_array_foreach(recs, k, rec) {
    if (strcmp(json_string_value(json_object_get(rec, "model")), model) != 0) continue;
    found++;
    const char *got = json_string_value(json_object_get(rec, "status"));
    const char *error = json_string_value(json_object_get(rec, "error"));
    cr_expect_str_eq(got, status, "%s N=%lld filed as %s (%s), want %s", model,
                     json_integer_value(json_object_get(rec, "tasks")), got, error ? error : "no error", status);
    cr_expect(!in_error || (error && strstr(error, in_error)), "%s: error '%s' does not say '%s'", model,
              error ? error : "(none)", in_error);
    cr_expect(json_object_get(rec, "times") == NULL, "a %s cell has times", status);
  }
  cr_expect(found > 0, "no record of %s in %s", model, id);
  json_decref(recs);
}

/* A model that gives out (exit 3: threads out of descriptors here) is a resource
 * limit, with its cause, and never timed. The lowered limit stays in this test's
 * process (Criterion forks per test); one that may raise it again has nothing to test. */
Test(bench, a_model_that_gives_out_is_filed_as_resource_limit) {
  struct rlimit rl = {.rlim_cur = 64, .rlim_max = 64}, more = {.rlim_cur = 64, .rlim_max = 65};
  cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
  if (setrlimit(RLIMIT_NOFILE, &more) == 0) cr_skip_test("this process may raise its descriptor hard limit");
  char *argv[] = {CONCBENCH, "bench", "--profile", "quick", "--models", "threads", "--workloads", "http", "--tasks",
                  "200", "--param", "delay_ms=1", "--param", "requests=1", "--param", "bytes=100", "--runs", "2",
                  "--results", results, "--run-id", "gaveout", NULL};
  cmd_result r;
  run_cmd(argv, 120, &r);
  cr_assert_eq(r.code, 0, "bench exit %d: %s", r.code, r.err);
  expect_status("gaveout", "threads", "resource_limit", "Too many open files");
  cmd_result_free(&r);
}

/* sync has no pingpong: unsupported at the first N (its exit code) and at the next
 * (as found there), while threads runs both. */
Test(bench, a_model_without_the_workload_is_filed_as_unsupported) {
  char *argv[] = {CONCBENCH, "bench", "--profile", "quick", "--models", "sync,threads", "--workloads", "pingpong",
                  "--tasks", "1,2", "--param", "rounds=10", "--runs", "2", "--results", results, "--run-id",
                  "unsupported", NULL};
  cmd_result r;
  run_cmd(argv, 120, &r);
  cr_assert_eq(r.code, 0, "bench exit %d: %s", r.code, r.err);
  expect_status("unsupported", "sync", "unsupported", "no version");
  json_t *recs = records("unsupported");
  size_t k, ok = 0;
  json_t *rec;
  json_array_foreach(recs, k, rec) ok += strcmp(json_string_value(json_object_get(rec, "status")), "ok") == 0;
  cr_expect_eq(ok, 2, "%zu threads cells ok, want 2", ok);
  json_decref(recs);
  cmd_result_free(&r);
}

/* The plan of `bench --models sync,threads --workloads sleep --tasks 2,3 --param p`
 * (the options point into its arguments, which the parser splits in place: copies,
 * kept to the end of the test). */
static cb_plan_cell *plan_with(const char *param, size_t *n) {
  const char *args[] = {"--profile", "quick", "--models", "sync,threads", "--workloads", "sleep", "--tasks", "2,3",
                        "--param", param, NULL};
  char **a = calloc(11, sizeof *a);
  for (int k = 0; args[k]; k++) a[k] = strdup(args[k]);
  cb_bench_opts o;
  cr_assert_eq(cb_bench_parse(10, a, &o), 0, "bench arguments refused");
  return cb_bench_plan(&o, "binary", "host", n);
}

/* Resume keys and file names name every parameter: a cell that differs only in a
 * --param is another cell, never one already done. */
Test(bench, cells_that_differ_only_in_a_param_have_their_own_keys) {
  size_t n1, n2;
  cb_plan_cell *a = plan_with("ms=100", &n1), *b = plan_with("ms=200", &n2);
  cr_assert_eq(n1, 4);
  cr_assert_eq(n2, n1);
  for (size_t i = 0; i < n1; i++)
    for (size_t j = 0; j < n2; j++) {
      cr_expect_str_neq(a[i].key, b[j].key, "%s and %s share the key %s", a[i].id, b[j].id, a[i].key);
      cr_expect_str_neq(a[i].id, b[j].id, "ms=100 and ms=200 share the id %s", a[i].id);
    }
  size_t n3;
  cb_plan_cell *c = plan_with("ms=100", &n3); /* the same cells again: the same keys */
  for (size_t i = 0; i < n1; i++) cr_expect_str_eq(a[i].key, c[i].key);
  free(a);
  free(b);
  free(c);
}

/* The plan of `bench ARGS...` (copies of the arguments, which the parser splits in
 * place, kept to the end of the test). */
static cb_plan_cell *plan_of(size_t *n, const char *const *args) {
  int argc = 0;
  while (args[argc]) argc++;
  char **a = calloc((size_t)argc + 1, sizeof *a);
  for (int k = 0; k < argc; k++) a[k] = strdup(args[k]);
  cb_bench_opts o;
  cr_assert_eq(cb_bench_parse(argc, a, &o), 0, "bench arguments refused");
  return cb_bench_plan(&o, "binary", "host", n);
}

/* How many of c's overrides (its --param arguments) set name, and the value of the
 * last one (-1 when none). */
static int overrides_of(const cb_plan_cell *c, const char *name, long long *value) {
  int count = 0;
  size_t len = strlen(name);
  *value = -1;
  for (int k = 0; k < c->noverrides; k++)
    if (strncmp(c->overrides[k], name, len) == 0 && c->overrides[k][len] == '=')
      count++, *value = strtoll(c->overrides[k] + len + 1, NULL, 10);
  return count;
}

/* "http:bytes=200" applies to http alone and wins over "bytes=100", whichever
 * comes first; each cell's argv names bytes once, unscoped. */
Test(bench, a_scoped_param_applies_to_its_workload_only_and_wins) {
  const char *orders[][2] = {{"bytes=100", "http:bytes=200"}, {"http:bytes=200", "bytes=100"}};
  for (int o = 0; o < 2; o++) {
    const char *args[] = {"--profile", "quick", "--models", "sync", "--workloads", "http,echo", "--tasks", "2",
                          "--conns", "2", "--param", orders[o][0], "--param", orders[o][1], NULL};
    size_t n;
    cb_plan_cell *p = plan_of(&n, args);
    cr_assert_eq(n, 2);
    for (size_t k = 0; k < n; k++) {
      long long v;
      cr_expect_eq(overrides_of(&p[k], "bytes", &v), 1, "%s: bytes given %d times", p[k].id, overrides_of(&p[k], "bytes", &v));
      long long want = strcmp(p[k].workload->name, "http") == 0 ? 200 : 100;
      cr_expect_eq(v, want, "%s: bytes=%lld, want %lld", p[k].id, v, want);
      cr_expect_eq(p[k].params.v[cb_param_index(p[k].workload, "bytes")], want);
    }
    free(p);
  }
}

/* The default profile's rounds is pingpong's: mixed (the map) keeps its own. */
Test(bench, the_profiles_rounds_reach_pingpong_alone) {
  const char *args[] = {"--profile", "default", "--models", "sync", "--workloads", "pingpong,mixed", NULL};
  size_t n;
  cb_plan_cell *p = plan_of(&n, args);
  int pingpong = 0, mixed = 0;
  for (size_t k = 0; k < n; k++) {
    long long v;
    cr_expect_eq(overrides_of(&p[k], "rounds", &v), 1, "%s", p[k].id);
    int pp = strcmp(p[k].workload->name, "pingpong") == 0;
    pingpong += pp, mixed += !pp;
    cr_expect_eq(v, pp ? 1000 : 2, "%s: rounds=%lld", p[k].id, v);
  }
  cr_expect(pingpong > 0 && mixed > 0);
  free(p);
}

/* --stages: after the N sweep at the default stages, one cell per other stages value
 * at the swept N closest to 100; workloads without stages are not swept. */
Test(bench, pipelines_are_swept_over_stages_at_one_n) {
  const char *args[] = {"--profile", "quick", "--models", "sync,threads", "--workloads", "pipeline,sleep",
                        "--tasks", "10,90,1000", "--stages", "1,4,16", NULL};
  size_t n;
  cb_plan_cell *p = plan_of(&n, args);
  int sweep = 0, staged[17] = {0};
  for (size_t k = 0; k < n; k++) {
    long long v;
    int given = overrides_of(&p[k], "stages", &v);
    if (strcmp(p[k].workload->name, "sleep") == 0) {
      cr_expect_eq(given, 0);
      continue;
    }
    long long stages = p[k].params.v[cb_param_index(p[k].workload, "stages")];
    if (given == 0) {
      cr_expect_eq(stages, 4, "%s", p[k].id);
      sweep++;
    } else {
      cr_expect_eq(given, 1);
      cr_expect_eq(p[k].tasks, 90, "%s: a stages cell at N=%lld", p[k].id, p[k].tasks);
      cr_expect_eq(v, stages);
      cr_assert(stages >= 1 && stages <= 16);
      staged[stages]++;
    }
  }
  cr_expect_eq(sweep, 3 * 2, "the N sweep: 3 sizes x 2 models");
  cr_expect(staged[1] == 2 && staged[16] == 2 && staged[4] == 0, "stages 1 and 16 per model; 4 is the sweep's own");
  free(p);
}

/* A bench killed outright (SIGKILL: no handler runs) takes its delayd (started for
 * the http cell to come) and its running cell (a minute of sleep) with it. */
Test(bench, a_killed_bench_leaves_no_child_behind) {
  char *argv[] = {CONCBENCH, "bench", "--profile", "quick", "--models", "sync", "--workloads", "sleep,http",
                  "--tasks", "1", "--param", "ms=60000", "--runs", "2", "--results", results, "--run-id", "killed",
                  NULL};
  pid_t parent = getpid(), pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* the bench itself dies with this test */
    if (getppid() != parent) _exit(127);
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execv(argv[0], argv);
    _exit(127);
  }
  pid_t kids[8];
  int n = 0;
  for (int k = 0; k < 600 && n < 2; k++) { /* delayd, then the cell's probe run */
    usleep(50 * 1000);
    n = proc_add_descendants(pid, kids, n, 8);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  cr_assert_geq(n, 2, "the bench did not start delayd and its cell within 30 s (%d descendants)", n);
  int left = n;
  for (int k = 0; k < 200 && left > 0; k++) {
    usleep(50 * 1000);
    left = 0;
    for (int j = 0; j < n; j++) left += proc_alive(kids[j]);
  }
  for (int k = 0; k < n; k++) {
    cr_expect(!proc_alive(kids[k]), "process %d of the killed bench is still running", (int)kids[k]);
    if (proc_alive(kids[k])) kill(kids[k], SIGKILL);
  }
}

/* Starts a bench, checks that a second one on the same run folder is refused, and
 * interrupts the first (SIGINT) once `after` cells are recorded. */
static int interrupted_bench(char *const argv[], size_t after) {
  pid_t parent = getpid(), pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed assertion below must not leave it running */
    if (getppid() != parent) _exit(127);
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
  /* CB_MAKE_VARS: the build tree and variant of this test, so that make bench
   * builds nothing another tree's tests are using */
  char *argv[] = {"/usr/bin/env", "-u", "MAKEFLAGS", "-u", "MAKELEVEL", "-u", "MFLAGS", "make", "-s", "-C",
                  CB_SRC_DIR, "bench", "PROFILE=quick", "RUN_ID=quick", args, CB_MAKE_VARS, NULL};
  time_t t0 = time(NULL);
  cmd_result r;
  run_cmd(argv, 280, &r);
  long took = (long)(time(NULL) - t0);
  /* its length is a figure, not a check (tests run on loaded machines): 90 s is the
   * quick profile's budget on a quiet one; run_cmd's 280 s is the hang guard */
  fprintf(stderr, "make bench PROFILE=quick took %ld s\n", took);
  cr_assert_eq(r.code, 0, "make bench exit %d: %s", r.code, r.err);
  json_t *recs = records("quick");
  cr_expect(json_array_size(recs) >= 8, "only %zu cells", json_array_size(recs));
  size_t k, ok = 0;
  json_t *rec;
  json_array_foreach(recs, k, rec) ok += strcmp(json_string_value(json_object_get(rec, "status")), "ok") == 0;
  cr_expect(ok * 2 >= json_array_size(recs), "%zu of %zu cells ok", ok, json_array_size(recs));
  const char *files[] = {"tables.md", "report.html", "summary.csv", "meta.json", "bars.svg", "pipeline.svg", "membw.svg"};
  for (size_t j = 0; j < sizeof files / sizeof *files; j++) {
    char path[512];
    snprintf(path, sizeof path, "%s/quick/%s", results, files[j]);
    cr_expect(access(path, R_OK) == 0, "%s missing", files[j]);
  }
  char meta_path[512];
  snprintf(meta_path, sizeof meta_path, "%s/quick/meta.json", results);
  json_t *meta = json_load_file(meta_path, 0, NULL);
  cb_stream_figures sf;
  cr_expect_eq(cb_stream_from_json(json_object_get(meta, CB_STREAM_META_KEY), &sf), 0, "no STREAM figure in meta.json");
  json_decref(meta);
  json_decref(recs);
  cmd_result_free(&r);
}
