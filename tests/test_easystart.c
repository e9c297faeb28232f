/* test_easystart.c — bin/easystart: every job's first request goes out and the
 * time is reported only then; bad input exits 2 with one line naming the argument;
 * an unreachable server is refused; running out of descriptors exits 3. */
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

Test(easystart, every_first_request_goes_out, .timeout = 60) {
  char *argv[] = {CB_BIN_DIR "/easystart", "--tasks", "30", NULL};
  cmd_result r;
  run_cmd(argv, 30, &r);
  cr_assert(r.exited && r.code == 0, "exit %d: %s", r.code, r.err);
  cr_assert_eq(count_lines(r.out), 1, "%s", r.out);
  json_t *o = json_of(&r);
  cr_assert_str_eq(json_string_value(json_object_get(o, "tool")), "easystart");
  cr_assert_eq(json_integer_value(json_object_get(o, "jobs_sent")), 30);
  double t = json_real_value(json_object_get(o, "first_runs_s"));
  double per = json_real_value(json_object_get(o, "us_per_job"));
  cr_assert_gt(t, 0);
  cr_assert_float_eq(per * 30, t * 1e6, 1e-3 * t * 1e6, "us_per_job %f x 30 vs first_runs_s %f", per, t);
  cr_assert(json_is_null(json_object_get(o, "error")));
  json_decref(o);
  cmd_result_free(&r);
}

/* Each: the arguments, then the text the one stderr line must contain. */
static const char *const bad_inputs[][3] = {
    {"--tasks", "0", "--tasks: must be an integer from 1 to 20000"},
    {"--tasks", "20001", "--tasks: must be an integer from 1 to 20000"},
    {"--tasks", NULL, "--tasks: must be an integer from 1 to 20000"},
    {"--server", NULL, "--server: needs a URL"},
    {"--server", "http://192.0.2.1:80", "--server: only loopback servers are allowed"},
    {"--bogus", "1", "unknown option '--bogus'"},
};

Test(easystart, bad_input_exits_2_with_one_line) {
  for (size_t k = 0; k < sizeof bad_inputs / sizeof bad_inputs[0]; k++) {
    char *argv[] = {CB_BIN_DIR "/easystart", (char *)bad_inputs[k][0], (char *)bad_inputs[k][1], NULL};
    cmd_result r;
    run_cmd(argv, 10, &r);
    cr_assert(r.exited && r.code == 2, "%s %s: exit %d", argv[1], argv[2] ? argv[2] : "", r.code);
    cr_assert_eq(count_lines(r.err), 1, "%s", r.err);
    cr_assert(strstr(r.err, bad_inputs[k][2]), "expected '%s' in: %s", bad_inputs[k][2], r.err);
    cr_assert_str_eq(r.out, "");
    cmd_result_free(&r);
  }
}

Test(easystart, unreachable_server_is_refused) {
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", unused_loopback_port());
  char *argv[] = {CB_BIN_DIR "/easystart", "--server", url, NULL};
  cmd_result r;
  run_cmd(argv, 10, &r);
  cr_assert(r.exited && r.code == 2, "exit %d", r.code);
  cr_assert(strstr(r.err, "--server: cannot connect"), "%s", r.err);
  cmd_result_free(&r);
}

/* As in test_httpfloor: the lowered limit stays in this test's process; one that
 * may raise its hard limit again passes that on, and easystart would lift it. */
Test(easystart, out_of_descriptors_exits_3, .timeout = 30) {
  struct rlimit rl = {.rlim_cur = 64, .rlim_max = 64}, more = {.rlim_cur = 64, .rlim_max = 65};
  cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
  if (setrlimit(RLIMIT_NOFILE, &more) == 0) cr_skip_test("this process may raise its descriptor hard limit");
  char *argv[] = {CB_BIN_DIR "/easystart", "--tasks", "200", NULL};
  cmd_result r;
  run_cmd(argv, 20, &r);
  cr_assert(r.exited && r.code == 3, "exit %d: %s", r.code, r.err);
  json_t *o = json_of(&r);
  cr_assert(json_is_null(json_object_get(o, "first_runs_s")));
  cr_assert_lt(json_integer_value(json_object_get(o, "jobs_sent")), 200);
  cr_assert(strstr(json_string_value(json_object_get(o, "error")), "Too many open files"), "%s", r.out);
  json_decref(o);
  cmd_result_free(&r);
}
