/* test_record.c — the run record's one definition (harness/run/record.h): the tables
 * of docs/run-record.md say exactly what the lists say, the writer's check refuses a
 * record that strays from the list, and a run's exit code and error_class map to the
 * class the bench files. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/run/record.h"

#define DOC CB_SRC_DIR "/docs/run-record.md"

TestSuite(record, .timeout = 30);

#define MAX_ROWS 64
#define MAX_COLS 4

typedef struct table {
  int nrows;
  char cell[MAX_ROWS][MAX_COLS][256];
} table;

/* Copies s[0..n) trimmed of blanks and of one pair of backticks around it. */
static void cell_text(char *dst, const char *s, size_t n) {
  while (n > 0 && s[0] == ' ') s++, n--;
  while (n > 0 && s[n - 1] == ' ') n--;
  if (n >= 2 && s[0] == '`' && s[n - 1] == '`') s++, n -= 2;
  if (n > 255) n = 255;
  memcpy(dst, s, n);
  dst[n] = '\0';
}

/* The rows of the markdown table of docs/run-record.md whose header line starts with
 * `header`; fails the test when there is no such table or a row has not ncols cells. */
static void read_table(const char *header, int ncols, table *t) {
  FILE *f = fopen(DOC, "r");
  cr_assert_not_null(f, "cannot read %s", DOC);
  char line[1024];
  int in = 0;
  t->nrows = 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    if (!in) {
      in = strncmp(line, header, strlen(header)) == 0;
      if (in && (!fgets(line, sizeof line, f) || strncmp(line, "|---", 4) != 0)) cr_assert_fail("no rule under %s", header);
      continue;
    }
    if (line[0] != '|') break;
    cr_assert_lt(t->nrows, MAX_ROWS);
    int c = 0;
    const char *p = line + 1;
    for (const char *bar; (bar = strchr(p, '|')) != NULL; p = bar + 1) {
      cr_assert_lt(c, ncols, "row with more than %d cells: %s", ncols, line);
      cell_text(t->cell[t->nrows][c++], p, (size_t)(bar - p));
    }
    cr_assert_eq(c, ncols, "row with %d cells, want %d: %s", c, ncols, line);
    t->nrows++;
  }
  fclose(f);
  cr_assert(in, "%s has no table headed '%s'", DOC, header);
}

/* Both directions: every listed key has its row with the same type, presence and
 * meaning, in the list's order, and there is no other row. */
Test(record, doc_key_table_is_the_list) {
  table t;
  read_table("| key | type | present | meaning |", 4, &t);
  for (int k = 0; k < CB_NKEYS; k++) {
    const cb_run_key_def *d = &cb_run_keys[k];
    int row = -1;
    for (int r = 0; r < t.nrows; r++)
      if (strcmp(t.cell[r][0], d->key) == 0) row = r;
    cr_expect_neq(row, -1, "key %s is in record.h but not in docs/run-record.md", d->key);
    if (row < 0) continue;
    cr_expect_str_eq(t.cell[row][1], d->type, "key %s: type '%s' in the doc, '%s' in record.h", d->key,
                     t.cell[row][1], d->type);
    cr_expect_str_eq(t.cell[row][2], d->present, "key %s: present '%s' in the doc, '%s' in record.h", d->key,
                     t.cell[row][2], d->present);
    cr_expect_str_eq(t.cell[row][3], d->meaning, "key %s: meaning differs", d->key);
    cr_expect_eq(row, k, "key %s: row %d in the doc, %d in record.h", d->key, row, k);
  }
  for (int r = 0; r < t.nrows; r++)
    cr_expect_geq(cb_run_key_find(t.cell[r][0]), 0, "key %s is in docs/run-record.md but not in record.h",
                  t.cell[r][0]);
  cr_expect_eq(t.nrows, CB_NKEYS, "%d rows in the doc, %d keys in record.h", t.nrows, CB_NKEYS);
}

Test(record, doc_exit_code_table_is_the_list) {
  table t;
  read_table("| exit code | meaning |", 2, &t);
  cr_assert_eq(t.nrows, CB_NEXITS, "%d rows in the doc, %d exit codes in record.h", t.nrows, CB_NEXITS);
  for (int k = 0; k < CB_NEXITS; k++) {
    cr_expect_eq(atoi(t.cell[k][0]), cb_exits[k].code, "row %d: exit %s, record.h %d", k, t.cell[k][0],
                 cb_exits[k].code);
    cr_expect_str_eq(t.cell[k][1], cb_exits[k].meaning, "exit %d: meaning differs", cb_exits[k].code);
  }
}

Test(record, doc_class_table_is_the_list) {
  table t;
  read_table("| class | exit code | meaning |", 3, &t);
  cr_assert_eq(t.nrows, CB_NCLASSES, "%d rows in the doc, %d classes in record.h", t.nrows, CB_NCLASSES);
  for (int k = 0; k < CB_NCLASSES; k++) {
    const cb_class_def *d = &cb_classes[k];
    cr_expect_str_eq(t.cell[k][0], d->name, "row %d: class %s, record.h %s", k, t.cell[k][0], d->name);
    int code = strcmp(t.cell[k][1], "-") == 0 ? -1 : atoi(t.cell[k][1]);
    cr_expect_eq(code, d->exit, "class %s: exit %s in the doc, %d in record.h", d->name, t.cell[k][1], d->exit);
    cr_expect_str_eq(t.cell[k][2], d->meaning, "class %s: meaning differs", d->name);
  }
}

