/* test_peers.c — the peers (runtimes/peer/README.md): list marks every peer and says
 * what a missing one needs; a run of a missing one is a usage error naming the
 * Debian package (simulated by CONCBENCH_PEER_PYTHON / CONCBENCH_PEER_GO pointing
 * nowhere); every installed peer verifies small cells of pow, http (a body whose
 * length is not a multiple of 8), sleep and spawn, with a unit per job and with a
 * pool, and says so for the pairs it has no version of; a peer that answers
 * wrongly, dies, leaves a job out or breaks the protocol fails the cell with no
 * speed; a killed run leaves no peer process behind. Peers not installed here are
 * skipped with the reason (a fresh Debian 12 without them passes). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "harness/report/peers.h"
#include "runtimes/runtime.h"
#include "tests/helpers/proctree.h"
#include "tests/helpers/run_cmd.h"

#define CONCBENCH CB_BIN_DIR "/concbench"
#define FAKE_PEER CB_SRC_DIR "/tests/fixtures/fake-peer"

/* The peer programs are beside bin/concbench; in-process checks (available) look
 * there too, not beside this test binary. */
static void peers_beside_concbench(void) { setenv("CONCBENCH_PEERS_DIR", CB_BIN_DIR "/peers", 1); }

TestSuite(peers, .init = peers_beside_concbench, .timeout = 240);

static json_t *record_of(const cmd_result *r) {
  json_error_t e;
  return json_loads(r->out, JSON_DISABLE_EOF_CHECK, &e);
}

Test(peers, list_marks_every_peer) {
  char *argv[] = {CONCBENCH, "list", NULL}, *jargv[] = {CONCBENCH, "list", "--json", NULL};
  cmd_result r, j;
  run_cmd(argv, 30, &r);
  run_cmd(jargv, 30, &j);
  cr_assert_eq(r.code, 0);
  cr_assert_eq(j.code, 0);
  json_t *o = record_of(&j), *peers = json_object_get(o, "peers");
  size_t n;
  const cb_model *const *all = cb_peer_all(&n);
  cr_assert(n >= 9 && json_array_size(peers) == n);
  for (size_t k = 0; k < n; k++) {
    char line[64];
    snprintf(line, sizeof line, "  %-16s [peer", all[k]->name);
    cr_expect(strstr(r.out, line) != NULL, "list does not mark %s as a peer:\n%s", all[k]->name, r.out);
    json_t *p = json_array_get(peers, k);
    cr_expect_str_eq(json_string_value(json_object_get(p, "name")), all[k]->name);
    cr_expect(json_is_true(json_object_get(p, "peer")));
    char why[512];
    int installed = all[k]->available(why, sizeof why) == 0;
    cr_expect_eq(json_is_true(json_object_get(p, "installed")), installed);
    cr_expect_eq(json_object_get(p, "missing") != NULL, !installed);
    cr_expect(cb_model_find(all[k]->name) == all[k]);
  }
  size_t nm;
  const cb_model *const *models = cb_model_all(&nm);
  for (size_t k = 0; k < nm; k++) cr_expect(!models[k]->peer, "%s: a peer among the bench's models", models[k]->name);
  json_decref(o);
  cmd_result_free(&r);
  cmd_result_free(&j);
}

/* A missing interpreter or program: list says what is needed, run exits 2 with one
 * line naming the package. */
static void expect_missing(const char *env, const char *model, const char *package) {
  setenv(env, "/nonexistent/peer-program", 1);
  char *argv[] = {CONCBENCH, "run", "--model", (char *)model, "--workload", "sleep", "--tasks", "1", NULL};
  char *largv[] = {CONCBENCH, "list", NULL};
  cmd_result r, l;
  run_cmd(argv, 30, &r);
  run_cmd(largv, 30, &l);
  unsetenv(env);
  cr_expect(r.exited && r.code == CB_EXIT_USAGE, "%s: exit %d, want %d", model, r.code, CB_EXIT_USAGE);
  cr_expect_eq(count_lines(r.err), 1, "%s: not one line: %s", model, r.err);
  cr_expect(strstr(r.err, "--model") && strstr(r.err, package), "%s: '%s' does not name %s", model, r.err, package);
  cr_expect_str_empty(r.out);
  char want[128];
  snprintf(want, sizeof want, "  %-16s [peer, not installed: needs %s", model, package);
  cr_expect(strstr(l.out, want) != NULL, "list does not say %s needs %s:\n%s", model, package, l.out);
  cmd_result_free(&r);
  cmd_result_free(&l);
}

