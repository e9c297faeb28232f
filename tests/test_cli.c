/* test_cli.c — the `concbench` command line: bad input is one line and exit 2,
 * a good cell prints exactly one verified JSON object with the run record's keys
 * (harness/run/record.h) and the concurrency its model reports. */
#include <criterion/criterion.h>
#include <sched.h>
#include <jansson.h>
#include <string.h>
#include <sys/resource.h>

#include "harness/bench/stream.h"
#include "harness/run/record.h"
#include "tests/helpers/run_cmd.h"

#define CONCBENCH CB_BIN_DIR "/concbench"

static void expect_usage_error(const char *what, char *const argv[], const char *needle) {
  cmd_result r;
  run_cmd(argv, 30, &r);
  cr_expect(r.exited, "%s: did not exit normally (signal %d)", what, r.code);
  cr_expect_eq(r.code, 2, "%s: exit %d, want 2; stderr: %s", what, r.code, r.err);
  cr_expect_eq(count_lines(r.err), 1, "%s: stderr has %d lines, want 1: %s", what, count_lines(r.err), r.err);
  cr_expect(strstr(r.err, needle) != NULL, "%s: stderr '%s' does not name '%s'", what, r.err, needle);
  cr_expect_str_empty(r.out, "%s: printed on stdout: %s", what, r.out);
  cmd_result_free(&r);
}

