/* test_damaged.c — a damaged run folder is never read silently: a cells.jsonl line
 * cut short (last or middle), random bytes appended, JSON that is not a cell record,
 * and a truncated meta.json each make report, compare (either side) and advise --run
 * exit 2 with one line naming the file, the line and what is wrong; --skip-damaged
 * lists what it skips (file:line) and goes on; a resumed bench moves a damaged line
 * to cells.jsonl.damaged with one line and runs that cell again. The damage is done
 * to copies of tests/fixtures/run-small (12 records, one per line). A damaged line
 * among a cell's timed-run records (cells/ID.jsonl) is named in its error. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/helpers/run_cmd.h"

#define CONCBENCH CB_BIN_DIR "/concbench"
#define FIXTURE CB_SRC_DIR "/tests/fixtures/run-small"
#define FIXTURE_LINES 12

static char good[256], bad[256]; /* an intact copy and one to damage */

static void sh(const char *fmt, const char *a, const char *b) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, fmt, a, b);
  cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
}

static void copies(void) {
  snprintf(good, sizeof good, "/tmp/cb-test-dmg-%d-good", (int)getpid());
  snprintf(bad, sizeof bad, "/tmp/cb-test-dmg-%d-bad", (int)getpid());
  sh("rm -rf %s && cp -r " FIXTURE " %s", good, good);
  sh("rm -rf %s && cp -r " FIXTURE " %s", bad, bad);
}

static void remove_copies(void) {
  sh("rm -rf %s %s", good, bad);
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "cannot read %s", path);
  char *buf = calloc(1, 1 << 20);
  *len = fread(buf, 1, (1 << 20) - 1, f);
  fclose(f);
  return buf;
}

static void spit(const char *path, const char *buf, size_t len, const char *mode) {
  FILE *f = fopen(path, mode);
  cr_assert_not_null(f, "cannot write %s", path);
  cr_assert_eq(fwrite(buf, 1, len, f), len);
  fclose(f);
}

static void cells_path(char *buf, size_t cap, const char *dir) { snprintf(buf, cap, "%s/cells.jsonl", dir); }

/* Keeps the first `keep` bytes of line `lineno` (1-based) and drops the rest of it,
 * newline included when `newline` is 0. */
static void cut_line(const char *path, int lineno, size_t keep, int newline) {
  size_t len;
  char *s = slurp(path, &len), *p = s;
  for (int k = 1; k < lineno; k++) p = strchr(p, '\n') + 1;
  char *end = strchr(p, '\n');
  cr_assert(end && (size_t)(end - p) > keep);
  FILE *f = fopen(path, "wb");
  fwrite(s, 1, (size_t)(p - s) + keep, f);
  if (newline) fputs("\n", f);
  fputs(end + 1, f);
  fclose(f);
  free(s);
}

/* The command's damaged side is `bad`; the other (compare) is intact. */
typedef struct cmd_case {
  const char *name;
  char *argv[12];
} cmd_case;

static int make_cases(cmd_case *c, const char *skip) {
  int n = 0;
  c[n++] = (cmd_case){"report", {CONCBENCH, "report", bad, (char *)skip, NULL}};
  c[n++] = (cmd_case){"compare A", {CONCBENCH, "compare", bad, good, (char *)skip, NULL}};
  c[n++] = (cmd_case){"compare B", {CONCBENCH, "compare", good, bad, (char *)skip, NULL}};
  c[n++] = (cmd_case){"advise", {CONCBENCH, "advise", "--cpu-ms", "1", "--io-ms", "10", "--tasks", "10", "--run", bad,
                                 (char *)skip, NULL}};
  return n;
}

/* Every command refuses the damaged run: exit 2, and a line of stderr starts with
 * "concbench: FILE:LINE: " and holds `what`. */
static void refused(const char *file, int line, const char *what) {
  cmd_case c[4];
  int n = make_cases(c, NULL);
  char where[600];
  snprintf(where, sizeof where, "concbench: %s/%s:%d: ", bad, file, line);
  for (int k = 0; k < n; k++) {
    cmd_result r;
    run_cmd(c[k].argv, 60, &r);
    cr_expect(r.exited && r.code == 2, "%s: exit %d, not 2; stderr: %s", c[k].name, r.code, r.err);
    const char *at = strstr(r.err, where);
    cr_expect(at && (at == r.err || at[-1] == '\n'), "%s: no line starting '%s' in: %s", c[k].name, where, r.err);
    if (at) {
      char *one = strndup(at, strcspn(at, "\n"));
      cr_expect(strstr(one, what), "%s: '%s' does not say '%s'", c[k].name, one, what);
      free(one);
    }
    cmd_result_free(&r);
  }
}