Test(peers, a_missing_peer_is_a_usage_error_naming_the_package) {
  expect_missing("CONCBENCH_PEER_PYTHON", "py-asyncio", "python3");
  expect_missing("CONCBENCH_PEER_PYTHON", "py-sync", "python3");
  expect_missing("CONCBENCH_PEER_GO", "go", "golang-go");
}

/* The pairs a peer has no version of (exit 4, like a model's -ENOTSUP). */
static int unsupported(const char *model, const char *workload) {
  return strcmp(workload, "spawn") == 0 && (strcmp(model, "py-sync") == 0 || strcmp(model, "py-procs") == 0);
}

static const char *const cells[][3] = {
    /* workload, its small parameters */
    {"pow", "exp=3000", NULL},
    {"http", "delay_ms=5", "bytes=1001"}, /* a tail of 1 byte: the digest's byte terms */
    {"sleep", "ms=5", NULL},
    {"spawn", "leaves=57", "fanout=4"},
};

ParameterizedTestParameters(peers, every_installed_peer_verifies_small_cells) {
  size_t n;
  cb_peer_all(&n);
  static size_t idx[32];
  for (size_t k = 0; k < n; k++) idx[k] = k;
  return cr_make_param_array(size_t, idx, n);
}

ParameterizedTest(size_t *k, peers, every_installed_peer_verifies_small_cells) {
  size_t n;
  const cb_model *m = cb_peer_all(&n)[*k];
  char why[512];
  if (m->available(why, sizeof why) != 0) cr_skip_test("%s is not installed here: it %s", m->name, why);
  for (size_t c = 0; c < sizeof cells / sizeof cells[0]; c++) {
    for (int pool = 0; pool < 2; pool++) {
      char *argv[16] = {CONCBENCH, "run", "--model", (char *)m->name, "--workload", (char *)cells[c][0],
                        "--tasks", "5", "--param", (char *)cells[c][1]};
      int a = 10;
      if (cells[c][2]) argv[a++] = "--param", argv[a++] = (char *)cells[c][2];
      if (pool) argv[a++] = "--concurrency", argv[a++] = "2";
      argv[a] = NULL;
      cmd_result r;
      run_cmd(argv, 120, &r);
      if (unsupported(m->name, cells[c][0])) {
        cr_expect_eq(r.code, CB_EXIT_UNSUPPORTED, "%s %s: exit %d, want %d", m->name, cells[c][0], r.code,
                     CB_EXIT_UNSUPPORTED);
        cmd_result_free(&r);
        continue;
      }
      json_t *o = record_of(&r);
      cr_expect(r.exited && r.code == 0, "%s %s C=%s: exit %d: %s", m->name, cells[c][0], pool ? "2" : "0", r.code,
                r.err);
      cr_expect(o && json_is_true(json_object_get(o, "verified")), "%s %s: not verified: %s", m->name, cells[c][0],
                r.out);
      cr_expect(json_is_number(json_object_get(o, "wall_s")) && json_is_number(json_object_get(o, "startup_s")));
      cr_expect(json_real_value(json_object_get(o, "user_s")) + json_real_value(json_object_get(o, "sys_s")) > 0,
                "%s: no CPU time", m->name);
      cr_expect(json_integer_value(json_object_get(o, "max_rss_kb")) > 0);
      cr_expect_eq(json_integer_value(json_object_get(o, "jobs_ok")), 5);
      json_decref(o);
      cmd_result_free(&r);
    }
  }
}

