/* test_serve_cell.c — a server workload's cell end to end (`concbench run`, bin/loadgen,
 * the model serving in its own process): every model's server verifies under the
 * generator and its record has the server keys; sync, which serves one connection at
 * a time, fails with many keep-alive connections and says why; a model or workload
 * without a version exits 4; a server killed mid-run ends the cell by the same signal
 * after its record, with nothing left running; `concbench serve` + `run --target` work
 * as a pair; remote addresses need --allow-remote. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "tests/helpers/proctree.h"
#include "tests/helpers/run_cmd.h"

#define CONCBENCH CB_BIN_DIR "/concbench"

static json_t *record_of(const cmd_result *r) {
  json_error_t je;
  json_t *o = json_loads(r->out, JSON_DISABLE_EOF_CHECK, &je);
  cr_assert(json_is_object(o), "no record (exit %d): stdout '%s' stderr '%s'", r->code, r->out, r->err);
  return o;
}

static long long int_of(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

/* A short closed-loop cell: 0.3 s window. */
static void run_cell(const char *model, const char *workload, const char *tasks, const char *extra, cmd_result *r) {
  char *argv[24];
  int n = 0;
  argv[n++] = CONCBENCH, argv[n++] = "run", argv[n++] = "--model", argv[n++] = (char *)model;
  argv[n++] = "--workload", argv[n++] = (char *)workload, argv[n++] = "--tasks", argv[n++] = (char *)tasks;
  argv[n++] = "--param", argv[n++] = "duration_ms=300", argv[n++] = "--param", argv[n++] = "warmup_ms=50";
  if (extra) argv[n++] = "--param", argv[n++] = (char *)extra;
  argv[n] = NULL;
  run_cmd(argv, 120, r);
}

static void check_verified(const char *model, const char *workload) {
  cmd_result r;
  run_cell(model, workload, "8", NULL, &r);
  json_t *o = record_of(&r);
  cr_assert(r.exited && r.code == 0, "%s/%s exit %d: %s", model, workload, r.code, r.err);
  cr_expect(json_is_true(json_object_get(o, "verified")));
  cr_expect_str_eq(json_string_value(json_object_get(o, "kind")), "server");
  cr_expect_eq(int_of(o, "tasks"), 8);
  cr_expect_gt(json_number_value(json_object_get(o, "req_per_s")), 0);
  cr_expect_gt(int_of(o, "jobs_ok"), 0);
  cr_expect_eq(int_of(o, "jobs_failed"), 0);
  cr_expect_eq(int_of(o, "jobs_wrong"), 0);
  cr_expect_str_eq(json_string_value(json_object_get(o, "checksum")),
                   json_string_value(json_object_get(o, "expected_checksum")));
  json_t *served = json_object_get(o, "served");
  cr_expect_geq(int_of(served, "requests"), int_of(o, "jobs_ok"), "the server answered fewer than were checked");
  cr_expect_geq(int_of(served, "accepted"), 8);
  cr_expect_eq(int_of(served, "bad_requests"), 0);
  cr_expect_str_eq(json_string_value(json_object_get(o, "mode")), "closed");
  cr_expect(json_is_null(json_object_get(o, "rate")));
  cr_expect(json_is_object(json_object_get(o, "latency_uncorrected_ms")));
  cr_expect(json_is_string(json_object_get(o, "server_cpus")));
  cr_expect(json_is_number(json_object_get(o, "generator_cpu")));
  json_decref(o);
  cmd_result_free(&r);
}

/* Parameters hold their strings (Criterion runs each test in a new process). */
typedef struct pair {
  char model[16], workload[16];
} pair;

ParameterizedTestParameters(serve_cell, verifies) {
  static pair p[] = {{"threads", "serve"}, {"procs", "serve"}, {"green", "serve"}, {"loop", "serve"},
                     {"nginx", "serve"},   {"threads", "echo"},  {"procs", "echo"},  {"green", "echo"},
                     {"loop", "echo"}};
  return cr_make_param_array(pair, p, sizeof p / sizeof *p);
}

ParameterizedTest(pair *p, serve_cell, verifies, .timeout = 120) { check_verified(p->model, p->workload); }