#define BAD(needle, ...)                                                        \
  do {                                                                          \
    char *const argv[] = {CONCBENCH, "run", __VA_ARGS__, NULL};                 \
    expect_usage_error(#__VA_ARGS__, argv, needle);                             \
  } while (0)

TestSuite(cli, .timeout = 120);

Test(cli, unknown_model_and_workload) {
  BAD("--model", "--model", "nope", "--workload", "pow");
  BAD("--workload", "--model", "sync", "--workload", "nope");
  BAD("--model is required", "--workload", "pow");
  BAD("--workload is required", "--model", "sync");
}

Test(cli, bad_counts) {
  BAD("--tasks", "--model", "sync", "--workload", "fib", "--tasks", "0");
  BAD("--tasks", "--model", "sync", "--workload", "fib", "--tasks", "-3");
  BAD("--tasks", "--model", "sync", "--workload", "fib", "--tasks", "100000000000");
  BAD("--tasks", "--model", "sync", "--workload", "fib", "--tasks", "12abc");
  BAD("--concurrency", "--model", "threads", "--workload", "fib", "--concurrency", "0");
  BAD("--concurrency", "--model", "threads", "--workload", "fib", "--concurrency", "999999999");
  BAD("--stack-size", "--model", "sync", "--workload", "fib", "--stack-size", "1K");
}

Test(cli, bad_params) {
  BAD("no parameter 'foo'", "--model", "sync", "--workload", "pow", "--param", "foo=1");
  BAD("exp of pow", "--model", "sync", "--workload", "pow", "--param", "exp=0");
  BAD("n of fib", "--model", "sync", "--workload", "fib", "--param", "n=99");
  BAD("NAME=VALUE", "--model", "sync", "--workload", "fib", "--param", "n");
  BAD("given twice", "--model", "sync", "--workload", "fib", "--param", "n=3", "--param", "n=4");
  BAD("unknown argument", "--model", "sync", "--workload", "fib", "--frobnicate", "1");
}

Test(cli, bad_server) {
  BAD("cannot connect", "--model", "sync", "--workload", "http", "--server", "http://127.0.0.1:1");
  BAD("only loopback", "--model", "sync", "--workload", "http", "--server", "http://192.0.2.1:80");
  BAD("expected http://HOST:PORT", "--model", "sync", "--workload", "http", "--server", "ftp://x");
  BAD("makes no requests", "--model", "sync", "--workload", "fib", "--server", "http://127.0.0.1:1");
}

Test(cli, unknown_command) {
  char *const argv[] = {CONCBENCH, "frobnicate", NULL};
  cmd_result r;
  run_cmd(argv, 10, &r);
  cr_expect_eq(r.code, 2);
  cr_expect_eq(count_lines(r.err), 1, "stderr: %s", r.err);
  cmd_result_free(&r);
}

/* Runs a cell that must succeed and returns its parsed JSON (caller decrefs). */
static json_t *good_cell(char *const argv[]) {
  cmd_result r;
  run_cmd(argv, 60, &r);
  cr_assert_eq(r.code, 0, "exit %d; stderr: %s", r.code, r.err);
  cr_assert_eq(count_lines(r.out), 1, "want exactly one line of JSON, got: %s", r.out);
  json_error_t je;
  json_t *o = json_loads(r.out, 0, &je);
  cr_assert_not_null(o, "not JSON (%s): %s", je.text, r.out);
  cmd_result_free(&r);
  return o;
}

Test(cli, run_prints_contract_fields) {
  char *const argv[] = {CONCBENCH, "run", "--model", "threads", "--workload", "fib", "--tasks", "6",
                        "--concurrency", "2", "--param", "n=20", NULL};
  json_t *o = good_cell(argv);
  /* fib adds no per-operation figures: exactly the listed keys of a verified run */
  size_t want = 0;
  for (int k = 0; k < CB_NKEYS; k++) {
    int always = strcmp(cb_run_keys[k].present, "always") == 0;
    want += always;
    cr_expect(!always || json_object_get(o, cb_run_keys[k].key), "key %s missing", cb_run_keys[k].key);
  }
  const char *key;
  json_t *v;
  json_object_foreach(o, key, v) cr_expect_geq(cb_run_key_find(key), 0, "key %s is not in record.h", key);
  cr_expect_eq(json_object_size(o), want, "%zu keys, want %zu", json_object_size(o), want);
  char why[160] = "";
  cr_expect_eq(cb_run_record_check(o, 0, NULL, 0, why, sizeof why), 0, "%s", why);
  cr_expect(json_is_true(json_object_get(o, "verified")));
  cr_expect_str_eq(json_string_value(json_object_get(o, "error_class")), "ok");
  cr_expect_eq(json_integer_value(json_object_get(o, "jobs_ok")), 6);
  cr_expect_eq(json_integer_value(json_object_get(o, "concurrency")), 2);
  cr_expect_eq(json_integer_value(json_object_get(o, "created")), 2, "a pool of 2 threads");
  cr_expect_eq(json_integer_value(json_object_get(json_object_get(o, "params"), "n")), 20);
  double wall = json_real_value(json_object_get(o, "wall_s")), last = json_real_value(json_object_get(o, "last_start_s"));
  cr_expect(wall > 0);
  /* two workers for six jobs: the last one starts only after four have ended */
  cr_expect(last > 0 && last < wall, "last_start_s %.6f, wall_s %.6f", last, wall);
  json_t *lat = json_object_get(o, "latency_ms");
  cr_expect(json_real_value(json_object_get(lat, "p50")) <= json_real_value(json_object_get(lat, "max")));
  cr_expect_str_eq(json_string_value(json_object_get(o, "checksum")),
                   json_string_value(json_object_get(o, "expected_checksum")));
  json_decref(o);
}

Test(cli, procs_http_40_tasks_verifies) {
  char *const argv[] = {CONCBENCH, "run", "--model", "procs", "--workload", "http", "--tasks", "40", NULL};
  json_t *o = good_cell(argv);
  cr_expect(json_is_true(json_object_get(o, "verified")));
  cr_expect_eq(json_integer_value(json_object_get(o, "jobs_ok")), 40);
  cr_expect_eq(json_integer_value(json_object_get(o, "created")), 40);
  /* The tree holds 40 children: its summed peak RSS exceeds the largest process. */
  cr_expect_gt(json_integer_value(json_object_get(o, "tree_rss_kb")),
               json_integer_value(json_object_get(o, "max_rss_kb")));
  /* 4 requests of 100 ms each, all 40 jobs concurrent: about 0.4 s, never 40 x 0.4 s. */
  double wall = json_real_value(json_object_get(o, "wall_s"));
  cr_expect(wall >= 0.4 && wall < 8.0, "wall %.3f s", wall);
  /* the last job to start still had its 4 x 100 ms ahead of it */
  double last = json_real_value(json_object_get(o, "last_start_s"));
  cr_expect(last >= 0 && last + 0.4 <= wall, "last_start_s %.3f, wall_s %.3f", last, wall);
  json_decref(o);
}

Test(cli, list_names_every_param) {
  char *const argv[] = {CONCBENCH, "list", NULL};
  cmd_result r;
  run_cmd(argv, 10, &r);
  cr_assert_eq(r.code, 0);
  const char *names[] = {"sync", "threads", "procs", "pow", "base", "exp", "fib", "http",
                         "requests", "delay_ms", "bytes", "sleep", "ms"};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
    cr_expect(strstr(r.out, names[k]) != NULL, "list does not mention %s", names[k]);
  cmd_result_free(&r);
}

/* A model's own parameters are listed on the lines under the model, and in --json. */
Test(cli, list_names_the_models_params) {
  char *const argv[] = {CONCBENCH, "list", NULL};
  cmd_result r;
  run_cmd(argv, 10, &r);
  cr_assert_eq(r.code, 0);
  const char *pairs[][2] = {{"\n  green-mn ", "\n      workers "}, {"\n  green ", "\n      shared_stack "}};
  for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
    const char *model = strstr(r.out, pairs[k][0]);
    cr_assert(model != NULL, "list has no line for%s", pairs[k][0]);
    const char *line_end = strchr(model + 1, '\n');
    cr_assert(line_end && strncmp(line_end, pairs[k][1], strlen(pairs[k][1])) == 0,
              "the line after%s does not list%s", pairs[k][0], pairs[k][1]);
  }
  cmd_result_free(&r);
  char *const jargv[] = {CONCBENCH, "list", "--json", NULL};
  run_cmd(jargv, 10, &r);
  cr_assert_eq(r.code, 0);
  json_error_t jerr;
  json_t *o = json_loads(r.out, 0, &jerr);
  cr_assert(o != NULL, "list --json: %s", jerr.text);
  size_t i;
  json_t *m;
  int found = 0;
  json_array_foreach(json_object_get(o, "models"), i, m) {
    if (strcmp(json_string_value(json_object_get(m, "name")), "green-mn") != 0) continue;
    json_t *p0 = json_array_get(json_object_get(m, "params"), 0);
    cr_expect_str_eq(json_string_value(json_object_get(p0, "name")), "workers");
    cr_expect_eq(json_integer_value(json_object_get(p0, "max")), 64);
    found = 1;
  }
  cr_expect(found, "list --json has no green-mn");
  json_decref(o);
  cmd_result_free(&r);
}