TestSuite(damaged, .init = copies, .fini = remove_copies, .timeout = 120);

Test(damaged, last_line_cut_short) {
  char p[512];
  cells_path(p, sizeof p, bad);
  size_t len;
  char *s = slurp(p, &len);
  spit(p, s, len - 40, "wb"); /* a crash mid-append: no newline */
  free(s);
  refused("cells.jsonl", FIXTURE_LINES, "cut short");
}

Test(damaged, middle_line_cut_short) {
  char p[512];
  cells_path(p, sizeof p, bad);
  cut_line(p, 4, 50, 1);
  refused("cells.jsonl", 4, "not JSON");
}

Test(damaged, random_bytes_appended) {
  char p[512], junk[3000];
  uint64_t x = 0x2545f4914f6cdd1dULL;
  for (size_t k = 0; k < sizeof junk; k++) { /* xorshift: the same bytes every time */
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    junk[k] = (char)(x >> 56);
  }
  junk[0] = '\x8f'; /* the first appended line is surely not JSON */
  cells_path(p, sizeof p, bad);
  spit(p, junk, sizeof junk, "ab");
  refused("cells.jsonl", FIXTURE_LINES + 1, "not JSON");
}

Test(damaged, json_missing_keys) {
  char p[512];
  cells_path(p, sizeof p, bad);
  const char *line = "{\"key\":\"k\",\"id\":\"x\",\"status\":\"ok\"}\n";
  spit(p, line, strlen(line), "ab");
  refused("cells.jsonl", FIXTURE_LINES + 1, "\"model\" is missing");
}

Test(damaged, json_wrong_types) {
  char p[512];
  cells_path(p, sizeof p, bad);
  /* line 2 of the fixture with tasks as a string */
  size_t len;
  char *s = slurp(p, &len);
  char *l2 = strchr(s, '\n') + 1, *t = strstr(l2, "\"tasks\":");
  cr_assert(t && t < strchr(l2, '\n'));
  FILE *f = fopen(p, "wb");
  fwrite(s, 1, (size_t)(t - s) + 8, f);
  fputs("\"ten\",\"was\":", f); /* "tasks":"ten","was":N,... */
  fputs(t + 8, f);
  fclose(f);
  free(s);
  refused("cells.jsonl", 2, "\"tasks\" is a string, should be an integer");
}

Test(damaged, json_not_an_object) {
  char p[512];
  cells_path(p, sizeof p, bad);
  spit(p, "[1,2,3]\n", 8, "ab");
  refused("cells.jsonl", FIXTURE_LINES + 1, "not a cell record");
}

Test(damaged, ok_cell_without_times) {
  char p[512];
  cells_path(p, sizeof p, bad);
  size_t len;
  char *s = slurp(p, &len);
  char *t = strstr(s, "\"times\":[");
  cr_assert_not_null(t);
  memcpy(t, "\"tymes\"", 7); /* an ok cell with nothing for compare to resample */
  int line = 1;
  for (char *q = s; q < t; q++) line += *q == '\n';
  spit(p, s, len, "wb");
  free(s);
  refused("cells.jsonl", line, "\"times\" is missing");
}

Test(damaged, ok_run_figure_of_wrong_type) {
  char p[512];
  cells_path(p, sizeof p, bad);
  size_t len;
  char *s = slurp(p, &len);
  char *t = strstr(s, "\"wall_s\":"); /* the first ok cell's first run */
  cr_assert_not_null(t);
  int line = 1;
  for (char *q = s; q < t; q++) line += *q == '\n';
  FILE *f = fopen(p, "wb");
  fwrite(s, 1, (size_t)(t - s) + 9, f);
  fputs("\"fast\",\"was\":", f); /* "wall_s":"fast","was":0.01,... */
  fputs(t + 9, f);
  fclose(f);
  free(s);
  refused("cells.jsonl", line, "\"runs\"[0].wall_s is a string, should be a number");
}