Test(serve_cell, sync_serves_one_connection_and_fails_with_more, .timeout = 120) {
  cmd_result r;
  run_cell("sync", "serve", "1", NULL, &r);
  json_t *o = record_of(&r);
  cr_expect(r.exited && r.code == 0, "one connection: exit %d: %s", r.code, r.err);
  cr_expect_eq(int_of(o, "concurrency"), 1);
  json_decref(o);
  cmd_result_free(&r);
  run_cell("sync", "serve", "4", "timeout_ms=300", &r);
  o = record_of(&r);
  cr_expect(r.exited && r.code == CB_EXIT_FAILED, "four keep-alive connections: exit %d", r.code);
  cr_expect(json_is_false(json_object_get(o, "verified")));
  cr_expect(json_is_null(json_object_get(o, "req_per_s")), "a run that did not verify has no speed");
  cr_expect_gt(int_of(o, "timeouts"), 0, "the connections sync never served time out");
  json_decref(o);
  cmd_result_free(&r);
}

Test(serve_cell, open_loop_offers_its_rate, .timeout = 120) {
  cmd_result r;
  run_cell("loop", "serve", "10", "rate=500", &r);
  json_t *o = record_of(&r);
  cr_assert(r.exited && r.code == 0, "exit %d: %s", r.code, r.err);
  cr_expect_str_eq(json_string_value(json_object_get(o, "mode")), "open");
  cr_expect_eq(json_number_value(json_object_get(o, "rate")), 500);
  /* Never above what it offers (closed loop here does tens of thousands); below it
   * only as far as a loaded machine holds the generator back. */
  double rps = json_number_value(json_object_get(o, "req_per_s"));
  cr_expect(rps > 0 && rps <= 500 * 1.05, "offered 500 req/s, got %.0f", rps);
  json_decref(o);
  cmd_result_free(&r);
}

Test(serve_cell, no_version_exits_4, .timeout = 60) {
  cmd_result r;
  run_cell("nginx", "echo", "2", NULL, &r);
  cr_expect(r.exited && r.code == CB_EXIT_UNSUPPORTED, "nginx echo: exit %d: %s", r.code, r.err);
  cmd_result_free(&r);
  run_cell("nginx", "serve", "2", "work_us=10", &r);
  cr_expect(r.exited && r.code == CB_EXIT_UNSUPPORTED, "nginx with CPU work: exit %d: %s", r.code, r.err);
  cmd_result_free(&r);
  char *argv[] = {CONCBENCH, "run", "--model", "nginx", "--workload", "sleep", "--tasks", "2", NULL};
  run_cmd(argv, 30, &r);
  cr_expect(r.exited && r.code == CB_EXIT_UNSUPPORTED, "nginx sleep: exit %d: %s", r.code, r.err);
  cmd_result_free(&r);
}

/* The processes whose command line equals pid's (the server: a fork of the run). */
static pid_t forked_twin(pid_t pid) {
  char path[64], mine[4096], theirs[4096];
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(mine, 1, sizeof mine, f);
  fclose(f);
  pid_t kids[64];
  int nk = proc_add_descendants(pid, kids, 0, 64);
  for (int k = 0; k < nk; k++) {
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)kids[k]);
    if (!(f = fopen(path, "r"))) continue;
    size_t m = fread(theirs, 1, sizeof theirs, f);
    fclose(f);
    pid_t ppid = 0;
    if (m == n && memcmp(mine, theirs, n) == 0 && proc_stat(kids[k], &ppid, NULL, 0) && ppid == pid) return kids[k];
  }
  return 0;
}

Test(serve_cell, a_killed_server_ends_the_cell_as_a_crash, .timeout = 120) {
  int po[2];
  cr_assert_eq(pipe(po), 0);
  pid_t parent = getpid(), pid = fork();
  if (pid == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    dup2(po[1], STDOUT_FILENO);
    close(po[0]);
    execl(CONCBENCH, CONCBENCH, "run", "--model", "threads", "--workload", "serve", "--tasks", "4", "--param",
          "duration_ms=20000", NULL);
    _exit(127);
  }
  close(po[1]);
  pid_t server = 0;
  for (int k = 0; k < 400 && !server; k++) { /* up to 20 s for the server to be forked */
    usleep(50 * 1000);
    server = forked_twin(pid);
  }
  cr_assert(server > 0, "no server process under the run");
  usleep(500 * 1000); /* the generator is at work */
  pid_t tree[64];
  int nt = proc_add_descendants(pid, tree, 0, 64);
  cr_assert_eq(kill(server, SIGKILL), 0);
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the run ended with status %#x, not by SIGKILL", status);
  char out[16384];
  ssize_t got = read(po[0], out, sizeof out - 1);
  out[got > 0 ? got : 0] = '\0';
  close(po[0]);
  json_t *o = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
  cr_assert(json_is_object(o), "no record before the crash: '%s'", out);
  cr_expect(json_is_false(json_object_get(o, "verified")));
  cr_expect(strstr(json_string_value(json_object_get(o, "error")), "signal 9") != NULL, "error: %s",
            json_string_value(json_object_get(o, "error")));
  json_decref(o);
  for (int k = 0; k < nt; k++) {
    for (int t = 0; t < 100 && proc_alive(tree[k]); t++) usleep(50 * 1000);
    cr_expect(!proc_alive(tree[k]), "process %d outlived the run", (int)tree[k]);
    if (proc_alive(tree[k])) kill(tree[k], SIGKILL);
  }
}