/* Every figure is a positive number of nanoseconds; the backend is named. */
Test(cli, microbench_reports_every_figure) {
  char *const argv[] = {CONCBENCH, "microbench", NULL};
  cmd_result r;
  run_cmd(argv, 60, &r);
  cr_assert(r.exited && r.code == 0, "microbench exit %d: %s", r.code, r.err);
  json_error_t jerr;
  json_t *o = json_loads(r.out, 0, &jerr);
  cr_assert(o != NULL, "not JSON: %s", r.out);
  const char *keys[] = {"ns_per_raw_switch", "ns_per_yield", "ns_per_chan_handoff", "ns_write_hooked",
                        "ns_write_libc", "hook_overhead_ratio", "ns_per_fresh_page", "ns_per_page_unmap"};
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
    json_t *v = json_object_get(o, keys[k]);
    cr_expect(json_is_real(v) && json_real_value(v) > 0 && json_real_value(v) < 1e9, "%s = %s", keys[k], r.out);
  }
  cr_expect(json_is_string(json_object_get(o, "switch_backend")), "no switch_backend: %s", r.out);
  json_decref(o);
  cmd_result_free(&r);
}

/* --stream: the memory bandwidth as a bench stores it in meta.json, positive figures
 * for 1 thread and for one thread per CPU this process may use. */