/* A record as cell.c writes it, what = CB_RECORD_* flags (failed, server). */
static json_t *listed_record(unsigned what) {
  json_t *o = json_object();
  for (int k = 0; k < CB_NKEYS; k++) {
    const cb_run_key_def *d = &cb_run_keys[k];
    if (strcmp(d->present, "failed") == 0 && !(what & CB_RECORD_FAILED)) continue;
    if (strcmp(d->present, "server") == 0 && !(what & CB_RECORD_SERVER)) continue;
    json_t *v = strncmp(d->type, "string", 6) == 0    ? json_string("x")
                : strncmp(d->type, "integer", 7) == 0 ? json_integer(1)
                : strncmp(d->type, "number", 6) == 0  ? json_real(0.5)
                : strncmp(d->type, "boolean", 7) == 0 ? json_true()
                                                      : json_object();
    cb_run_record_set(o, (cb_run_key)k, v);
  }
  return o;
}

Test(record, writer_check_refuses_what_the_list_does_not_say) {
  char why[160];
  const char *extra[] = {"ns_per_switch"};
  for (unsigned what = 0; what <= (CB_RECORD_FAILED | CB_RECORD_SERVER); what++) {
    json_t *o = listed_record(what);
    cr_expect_eq(cb_run_record_check(o, what, NULL, 0, why, sizeof why), 0, "as listed (%u): %s", what, why);
    json_object_set_new(o, "ns_per_switch", json_real(12.5));
    cr_expect_eq(cb_run_record_check(o, what, extra, 1, why, sizeof why), 0, "with a figure: %s", why);
    cr_expect_neq(cb_run_record_check(o, what, NULL, 0, why, sizeof why), 0, "a key nobody listed passed");
    json_decref(o);
  }
  /* A server's keys belong to server cells only, and a server cell has them all. */
  json_t *o = listed_record(CB_RECORD_SERVER);
  cr_expect_neq(cb_run_record_check(o, 0, NULL, 0, why, sizeof why), 0, "server keys in a client cell passed");
  json_object_del(o, "req_per_s");
  cr_expect_neq(cb_run_record_check(o, CB_RECORD_SERVER, NULL, 0, why, sizeof why), 0, "a server cell without req_per_s passed");
  json_decref(o);
  o = listed_record(0);
  json_object_set_new(o, "failed_after_s", json_real(1));
  cr_expect_neq(cb_run_record_check(o, 0, NULL, 0, why, sizeof why), 0, "failed_after_s in a verified run");
  json_decref(o);
  o = listed_record(0);
  json_object_del(o, "error_class");
  cr_expect_neq(cb_run_record_check(o, 0, NULL, 0, why, sizeof why), 0, "a missing key passed");
  json_decref(o);
  o = listed_record(0);
  json_object_set_new(o, "tasks", json_string("10"));
  cr_expect_neq(cb_run_record_check(o, 0, NULL, 0, why, sizeof why), 0, "a string for an integer passed");
  json_decref(o);
  o = listed_record(0);
  json_object_set_new(o, "wall_s", json_null());
  cr_expect_eq(cb_run_record_check(o, 0, NULL, 0, why, sizeof why), 0, "wall_s may be null: %s", why);
  json_object_set_new(o, "tasks", json_null());
  cr_expect_neq(cb_run_record_check(o, 0, NULL, 0, why, sizeof why), 0, "tasks may not be null");
  json_decref(o);
}

/* How the bench files a run, from its exit code and error_class only. */
Test(record, a_run_is_classed_by_exit_code_and_error_class) {
  struct {
    int code;
    const char *error_class;
    cb_class want;
  } cases[] = {
      {0, "ok", CB_CLASS_OK},
      {1, "wrong_result", CB_CLASS_WRONG_RESULT},
      {1, "job_failed", CB_CLASS_JOB_FAILED},
      {1, NULL, CB_CLASS_JOB_FAILED},
      {3, "resource_limit", CB_CLASS_RESOURCE_LIMIT},
      {3, NULL, CB_CLASS_RESOURCE_LIMIT},
      {1, "resource_limit", CB_CLASS_JOB_FAILED}, /* the exit code rules: the class must go with it */
      {4, NULL, CB_CLASS_UNSUPPORTED},
      {2, NULL, CB_CLASS_USAGE},
      {70, NULL, CB_CLASS_BAD_EXIT},
      {130, NULL, CB_CLASS_INTERRUPTED},
      {-1, "timeout", CB_CLASS_BAD_EXIT},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    cb_class got = cb_class_of_run(cases[k].code, cases[k].error_class);
    cr_expect_eq(got, cases[k].want, "exit %d, error_class %s: %s, want %s", cases[k].code,
                 cases[k].error_class ? cases[k].error_class : "(none)", cb_class_name(got),
                 cb_class_name(cases[k].want));
  }
  cr_expect_eq(CB_EXIT_USAGE, 2, "bad usage is exit 2");
  for (int c = 0; c < CB_NCLASSES; c++) cr_expect_eq(cb_class_find(cb_classes[c].name), c);
}