Test(serve_cell, serve_and_target_pair, .timeout = 120) {
  int pe[2], po[2];
  cr_assert_eq(pipe(pe), 0);
  cr_assert_eq(pipe(po), 0);
  pid_t parent = getpid(), pid = fork();
  if (pid == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    dup2(pe[1], STDERR_FILENO);
    dup2(po[1], STDOUT_FILENO);
    close(pe[0]), close(po[0]);
    execl(CONCBENCH, CONCBENCH, "serve", "--model", "loop", "--workload", "echo", "--seconds", "100", NULL);
    _exit(127);
  }
  close(pe[1]), close(po[1]);
  FILE *err = fdopen(pe[0], "r");
  char line[512], addr[128] = "";
  cr_assert_not_null(fgets(line, sizeof line, err), "serve printed nothing");
  char *on = strstr(line, " on ");
  cr_assert_not_null(on, "no address in '%s'", line);
  sscanf(on + 4, "%127[^;]", addr);
  char *argv[] = {CONCBENCH, "run", "--model", "loop", "--workload", "echo", "--tasks", "4", "--target", addr,
                  "--param", "duration_ms=300", NULL};
  cmd_result r;
  run_cmd(argv, 60, &r);
  json_t *o = record_of(&r);
  cr_expect(r.exited && r.code == 0, "run --target %s: exit %d: %s", addr, r.code, r.err);
  cr_expect_str_eq(json_string_value(json_object_get(o, "server_cpus")), "remote");
  json_decref(o);
  cmd_result_free(&r);
  kill(pid, SIGTERM);
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "serve ended with %#x", status);
  char out[4096];
  ssize_t got = read(po[0], out, sizeof out - 1);
  out[got > 0 ? got : 0] = '\0';
  json_t *t = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
  cr_assert(json_is_object(t), "serve printed no totals: '%s'", out);
  cr_expect_geq(int_of(json_object_get(t, "served"), "accepted"), 4);
  cr_expect_gt(int_of(json_object_get(t, "served"), "requests"), 0);
  json_decref(t);
  fclose(err);
  close(po[0]);
}

typedef struct bad {
  char args[10][24]; /* ended by "" */
  char names[24];    /* what the one line must mention */
} bad;

ParameterizedTestParameters(serve_cell, bad_input) {
  static bad b[] = {
      {{"run", "--model", "loop", "--workload", "echo", "--target", "8.8.8.8:80", ""}, "--target"},
      {{"run", "--model", "loop", "--workload", "echo", "--target", "nohost", ""}, "--target"},
      {{"run", "--model", "loop", "--workload", "sleep", "--target", "127.0.0.1:9", ""}, "--target"},
      {{"run", "--model", "loop", "--workload", "echo", "--allow-remote", ""}, "--allow-remote"},
      {{"serve", "--model", "loop", "--workload", "echo", "--listen", "0.0.0.0:0", ""}, "--listen"},
      {{"serve", "--model", "loop", "--workload", "echo", "--seconds", "0", ""}, "--seconds"},
      {{"serve", "--model", "loop", "--workload", "pow", ""}, "--workload"},
      {{"run", "--model", "loop", "--workload", "serve", "--param", "rate=-1", ""}, "rate"},
  };
  return cr_make_param_array(bad, b, sizeof b / sizeof *b);
}

ParameterizedTest(bad *b, serve_cell, bad_input, .timeout = 30) {
  char *argv[16] = {CONCBENCH};
  int n = 1;
  for (int k = 0; k < 10 && b->args[k][0]; k++) argv[n++] = (char *)b->args[k];
  argv[n] = NULL;
  cmd_result r;
  run_cmd(argv, 20, &r);
  cr_expect(r.exited && r.code == CB_EXIT_USAGE, "%s: exit %d: %s", b->names, r.code, r.err);
  cr_expect_eq(count_lines(r.err), 1, "not one line: %s", r.err);
  cr_expect(strstr(r.err, b->names) != NULL, "'%s' not named in: %s", b->names, r.err);
  cmd_result_free(&r);
}