/* The fake peer (tests/fixtures/fake-peer) in the Go peer's place. */
static void expect_failed(const char *mode, const char *needle) {
  setenv("CONCBENCH_PEER_GO", FAKE_PEER, 1);
  setenv("FAKE_PEER", mode, 1);
  char *argv[] = {CONCBENCH, "run", "--model", "go", "--workload", "sleep", "--tasks", "3", "--param", "ms=1", NULL};
  cmd_result r;
  run_cmd(argv, 30, &r);
  json_t *o = record_of(&r);
  cr_expect(r.exited && r.code == CB_EXIT_FAILED, "%s: exit %d, want %d: %s", mode, r.code, CB_EXIT_FAILED, r.err);
  cr_assert(o != NULL, "%s: no record: %s", mode, r.out);
  cr_expect(json_is_false(json_object_get(o, "verified")), "%s", mode);
  cr_expect(json_is_null(json_object_get(o, "wall_s")), "%s: a speed for a failed peer", mode);
  const char *err = json_string_value(json_object_get(o, "error"));
  cr_expect(err && strstr(err, needle), "%s: error '%s' does not say '%s'", mode, err ? err : "(none)", needle);
  json_decref(o);
  cmd_result_free(&r);
}

Test(peers, a_peer_that_answers_wrongly_or_dies_fails_the_cell) {
  expect_failed("wrong", "wrong result");
  expect_failed("die", "killed by signal 9");
  expect_failed("garbage", "out of protocol");
  expect_failed("short", "");
}

/* SIGKILL of a run whose peer has children (py-procs: a process per job;
 * py-asyncio-idiom's pow: a ProcessPoolExecutor of 2): none of its descendants
 * survives. */
static void killed_run_case(const char *model, const char *workload, const char *param, int want) {
  const cb_model *m = cb_model_find(model);
  char why[512];
  if (m->available(why, sizeof why) != 0) cr_skip_test("%s is not installed here: it %s", model, why);
  char *argv[] = {CONCBENCH, "run", "--model", (char *)model, "--workload", (char *)workload, "--tasks", "3",
                  "--param", (char *)param, NULL};
  pid_t parent = getpid(), pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    if (!freopen("/dev/null", "w", stdout)) _exit(127);
    execv(argv[0], argv);
    _exit(127);
  }
  pid_t kids[64];
  int n = 0;
  for (int k = 0; k < 600 && n < want; k++) { /* the interpreter and its children */
    usleep(50 * 1000);
    n = proc_add_descendants(pid, kids, n, 64);
  }
  cr_assert(n >= want, "%s: the peer did not get going within 30 s (%d descendants)", model, n);
  kill(pid, SIGKILL);
  int status;
  waitpid(pid, &status, 0);
  int left = n;
  for (int k = 0; k < 100 && left > 0; k++) {
    usleep(50 * 1000);
    left = 0;
    for (int j = 0; j < n; j++) left += proc_alive(kids[j]);
  }
  for (int j = 0; j < n; j++)
    if (proc_alive(kids[j])) {
      cr_expect(0, "%s: descendant %d still runs 5 s after the run was killed", model, (int)kids[j]);
      kill(kids[j], SIGKILL);
    }
}

Test(peers, a_killed_run_leaves_no_peer_process) { killed_run_case("py-procs", "sleep", "ms=60000", 4); }

Test(peers, a_killed_run_leaves_no_process_pool_worker) {
  killed_run_case("py-asyncio-idiom", "pow", "exp=10000000", 3);
}

/* The bench takes peers by name only when installed, and the report marks them. */
Test(peers, bench_and_report_mark_peers) {
  setenv("CONCBENCH_PEER_PYTHON", "/nonexistent/peer-program", 1);
  char *argv[] = {CONCBENCH, "bench", "--profile", "quick", "--models", "loop,py-gevent", "--results", "/nonexistent",
                  NULL};
  cmd_result r;
  run_cmd(argv, 30, &r);
  unsetenv("CONCBENCH_PEER_PYTHON");
  cr_expect(r.exited && r.code == CB_EXIT_USAGE, "exit %d: %s", r.code, r.err);
  cr_expect(strstr(r.err, "--models") && strstr(r.err, "python3"), "'%s' does not name --models and python3", r.err);
  cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
  cmd_result_free(&r);
  char buf[64];
  cr_expect(cb__report_is_peer("py-asyncio") && cb__report_is_peer("go"));
  cr_expect(!cb__report_is_peer("loop") && !cb__report_is_peer("no-such-model"));
  cr_expect_str_eq(cb__report_label("py-gevent", buf, sizeof buf), "py-gevent (peer)");
  cr_expect_str_eq(cb__report_label("green", buf, sizeof buf), "green");
}