Test(cli, microbench_stream_reports_the_bandwidth_of_one_and_every_cpu) {
  char *const argv[] = {CONCBENCH, "microbench", "--stream", NULL};
  cmd_result r;
  run_cmd(argv, 60, &r);
  cr_assert(r.exited && r.code == 0, "microbench --stream exit %d: %s", r.code, r.err);
  json_t *o = json_loads(r.out, 0, NULL);
  cb_stream_figures s;
  cr_assert_eq(cb_stream_from_json(o, &s), 0, "not the stored form: %s", r.out);
  cpu_set_t set;
  cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
  cr_expect_eq(s.cores, CPU_COUNT(&set), "%s", r.out);
  cr_expect(s.threads_1 > 0 && s.threads_all > 0, "%s", r.out);
  json_decref(o);
  cmd_result_free(&r);
}

Test(cli, microbench_takes_no_arguments) {
  char *const argv[] = {CONCBENCH, "microbench", "--fast", NULL};
  expect_usage_error("microbench --fast", argv, "microbench");
  char *const extra[] = {CONCBENCH, "microbench", "--stream", "--fast", NULL};
  expect_usage_error("microbench --stream --fast", extra, "got '--fast'");
}

/* Out of descriptors is a resource limit (exit 3) that names its cause, in every
 * model that opens sockets per job. Criterion runs each test in its own process,
 * so the lowered limit stays here; a process that may raise its hard limit again
 * passes that on, and concbench would lift it: nothing to test then. */
Test(cli, http_out_of_descriptors_is_a_resource_limit) {
  struct rlimit rl = {.rlim_cur = 64, .rlim_max = 64}, more = {.rlim_cur = 64, .rlim_max = 65};
  cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
  if (setrlimit(RLIMIT_NOFILE, &more) == 0) cr_skip_test("this process may raise its descriptor hard limit");
  const char *models[] = {"threads", "green", "loop"};
  for (size_t m = 0; m < sizeof models / sizeof models[0]; m++) {
    char *const argv[] = {CONCBENCH, "run", "--model", (char *)models[m], "--workload", "http", "--tasks", "200",
                          "--param", "delay_ms=1", "--param", "requests=1", "--param", "bytes=100", NULL};
    cmd_result r;
    run_cmd(argv, 60, &r);
    cr_expect(r.exited && r.code == 3, "%s: exit %d: %s", models[m], r.code, r.err);
    json_error_t jerr;
    json_t *o = json_loads(r.out, 0, &jerr);
    cr_assert(o != NULL, "%s: not JSON: %s", models[m], r.out);
    const char *cls = json_string_value(json_object_get(o, "error_class"));
    const char *error = json_string_value(json_object_get(o, "error"));
    cr_expect(cls && strcmp(cls, "resource_limit") == 0, "%s: error_class %s", models[m], cls ? cls : "(none)");
    char why[160] = "";
    cr_expect_eq(cb_run_record_check(o, 1, NULL, 0, why, sizeof why), 0, "%s: %s", models[m], why);
    cr_expect(error && strstr(error, "Too many open files"), "%s: error %s", models[m], error ? error : "(none)");
    json_decref(o);
    cmd_result_free(&r);
  }
}

/* procs needs no descriptors per job in its own process (each child has its own
 * table), so at the same limit it verifies: delayd, which inherits the limit, keeps
 * the connections it has no room for waiting instead of resetting them. */
Test(cli, http_under_a_low_descriptor_limit_is_not_failed_by_delayd) {
  struct rlimit rl = {.rlim_cur = 64, .rlim_max = 64}, more = {.rlim_cur = 64, .rlim_max = 65};
  cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
  if (setrlimit(RLIMIT_NOFILE, &more) == 0) cr_skip_test("this process may raise its descriptor hard limit");
  char *const argv[] = {CONCBENCH, "run", "--model", "procs", "--workload", "http", "--tasks", "200",
                        "--param", "delay_ms=50", "--param", "requests=2", "--param", "bytes=100", NULL};
  cmd_result r;
  run_cmd(argv, 60, &r);
  cr_expect(r.exited && r.code == 0, "exit %d: %s", r.code, r.err);
  cr_expect(strstr(r.out, "\"verified\":true") != NULL, "%s", r.out);
  cmd_result_free(&r);
}

/* delayd is on loopback: a proxy named in the environment must not reroute the
 * benchmark's requests, in either world. */