Test(damaged, meta_json_truncated) {
  char p[512];
  snprintf(p, sizeof p, "%s/meta.json", bad);
  size_t len;
  char *s = slurp(p, &len);
  cr_assert_gt(len, 60);
  char *third = strchr(strchr(s, '\n') + 1, '\n') + 1; /* cut inside line 3 */
  spit(p, s, (size_t)(third - s) + 5, "wb");
  free(s);
  refused("meta.json", 3, "not JSON");
}

/* --skip-damaged: every command goes on (exit 0) and lists each skipped line. */
Test(damaged, skip_damaged_lists_and_proceeds) {
  char p[512];
  cells_path(p, sizeof p, bad);
  cut_line(p, 4, 50, 1);
  size_t len;
  char *s = slurp(p, &len);
  spit(p, s, len - 40, "wb");
  free(s);
  cmd_case c[4];
  int n = make_cases(c, "--skip-damaged");
  char l4[600], l12[600];
  snprintf(l4, sizeof l4, "concbench: skipped %s/cells.jsonl:4: not JSON", bad);
  snprintf(l12, sizeof l12, "concbench: skipped %s/cells.jsonl:%d: cut short", bad, FIXTURE_LINES);
  for (int k = 0; k < n; k++) {
    cmd_result r;
    run_cmd(c[k].argv, 60, &r);
    cr_expect(r.exited && r.code == 0, "%s --skip-damaged: exit %d; stderr: %s", c[k].name, r.code, r.err);
    cr_expect(strstr(r.err, l4) && strstr(r.err, l12), "%s: skipped lines not listed: %s", c[k].name, r.err);
    cmd_result_free(&r);
  }
  /* compare matched the cells left: 12 in A, 10 in B (two lines skipped) */
  cmd_result r;
  char *argv[] = {CONCBENCH, "compare", "--skip-damaged", good, bad, NULL};
  run_cmd(argv, 60, &r);
  cr_expect(strstr(r.out, "(12 in A, 10 in B)"), "compare: %s", r.out);
  cmd_result_free(&r);
}

/* An intact run is read as before: no line on stderr from the reader. */
Test(damaged, intact_run_is_accepted) {
  char *argv[] = {CONCBENCH, "compare", good, good, NULL};
  cmd_result r;
  run_cmd(argv, 60, &r);
  cr_expect_eq(r.code, 0, "exit %d: %s", r.code, r.err);
  cr_expect_null(strstr(r.err, "concbench:"), "stderr: %s", r.err);
  cmd_result_free(&r);
}

/* The records of a cells.jsonl: every line must parse as an object with a key. */
static json_t *records(const char *path) {
  size_t len;
  char *s = slurp(path, &len);
  json_t *all = json_array();
  for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
    json_t *o = json_loads(line, 0, NULL);
    cr_assert(json_is_string(json_object_get(o, "key")), "%s: a line is not a record: %.80s", path, line);
    json_array_append_new(all, o);
  }
  free(s);
  return all;
}

/* A resumed bench moves a damaged line aside with one message and re-runs its cell;
 * the next append starts a line of its own. */
