/* test_loopio_echobench.c — the echo benchmark tool: both servers echo every
 * byte, the JSON names both rates and the ratio; bad arguments exit 2. */
#include <criterion/criterion.h>
#include <jansson.h>

#include "tests/helpers/run_cmd.h"

Test(loopio_echobench, both_servers_echo_and_report, .timeout = 60) {
  char *argv[] = {CB_BIN_DIR "/echobench", "--conns", "20", "--size", "1024", "--count", "4000", "--seconds", "5",
                  "--slices", "4", NULL};
  cmd_result r;
  run_cmd(argv, 50, &r);
  cr_assert(r.exited && r.code == 0, "exit %d: %s", r.code, r.err);
  json_error_t je;
  json_t *o = json_loads(r.out, 0, &je);
  cr_assert_not_null(o, "not JSON: %s", r.out);
  const char *sides[] = {"libuv_callbacks", "loop_streams"};
  for (int k = 0; k < 2; k++) {
    json_t *s = json_object_get(o, sides[k]);
    cr_assert_not_null(s, "%s missing", sides[k]);
    cr_assert_eq(json_integer_value(json_object_get(s, "bad")), 0);
    cr_assert_eq(json_integer_value(json_object_get(s, "error")), 0);
    cr_assert_geq(json_integer_value(json_object_get(s, "round_trips")), 2000 - 20 * 2);
  }
  cr_assert_gt(json_real_value(json_object_get(o, "ratio")), 0.0);
  json_decref(o);
  cmd_result_free(&r);
}

Test(loopio_echobench, bad_arguments_exit_2) {
  char *argv[] = {CB_BIN_DIR "/echobench", "--conns", "0", NULL};
  cmd_result r;
  run_cmd(argv, 10, &r);
  cr_assert(r.exited && r.code == 2);
  cr_assert(strstr(r.err, "--conns"), "%s", r.err);
  cmd_result_free(&r);
}