Test(cli, http_ignores_proxy_environment) {
  const char *models[] = {"sync", "loop"};
  for (size_t m = 0; m < sizeof models / sizeof models[0]; m++) {
    char *const argv[] = {"/usr/bin/env", "http_proxy=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9",
                          "ALL_PROXY=http://127.0.0.1:9", CONCBENCH, "run", "--model", (char *)models[m],
                          "--workload", "http", "--tasks", "3", "--param", "delay_ms=1", "--param", "bytes=100", NULL};
    cmd_result r;
    run_cmd(argv, 60, &r);
    cr_expect(r.exited && r.code == 0, "%s: exit %d: %s %s", models[m], r.code, r.out, r.err);
    cr_expect(strstr(r.out, "\"verified\":true") != NULL, "%s: %s", models[m], r.out);
    cmd_result_free(&r);
  }
}

/* The JSON's concurrency is what each model reports it ran with: sync one job at a
 * time whatever C says, every other model min(C, N), or N without C. */
Test(cli, concurrency_is_what_the_model_reports) {
  const char *models[] = {"sync", "threads", "procs", "green", "loop"};
  for (size_t m = 0; m < sizeof models / sizeof models[0]; m++)
    for (int with_c = 0; with_c <= 1; with_c++) {
      char *const argv[] = {CONCBENCH, "run", "--model", (char *)models[m], "--workload", "fib", "--tasks", "6",
                            "--param", "n=15", with_c ? "--concurrency" : NULL, "4", NULL};
      json_t *o = good_cell(argv);
      long long want = m == 0 ? 1 : with_c ? 4 : 6;
      cr_expect_eq(json_integer_value(json_object_get(o, "concurrency")), want, "%s %s: concurrency %lld, want %lld",
                   models[m], with_c ? "C=4" : "no C", json_integer_value(json_object_get(o, "concurrency")), want);
      json_decref(o);
    }
  /* the coordination workloads report it too (spawn: one tree per job) */
  const char *coord[][3] = {{"threads", "spawn", "leaves=100"}, {"green", "pingpong", "rounds=10"}};
  for (size_t k = 0; k < 2; k++) {
    char *const argv[] = {CONCBENCH, "run", "--model", (char *)coord[k][0], "--workload", (char *)coord[k][1],
                          "--tasks", "3", "--concurrency", "2", "--param", (char *)coord[k][2], NULL};
    json_t *o = good_cell(argv);
    cr_expect_eq(json_integer_value(json_object_get(o, "concurrency")), 2, "%s %s", coord[k][0], coord[k][1]);
    json_decref(o);
  }
}

/* A model without a version of the workload: its own exit code, one line, no JSON. */
Test(cli, a_model_without_the_workload_is_unsupported) {
  char *const argv[] = {CONCBENCH, "run", "--model", "sync", "--workload", "pingpong", "--tasks", "2", NULL};
  cmd_result r;
  run_cmd(argv, 30, &r);
  cr_expect(r.exited && r.code == CB_EXIT_UNSUPPORTED, "exit %d, want %d: %s", r.code, CB_EXIT_UNSUPPORTED, r.err);
  cr_expect_eq(count_lines(r.err), 1, "stderr: %s", r.err);
  cr_expect(strstr(r.err, "pingpong") && strstr(r.err, "sync"), "stderr names neither: %s", r.err);
  cr_expect_str_empty(r.out);
  cmd_result_free(&r);
}

/* `concbench run --help` lists every key of the record and every run class. */
Test(cli, run_help_lists_the_record) {
  char *const argv[] = {CONCBENCH, "run", "--help", NULL};
  cmd_result r;
  run_cmd(argv, 10, &r);
  cr_assert_eq(r.code, 0);
  for (int k = 0; k < CB_NKEYS; k++) {
    char line[64];
    snprintf(line, sizeof line, "\n  %s ", cb_run_keys[k].key);
    cr_expect(strstr(r.out, line) != NULL, "--help does not list %s", cb_run_keys[k].key);
  }
  for (int c = 0; c < CB_NCLASSES; c++)
    if (cb_classes[c].exit >= 0 && c != CB_CLASS_USAGE)
      cr_expect(strstr(r.out, cb_classes[c].name) != NULL, "--help does not list %s", cb_classes[c].name);
  cmd_result_free(&r);
}
