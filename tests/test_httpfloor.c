/* test_httpfloor.c — bin/httpfloor: it fetches and verifies the same bodies as the
 * http workload (its checksum equals `concbench run`'s for the same jobs), bad
 * input exits 2 with one line naming the argument, non-loopback servers are
 * refused, and running out of descriptors exits 3. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <sys/resource.h>

#include "tests/helpers/ports.h"
#include "tests/helpers/run_cmd.h"

static json_t *json_of(const cmd_result *r) {
  json_error_t je;
  json_t *o = json_loads(r->out, 0, &je);
  cr_assert_not_null(o, "not JSON: %s (stderr: %s)", r->out, r->err);
  return o;
}

static const char *str_field(json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  cr_assert_not_null(s, "%s missing or not a string", key);
  return s;
}

Test(httpfloor, checksum_equals_the_workloads, .timeout = 60) {
  char *floor_argv[] = {CB_BIN_DIR "/httpfloor", "--tasks", "20", "--requests", "2", "--delay-ms", "5",
                        "--bytes", "3001", NULL};
  char *run_argv[] = {CB_BIN_DIR "/concbench", "run", "--model", "sync", "--workload", "http", "--tasks", "20",
                      "--param", "requests=2", "--param", "delay_ms=5", "--param", "bytes=3001", NULL};
  cmd_result f, c;
  run_cmd(floor_argv, 30, &f);
  cr_assert(f.exited && f.code == 0, "httpfloor exit %d: %s", f.code, f.err);
  run_cmd(run_argv, 30, &c);
  cr_assert(c.exited && c.code == 0, "concbench exit %d: %s", c.code, c.err);
  json_t *fo = json_of(&f), *co = json_of(&c);
  cr_assert(json_is_true(json_object_get(fo, "verified")));
  cr_assert_str_eq(str_field(fo, "tool"), "httpfloor");
  cr_assert_str_eq(str_field(fo, "checksum"), str_field(co, "checksum"));
  cr_assert_str_eq(str_field(fo, "expected_checksum"), str_field(co, "expected_checksum"));
  cr_assert_str_eq(str_field(fo, "checksum"), str_field(fo, "expected_checksum"));
  double ideal = json_real_value(json_object_get(fo, "ideal_s"));
  double wall = json_real_value(json_object_get(fo, "wall_s"));
  cr_assert_float_eq(ideal, 0.010, 1e-9);
  cr_assert_geq(wall, ideal, "wall %f below the ideal %f", wall, ideal);
  cr_assert(json_is_real(json_object_get(fo, "connect_phase_s")));
  cr_assert(json_is_null(json_object_get(fo, "error")));
  cr_assert_eq(count_lines(f.out), 1);
  json_decref(fo);
  json_decref(co);
  cmd_result_free(&f);
  cmd_result_free(&c);
}

/* Each: the arguments, then the text the one stderr line must contain. */
static const char *const bad_inputs[][4] = {
    {"--tasks", "0", NULL, "--tasks: must be an integer from 1 to 20000"},
    {"--tasks", "20001", NULL, "--tasks: must be an integer from 1 to 20000"},
    {"--requests", "x", NULL, "--requests: must be an integer from 1 to 1000"},
    {"--delay-ms", "-1", NULL, "--delay-ms: must be an integer from 0 to 60000"},
    {"--bytes", NULL, NULL, "--bytes: must be an integer from 0 to"},
    {"--timeout-s", "0", NULL, "--timeout-s: must be an integer from 1 to 3600"},
    {"--server", NULL, NULL, "--server: needs a URL"},
    {"--bogus", "1", NULL, "unknown option '--bogus'"},
};

Test(httpfloor, bad_input_exits_2_with_one_line) {
  for (size_t k = 0; k < sizeof bad_inputs / sizeof bad_inputs[0]; k++) {
    char *argv[] = {CB_BIN_DIR "/httpfloor", (char *)bad_inputs[k][0], (char *)bad_inputs[k][1], NULL};
    cmd_result r;
    run_cmd(argv, 10, &r);
    cr_assert(r.exited && r.code == 2, "%s %s: exit %d", argv[1], argv[2] ? argv[2] : "", r.code);
    cr_assert_eq(count_lines(r.err), 1, "%s", r.err);
    cr_assert(strstr(r.err, bad_inputs[k][3]), "expected '%s' in: %s", bad_inputs[k][3], r.err);
    cr_assert_str_eq(r.out, "");
    cmd_result_free(&r);
  }
}

Test(httpfloor, non_loopback_server_is_refused) {
  char *argv[] = {CB_BIN_DIR "/httpfloor", "--server", "http://192.0.2.1:80", NULL};
  cmd_result r;
  run_cmd(argv, 10, &r);
  cr_assert(r.exited && r.code == 2, "exit %d", r.code);
  cr_assert_eq(count_lines(r.err), 1, "%s", r.err);
  cr_assert(strstr(r.err, "--server: only loopback servers are allowed"), "%s", r.err);
  cmd_result_free(&r);
}

Test(httpfloor, unreachable_server_is_refused) {
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", unused_loopback_port());
  char *argv[] = {CB_BIN_DIR "/httpfloor", "--server", url, NULL};
  cmd_result r;
  run_cmd(argv, 10, &r);
  cr_assert(r.exited && r.code == 2, "exit %d", r.code);
  cr_assert(strstr(r.err, "--server: cannot connect"), "%s", r.err);
  cmd_result_free(&r);
}

/* Criterion runs each test in its own process, so the lowered limit stays here.
 * A process that may raise its hard limit again (CAP_SYS_RESOURCE) passes that on
 * to httpfloor, whose cb_raise_fd_limit would then lift it: nothing to test. */
Test(httpfloor, out_of_descriptors_exits_3, .timeout = 30) {
  struct rlimit rl = {.rlim_cur = 64, .rlim_max = 64}, more = {.rlim_cur = 64, .rlim_max = 65};
  cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
  if (setrlimit(RLIMIT_NOFILE, &more) == 0) cr_skip_test("this process may raise its descriptor hard limit");
  char *argv[] = {CB_BIN_DIR "/httpfloor", "--tasks", "200", "--delay-ms", "1", NULL};
  cmd_result r;
  run_cmd(argv, 20, &r);
  cr_assert(r.exited && r.code == 3, "exit %d: %s", r.code, r.err);
  json_t *o = json_of(&r);
  cr_assert(json_is_false(json_object_get(o, "verified")));
  cr_assert(json_is_null(json_object_get(o, "wall_s")));
  cr_assert(strstr(str_field(o, "error"), "out of descriptors"), "%s", r.out);
  json_decref(o);
  cmd_result_free(&r);
}