static void bench_resume_after(int middle) {
  char *argv[] = {CONCBENCH, "bench", "--results", bad, "--run-id", "r", "--models", "sync", "--workloads", "sleep",
                  "--tasks", "10,20", "--runs", "2", "--param", "ms=1", NULL};
  sh("rm -rf %s && mkdir -p %s", bad, bad);
  cmd_result r;
  run_cmd(argv, 120, &r);
  cr_assert_eq(r.code, 0, "first bench: exit %d: %s", r.code, r.err);
  cmd_result_free(&r);
  char p[600], aside[640];
  snprintf(p, sizeof p, "%s/r/cells.jsonl", bad);
  snprintf(aside, sizeof aside, "%s.damaged", p);
  json_t *before = records(p);
  cr_assert_eq(json_array_size(before), 2);
  int line = middle ? 1 : 2;
  if (middle) {
    cut_line(p, 1, 60, 1);
  } else {
    size_t len;
    char *s = slurp(p, &len);
    spit(p, s, len - 30, "wb"); /* a torn last line */
    free(s);
  }
  run_cmd(argv, 120, &r);
  cr_expect_eq(r.code, 0, "resumed bench: exit %d: %s", r.code, r.err);
  char want[800];
  snprintf(want, sizeof want, "bench: %s:%d: ", p, line);
  const char *at = strstr(r.err, want);
  cr_expect(at && strstr(at, "moved to") && strstr(at, aside) < strchr(at, '\n'), "no message '%s...moved to %s': %s",
            want, aside, r.err);
  cr_expect(strstr(r.err, "2 cells (1 already done)"), "the damaged cell is not re-run: %s", r.err);
  cmd_result_free(&r);
  json_t *after = records(p);
  cr_expect_eq(json_array_size(after), 2, "cells.jsonl has %zu records", json_array_size(after));
  for (size_t k = 0; k < 2; k++) { /* each planned cell once */
    int found = 0;
    for (size_t j = 0; j < json_array_size(after); j++)
      found += json_equal(json_object_get(json_array_get(before, k), "key"),
                          json_object_get(json_array_get(after, j), "key"));
    cr_expect_eq(found, 1, "cell %zu recorded %d times", k, found);
  }
  size_t len;
  char *moved = slurp(aside, &len);
  cr_expect_eq(count_lines(moved), 1, "%s: %s", aside, moved);
  free(moved);
  json_decref(before);
  json_decref(after);
}

Test(damaged, bench_resume_moves_torn_last_line_aside) { bench_resume_after(0); }

Test(damaged, bench_resume_moves_cut_middle_line_aside) { bench_resume_after(1); }

/* A damaged line among a cell's timed-run records (cells/ID.jsonl) is named, file and
 * line, in the cell's error, and the cell is not ok. hyperfine is replaced by a script
 * that runs the command R times and then appends a cut-short line to those records. */
Test(damaged, bench_names_a_damaged_run_record) {
  static const char fake[] =
      "#!/bin/sh\n"
      "[ \"$1\" = --version ] && { echo 'hyperfine 1.15.0'; exit 0; }\n" /* meta.sh asks */
      "while [ $# -gt 1 ]; do\n"
      "  case \"$1\" in --runs) n=$2; shift ;; --export-json) e=$2; shift ;; esac\n"
      "  shift\n"
      "done\n"
      "out=${1##* --out }\n"
      "i=0; t=''\n"
      "while [ \"$i\" -lt \"$n\" ]; do $1 > /dev/null || exit 1; i=$((i + 1)); t=\"$t${t:+,}0.01\"; done\n"
      "printf '{\"model\":\"sy\\n' >> \"$out\"\n"
      "printf '{\"results\":[{\"times\":[%s],\"user\":0,\"system\":0}]}\\n' \"$t\" > \"$e\"\n";
  char bin[600], script[700], path[4096], p[700];
  sh("rm -rf %s && mkdir -p %s/bin", bad, bad);
  snprintf(bin, sizeof bin, "%s/bin", bad);
  snprintf(script, sizeof script, "%s/hyperfine", bin);
  spit(script, fake, strlen(fake), "wb");
  sh("chmod +x %s%s", script, "");
  snprintf(path, sizeof path, "%s:%s", bin, getenv("PATH"));
  setenv("PATH", path, 1);
  char *argv[] = {CONCBENCH, "bench", "--results", bad, "--run-id", "r", "--models", "sync", "--workloads", "sleep",
                  "--tasks", "10", "--runs", "2", "--param", "ms=1", NULL};
  cmd_result r;
  run_cmd(argv, 120, &r);
  snprintf(p, sizeof p, "%s/r/cells.jsonl", bad);
  json_t *recs = records(p);
  cr_assert_eq(json_array_size(recs), 1, "bench: exit %d: %s", r.code, r.err);
  json_t *rec = json_array_get(recs, 0);
  char want[400];
  snprintf(want, sizeof want, "cells/%s.jsonl:3: ", json_string_value(json_object_get(rec, "id")));
  const char *status = json_string_value(json_object_get(rec, "status")), *err = json_string_value(json_object_get(rec, "error"));
  cr_expect_str_eq(status, "bad_exit", "status %s, error %s", status, err);
  cr_expect(err && strstr(err, want), "error '%s' does not name %s", err, want);
  cmd_result_free(&r);
  json_decref(recs);
}
