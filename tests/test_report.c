/* test_report.c — report, advise and compare on the fixture run in
 * tests/fixtures/run-small (see its README for what it holds and the answers). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/helpers/run_cmd.h"

#define CONCBENCH CB_BIN_DIR "/concbench"
#define FIXTURE CB_SRC_DIR "/tests/fixtures/run-small"

static char run_dir[256];

/* A private copy of a fixture run in run_dir: the report writes into the run folder. */
static void copy_run(const char *fixture) {
  snprintf(run_dir, sizeof run_dir, "/tmp/cb-test-report-%d", (int)getpid());
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r %s %s", run_dir, fixture, run_dir);
  cr_assert_eq(system(cmd), 0, "cannot copy the fixture: %s", cmd);
}

static void copy_fixture(void) { copy_run(FIXTURE); }

static void remove_copy(void) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf %s", run_dir);
  system(cmd);
}

static char *slurp(const char *dir, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "cannot read %s", path);
  char *buf = calloc(1, 1 << 20);
  size_t n = fread(buf, 1, (1 << 20) - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

/* The markdown table row of model at N and cores in the section of workload. */
static char *row_of(const char *md, const char *workload, const char *model, int n, int cores) {
  char head[64], key[96];
  snprintf(head, sizeof head, "\n## %s (", workload);
  const char *sec = strstr(md, head);
  cr_assert_not_null(sec, "no section for %s", workload);
  snprintf(key, sizeof key, "\n| %s | %d | %d |", model, n, cores);
  const char *row = strstr(sec, key);
  const char *next = strstr(sec + 1, "\n## ");
  cr_assert(row && (!next || row < next), "no row for %s N=%d cores=%d in %s", model, n, cores, workload);
  row++;
  size_t len = strcspn(row, "\n");
  char *out = strndup(row, len);
  return out;
}

static void report(void) {
  char *argv[] = {CONCBENCH, "report", run_dir, NULL};
  cmd_result r;
  run_cmd(argv, 60, &r);
  cr_assert_eq(r.code, 0, "report exit %d: %s", r.code, r.err);
  cmd_result_free(&r);
}

TestSuite(report, .init = copy_fixture, .fini = remove_copy, .timeout = 60);

Test(report, tables_have_a_row_per_model_and_size) {
  report();
  char *md = slurp(run_dir, "tables.md");
  cr_expect(strncmp(md, "# concbench results", 19) == 0);
  cr_expect(strstr(md, "## Which model for which workload") < strstr(md, "## pow ("), "summary does not open the tables");
  const char *models[] = {"sync", "threads", "procs"};
  for (int m = 0; m < 3; m++)
    for (int cores = 1; cores <= 2; cores++) free(row_of(md, "pow", models[m], 8, cores));
  for (int m = 0; m < 3; m++) {
    free(row_of(md, "sleep", models[m], 10, 2));
    free(row_of(md, "sleep", models[m], 100, 2));
  }
  char *procs2 = row_of(md, "pow", "procs", 8, 2);
  cr_expect(strstr(procs2, "1.84×") != NULL, "speedup of procs on 2 cores: %s", procs2);
  cr_expect(strstr(md, "| sleep | io | 100 | 2 | threads | sync |") != NULL, "summary: threads best at N=100");
  cr_expect(strstr(md, "procs (timeout)") != NULL, "summary lists the model that gave out");
  free(procs2);
  struct stat st;
  const char *files[] = {"report.html", "summary.csv", "bars.png", "bars.svg", "scaling.png", "scaling.svg",
                         "memory.png", "memory.svg", "cores.png", "cores.svg"};
  for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", run_dir, files[k]);
    cr_expect(stat(path, &st) == 0 && st.st_size > 0, "%s missing or empty", files[k]);
  }
  char *html = slurp(run_dir, "report.html");
  /* the answer first, the charts inlined (the page stands alone), the tables folded, the machine last */
  const char *answer = strstr(html, "<h2>Which model for which workload</h2>"), *chart = strstr(html, "<figure id=\"chart-scaling\">\n<svg"),
             *folded = strstr(html, "<details><summary><h2>pow ("), *machine = strstr(html, "<h2>Machine</h2>");
  cr_expect(answer && chart && folded && machine && answer < chart && chart < folded && folded < machine,
            "report.html's order: answer %p, chart %p, tables %p, machine %p", answer, chart, folded, machine);
  cr_expect(!strstr(html, "<img src="), "a chart not inlined");
  cr_expect(strstr(html, "id='scaling-gpPt") && strstr(html, "href='#scaling-gpPt") && !strstr(html, "id='gpPt"),
            "the inlined SVGs' ids are not made unique");
  cr_expect(strstr(html, "<title>How does wall time grow with the number of tasks N?</title>") &&
                !strstr(html, "<title>Gnuplot</title>"),
            "an inlined chart's own tooltip is not its question");
  cr_expect(strstr(html, "<td><span class=\"sw m-threads\"></span>threads</td>") && strstr(html, ".m-threads{border-color:#0072B2}"),
            "no colour beside a model's name");
  free(html);
  free(md);
}

/* The k-th cell (1-based) of a markdown table row, trimmed, into buf. */
static const char *column(const char *row, int k, char *buf, size_t cap) {
  const char *p = row;
  for (int i = 1; i < k && p; i++) p = strchr(p + 1, '|');
  cr_assert_not_null(p, "row has fewer than %d cells: %s", k, row);
  const char *end = strchr(p + 1, '|');
  cr_assert_not_null(end);
  while (*++p == ' ') {}
  while (end > p && end[-1] == ' ') end--;
  snprintf(buf, cap, "%.*s", (int)(end - p), p);
  return buf;
}

/* The fixture's threads sleep N=100 runs carry last_start_s 0.0071, 0.0032, 0.0055,
 * 0.0048, 0.0063; the other cells predate the field. */
Test(report, last_job_start_is_the_median_of_the_runs) {
  report();
  char *md = slurp(run_dir, "tables.md");
  char *with = row_of(md, "sleep", "threads", 100, 2), *without = row_of(md, "sleep", "threads", 10, 2);
  char cell[64];
  cr_expect_str_eq(column(with, 8, cell, sizeof cell), "0.0055", "row: %s", with);
  cr_expect_str_eq(column(without, 8, cell, sizeof cell), "—", "a run without the field: %s", without);
  char *csv = slurp(run_dir, "summary.csv");
  const char *line = strstr(csv, "sleep,io,threads,100,");
  cr_assert_not_null(line);
  const char *col = line;
  for (int k = 0; k < 15 && col; k++) col = strchr(col + 1, ',');
  cr_assert_not_null(col);
  cr_expect(strncmp(col, ",0.005500,", 10) == 0, "last_start_median_s column: %.160s", line);
  free(with);
  free(without);
  free(csv);
  free(md);
}

Test(report, failed_cells_carry_no_ratio) {
  report();
  char *md = slurp(run_dir, "tables.md");
  char *row = row_of(md, "sleep", "procs", 100, 2);
  cr_expect(strstr(row, "**timeout**") != NULL, "row: %s", row);
  cr_expect(strstr(row, "×") == NULL && strstr(row, "%") == NULL, "a failed row has a ratio: %s", row);
  free(row);
  char *csv = slurp(run_dir, "summary.csv");
  const char *line = strstr(csv, "sleep,io,procs,100,");
  cr_assert_not_null(line);
  /* status, 0 runs, then 16 empty figures and the reason */
  cr_expect(strncmp(line, "sleep,io,procs,100,100,2,\"ms=10\",timeout,0,,,,,,,,,,,,,,,,,\"killed", 65) == 0,
            "csv row of a failed cell: %.120s", line);
  free(csv);
  free(md);
}

Test(report, cv_over_5_percent_is_flagged) {
  report();
  char *md = slurp(run_dir, "tables.md");
  char *noisy = row_of(md, "pow", "threads", 8, 2), *quiet = row_of(md, "pow", "procs", 8, 2);
  cr_expect(strstr(noisy, "noisy") != NULL, "CV 24%% not flagged: %s", noisy);
  cr_expect(strstr(quiet, "noisy") == NULL, "CV 2%% flagged: %s", quiet);
  free(noisy);
  free(quiet);
  free(md);
}

static void advise(const char *cpu, const char *io, const char *n, cmd_result *r) {
  char *argv[] = {CONCBENCH, "advise", "--cpu-ms", (char *)cpu, "--io-ms", (char *)io, "--tasks", (char *)n,
                  "--run", run_dir, NULL};
  run_cmd(argv, 30, r);
  cr_assert_eq(r->code, 0, "advise exit %d: %s", r->code, r->err);
}

Test(report, advise_picks_the_expected_model) {
  cmd_result r;
  advise("0", "10", "100", &r);
  cr_expect(strstr(r.out, "\n1    threads ") != NULL, "waiting at N=100: %s", r.out);
  cr_expect(strstr(r.out, "procs          not usable") != NULL && strstr(r.out, "timeout") != NULL, "%s", r.out);
  cr_expect(strstr(r.out, "sleep-threads-n100") != NULL, "basis not shown: %s", r.out);
  cr_expect(strstr(r.out, "warning") == NULL, "measured size warned: %s", r.out);
  cmd_result_free(&r);
  advise("10", "0", "8", &r);
  cr_expect(strstr(r.out, "\n1    procs ") != NULL, "compute on 2 cores: %s", r.out);
  cmd_result_free(&r);
}

Test(report, advise_warns_on_extrapolation) {
  cmd_result r;
  advise("0", "10", "5000", &r);
  cr_expect(strstr(r.out, "warning: N=5000 extrapolates beyond the measured sizes for threads, sync") != NULL, "%s", r.out);
  cr_expect(strstr(r.out, "[extrapolated]") != NULL, "%s", r.out);
  cmd_result_free(&r);
}

Test(report, compare_a_run_with_itself_finds_no_difference) {
  char *argv[] = {CONCBENCH, "compare", run_dir, run_dir, NULL};
  cmd_result r;
  run_cmd(argv, 60, &r);
  cr_assert_eq(r.code, 0, "compare exit %d: %s", r.code, r.err);
  cr_expect(strstr(r.out, "| sleep | threads | 100 | 2 | ms=10 | 0.0250 | 0.0250 | 1.000 |") != NULL, "%s", r.out);
  cr_expect(strstr(r.out, "B faster") == NULL && strstr(r.out, "B slower") == NULL, "%s", r.out);
  cr_expect(strstr(r.out, "no ratio: failed in both") != NULL, "%s", r.out);
  cr_expect(strstr(r.out, "12 cells in both runs") != NULL, "%s", r.out);
  cr_expect(strstr(r.out, "meta.json: no field differs.") && !strstr(r.out, "different machines"), "%s", r.out);
  cmd_result_free(&r);
}

static void expect_usage(char *const argv[], const char *needle) {
  cmd_result r;
  run_cmd(argv, 30, &r);
  cr_expect_eq(r.code, 2, "%s %s: exit %d, want 2; stderr: %s", argv[1], argv[2] ? argv[2] : "", r.code, r.err);
  cr_expect_eq(count_lines(r.err), 1, "stderr has %d lines: %s", count_lines(r.err), r.err);
  cr_expect(strstr(r.err, needle) != NULL, "stderr '%s' does not name '%s'", r.err, needle);
  cmd_result_free(&r);
}

#define USAGE(needle, ...)                                  \
  do {                                                      \
    char *const argv[] = {CONCBENCH, __VA_ARGS__, NULL};    \
    expect_usage(argv, needle);                             \
  } while (0)

Test(report, bad_input_is_one_line_and_exit_2) {
  USAGE("--profile", "bench", "--profile", "slow");
  USAGE("--models", "bench", "--models", "sync,nope");
  USAGE("--workloads", "bench", "--workloads", "nope");
  USAGE("--tasks", "bench", "--tasks", "10,0");
  USAGE("--cores", "bench", "--cores", "99");
  USAGE("--param", "bench", "--param", "nosuch=1");
  USAGE("--param", "bench", "--param", "ms=-5");
  USAGE("unknown workload 'nope'", "bench", "--param", "nope:rounds=1");
  USAGE("workload sleep has no parameter 'rounds'", "bench", "--param", "sleep:rounds=1");
  USAGE("--param", "bench", "--param", "pingpong:rounds=0");
  USAGE("--param", "bench", "--param", ":rounds=1");
  USAGE("--stages", "bench", "--stages", "0");
  USAGE("--stages", "bench", "--stages", "1,,2");
  USAGE("--stages", "bench", "--stages", "65");
  USAGE("--limit", "bench", "--limit", "0");
  USAGE("--run-id", "bench", "--run-id", "../x");
  USAGE("unknown argument", "bench", "--frob");
  USAGE("RUN", "report", "/nonexistent/run");
  USAGE("--tasks", "advise", "--cpu-ms", "1", "--io-ms", "1", "--tasks", "0");
  USAGE("--cpu-ms", "advise", "--cpu-ms", "-1", "--io-ms", "1", "--tasks", "5");
  USAGE("required", "advise", "--cpu-ms", "1");
  USAGE("--run", "advise", "--cpu-ms", "1", "--io-ms", "1", "--tasks", "5", "--run", "/nonexistent");
  USAGE("RUN_A RUN_B", "compare", "onlyone");
  USAGE("RUN_B", "compare", run_dir, "/nonexistent");
}

Test(report, list_json_describes_every_model_and_workload) {
  char *argv[] = {CONCBENCH, "list", "--json", NULL};
  cmd_result r;
  run_cmd(argv, 30, &r);
  cr_assert_eq(r.code, 0, "list --json exit %d: %s", r.code, r.err);
  json_error_t je;
  json_t *o = json_loads(r.out, 0, &je);
  cr_assert_not_null(o, "list --json is not JSON: %s", je.text);
  cr_expect_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(o, "models"), 0), "name")), "sync");
  size_t k;
  json_t *w;
  json_array_foreach(json_object_get(o, "workloads"), k, w) {
    cr_expect(json_is_string(json_object_get(w, "name")) && json_is_string(json_object_get(w, "kind")));
    cr_expect(json_is_array(json_object_get(w, "params")));
  }
  cr_expect(json_array_size(json_object_get(o, "workloads")) >= 4);
  json_decref(o);
  cmd_result_free(&r);
}

/* A run whose memory chart would hold only zeros (one io cell: it is its workload's
 * leanest) is still reported: a zero has no place on the log axis, and a chart of
 * nothing stopped gnuplot ("all points y value undefined") and with it the report. */
Test(report, a_run_with_a_single_io_cell_is_reported) {
  char path[300], tmp[320], line[1 << 16];
  snprintf(path, sizeof path, "%s/cells.jsonl", run_dir);
  snprintf(tmp, sizeof tmp, "%s.new", path);
  FILE *in = fopen(path, "r"), *out = fopen(tmp, "w");
  cr_assert(in && out);
  int kept = 0;
  while (fgets(line, sizeof line, in))
    if (strstr(line, "\"model\":\"sync\"") && strstr(line, "\"workload\":\"sleep\"") && strstr(line, "\"tasks\":10,"))
      fputs(line, out), kept++;
  fclose(in);
  fclose(out);
  cr_assert_eq(kept, 1, "the fixture's sync sleep N=10 cell");
  cr_assert_eq(rename(tmp, path), 0);
  char *const argv[] = {CONCBENCH, "report", run_dir, NULL};
  cmd_result r;
  run_cmd(argv, 120, &r);
  cr_expect(r.exited && r.code == 0, "report exit %d: %s", r.code, r.err);
  cmd_result_free(&r);
  snprintf(path, sizeof path, "%s/scaling.png", run_dir);
  cr_expect(access(path, R_OK) == 0, "the scaling chart of the one cell was not drawn");
}

/* ---- server cells (tests/fixtures/run-servers: see its README) ---- */

static void copy_servers(void) { copy_run(CB_SRC_DIR "/tests/fixtures/run-servers"); }

/* The line of md that starts with prefix inside the section that starts with head. */
static char *line_in(const char *md, const char *head, const char *prefix) {
  const char *sec = strstr(md, head);
  cr_assert_not_null(sec, "no section '%s'", head);
  const char *end = strstr(sec + 1, "\n#");
  char key[128];
  snprintf(key, sizeof key, "\n%s", prefix);
  const char *row = strstr(sec, key);
  cr_assert(row && (!end || row < end), "no line '%s' in section '%s'", prefix, head);
  row++;
  return strndup(row, strcspn(row, "\n"));
}

Test(report_servers, server_cells_get_their_own_tables_and_the_hockey_chart, .init = copy_servers,
     .fini = remove_copy, .timeout = 60) {
  char *argv[] = {CONCBENCH, "report", run_dir, NULL};
  cmd_result r;
  run_cmd(argv, 60, &r);
  cr_assert_eq(r.code, 0, "report exit %d: %s", r.code, r.err);
  cmd_result_free(&r);
  char *md = slurp(run_dir, "tables.md");
  /* Closed loop: a figure for those that verified, the class for sync, and why. */
  const char *closed = "### serve: closed loop";
  char *loop = line_in(md, closed, "| loop |"), *ngx = line_in(md, closed, "| nginx |"),
       *sync = line_in(md, closed, "| sync |");
  cr_expect(strstr(loop, "/s ·") && strstr(loop, " ms"), "loop's closed-loop row: %s", loop);
  cr_expect(strstr(ngx, "/s ·"), "nginx's closed-loop row: %s", ngx);
  cr_expect(strstr(sync, "**job_failed**") && !strstr(sync, "/s"), "sync's row has a figure: %s", sync);
  cr_expect(strstr(md, "sync at 10 connections: job_failed: loadgen:"), "sync's failure is not explained");
  /* Open loop: two offered rates, loop and nginx at each; sync was not offered more. */
  const char *open = "### serve: open loop";
  char *head = line_in(md, open, "| model |"), *oloop = line_in(md, open, "| loop |");
  cr_expect(strstr(head, "71.8K req/s") && strstr(head, "129.2K req/s"), "open-loop columns: %s", head);
  cr_expect(strstr(oloop, "(") != NULL, "no uncorrected figure beside the corrected one: %s", oloop);
  const char *sec = strstr(md, open);
  cr_expect(!strstr(sec, "| sync |") || strstr(sec, "| sync |") > strstr(sec + 1, "\n## "),
            "sync, which gave out in closed loop, has an open-loop row");
  /* Server cells stay out of the client tables and charts. */
  const char *summary = strstr(md, "## Which model for which workload"), *servers = strstr(md, "## Servers");
  cr_assert(summary && servers);
  cr_expect(!strstr(summary, "| serve |") || strstr(summary, "| serve |") > servers, "serve in the client summary");
  char *bars = slurp(run_dir, "bars.dat");
  cr_expect(!strstr(bars, "serve"), "server cells in bars.dat: %s", bars);
  /* The hockey chart: loop and nginx at both rates, p99 rising with the load. */
  char *hockey = slurp(run_dir, "hockey.dat");
  cr_expect_eq(count_lines(hockey), 4, "hockey.dat: %s", hockey);
  double r1, p1, r2, p2;
  const char *l = strstr(hockey, "serve loop ");
  cr_assert(l && sscanf(l, "serve loop %lf %lf", &r1, &p1) == 2);
  l = strstr(l + 1, "serve loop ");
  cr_assert(l && sscanf(l, "serve loop %lf %lf", &r2, &p2) == 2);
  cr_expect(r1 < r2 && p1 < p2, "loop: p99 %.2f at %.0f, %.2f at %.0f", p1, r1, p2, r2);
  char path[512];
  snprintf(path, sizeof path, "%s/hockey.svg", run_dir);
  cr_expect_eq(access(path, R_OK), 0, "no hockey.svg");
  /* servers.csv: a header and one row per server cell, figures only for verified ones. */
  char *csv = slurp(run_dir, "servers.csv");
  cr_expect_eq(count_lines(csv), 1 + 7, "servers.csv: %s", csv);
  cr_expect(strstr(csv, "\nserve,sync,10,0,job_failed,0,,") != NULL, "sync's row: %s", csv);
  cr_expect(strstr(csv, "\nserve,loop,10,0,ok,2,") != NULL, "loop's closed-loop row: %s", csv);
  free(csv);
  free(loop), free(ngx), free(sync), free(head), free(oloop), free(md), free(bars), free(hockey);
}

/* ---- the cells' own figures (tests/fixtures/run-figures: see its README) ---- */

static void copy_figures(void) { copy_run(CB_SRC_DIR "/tests/fixtures/run-figures"); }

static int lines_with(const char *text, const char *needle) {
  int n = 0;
  for (const char *p = text; (p = strstr(p, needle)); p++) n++;
  return n;
}

/* The pipeline chart: items/s against N from the N sweep alone, against stages at
 * N=100 per model in order of stages (the sweep's own stages=4 cell among them); the
 * stages cells stay out of bars, scaling and the summary, and are labelled in the table. */
Test(report_figures, the_pipeline_chart_has_the_n_sweep_and_the_stages_sweep, .init = copy_figures,
     .fini = remove_copy, .timeout = 60) {
  report();
  char *byn = slurp(run_dir, "pipeline.dat"), *bys = slurp(run_dir, "pipeline_stages.dat");
  cr_expect_eq(count_lines(byn), 4, "pipeline.dat: %s", byn);
  cr_expect(strstr(byn, "pipeline threads 100 1.5e+06 400\n") && strstr(byn, "pipeline sync 10 1.04e+08 0.025\n"),
            "pipeline.dat: %s", byn);
  cr_expect_str_eq(bys,
                   "pipeline sync 1 2e+08\npipeline sync 4 8e+07\npipeline sync 8 4.5e+07\n"
                   "pipeline threads 1 3e+06\npipeline threads 4 1.5e+06\npipeline threads 8 800000\n");
  char *bars = slurp(run_dir, "bars.dat"), *scaling = slurp(run_dir, "scaling.dat");
  cr_expect_eq(lines_with(bars, "pipeline("), 2, "one bar per model: %s", bars);
  cr_expect(!strstr(scaling, "pipeline"), "pipelines on the scaling chart: %s", scaling);
  char *md = slurp(run_dir, "tables.md");
  cr_expect_eq(lines_with(md, "| pipeline | coord | 100 | 2 |"), 1, "summary rows at N=100: %s", md);
  /* mixed's two job shapes at N=100 have no one best model: the map names each */
  cr_expect_eq(lines_with(md, "| mixed | mixed |"), 0, "a summary row over two job shapes: %s", md);
  cr_expect(strstr(md, "Not in this table: mixed,") && strstr(md, "| 10 | loop (1.33× over threads) |"),
            "the map's shapes: %s", md);
  cr_expect(strstr(md, "\n| sync (stages=1) | 100 | 2 |") && strstr(md, "\n| threads (stages=8) | 100 | 2 |") &&
                strstr(md, "\n| sync | 100 | 2 |"),
            "stages cells not labelled in the pipeline table");
  const char *files[] = {"pipeline.png", "pipeline.svg", "membw.png", "membw.svg"};
  for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", run_dir, files[k]);
    cr_expect(access(path, R_OK) == 0, "%s missing", files[k]);
  }
  char *html = slurp(run_dir, "report.html");
  cr_expect(strstr(html, "<figure id=\"chart-pipeline\">\n<svg") && strstr(html, "<figure id=\"chart-membw\">\n<svg"));
  free(byn), free(bys), free(bars), free(scaling), free(md), free(html);
}

/* With the run's STREAM figure: the ceiling stated, each model's GB/s and its share
 * (1 core: of the 1-thread figure; 2 cores: of the 2-thread one), a failed cell its class. */
Test(report_figures, the_membw_section_states_the_ceiling_and_each_share, .init = copy_figures, .fini = remove_copy,
     .timeout = 60) {
  report();
  char *md = slurp(run_dir, "tables.md");
  const char *sec = "## Memory bandwidth: membw";
  char *ceiling = line_in(md, sec, "Memory bandwidth ceiling");
  cr_expect(strstr(ceiling, "(STREAM triad, measured at the start of this run): 1 thread 12.5 GB/s, 2 threads 20.0 GB/s"),
            "%s", ceiling);
  char *threads = line_in(md, sec, "| threads |"), *sync = line_in(md, sec, "| sync |"), *procs = line_in(md, sec, "| procs |");
  cr_expect_str_eq(threads, "| threads | 5.00 (40%) | 9.00 (45%) |");
  cr_expect_str_eq(sync, "| sync | 5.00 (40%) | 5.10 (25%) |");
  cr_expect_str_eq(procs, "| procs | 5.00 (40%) | **timeout** |");
  char *dat = slurp(run_dir, "membw.dat"), *ceil = slurp(run_dir, "membw_ceiling.dat");
  cr_expect_eq(count_lines(dat), 5, "membw.dat (verified cells only): %s", dat);
  cr_expect(strstr(dat, "membw threads 2 9.0000\n") != NULL, "%s", dat);
  cr_expect_str_eq(ceil, "1 12.5000\n2 20.0000\n");
  free(ceiling), free(threads), free(sync), free(procs), free(dat), free(ceil), free(md);
}

/* A run without a STREAM figure (older runs) says so: GB/s alone, no share, no ceiling
 * line; the chart is still drawn. */
Test(report_figures, a_run_without_a_stream_figure_says_so, .init = copy_figures, .fini = remove_copy, .timeout = 60) {
  char path[300];
  snprintf(path, sizeof path, "%s/meta.json", run_dir);
  json_t *meta = json_load_file(path, 0, NULL);
  cr_assert(meta && json_object_del(meta, "stream_gb_per_s") == 0);
  cr_assert_eq(json_dump_file(meta, path, JSON_INDENT(1)), 0);
  json_decref(meta);
  report();
  char *md = slurp(run_dir, "tables.md");
  const char *sec = "## Memory bandwidth: membw";
  char *none = line_in(md, sec, "No memory bandwidth ceiling for this run"), *threads = line_in(md, sec, "| threads |");
  cr_expect_str_eq(threads, "| threads | 5.00 | 9.00 |");
  cr_expect(!strstr(strstr(md, sec), "GB/s, 2 threads"), "a ceiling stated without a figure");
  char *ceil = slurp(run_dir, "membw_ceiling.dat");
  cr_expect_str_eq(ceil, "");
  snprintf(path, sizeof path, "%s/membw.svg", run_dir);
  cr_expect_eq(access(path, R_OK), 0, "no membw.svg");
  free(none), free(threads), free(ceil), free(md);
}

/* ---- one look per model (scripts/palette.tsv, the run's style.gp) ---- */

/* The colour (#rrggbb) style.gp gives model, or "" when it lists no such model. */
static void style_colour(const char *style, const char *model, char *out) {
  const char *m = strstr(style, "CB_MODELS = \""), *c = strstr(style, "CB_COLOURS = \"");
  cr_assert(m && c, "style.gp has no model or colour list");
  m += 13, c += 14;
  out[0] = '\0';
  while (*m != '"') {
    size_t lm = strcspn(m, " \""), lc = strcspn(c, " \"");
    if (lm == strlen(model) && strncmp(m, model, lm) == 0) {
      snprintf(out, 8, "%.*s", (int)lc, c);
      return;
    }
    m += lm + (m[lm] == ' '), c += lc + (c[lc] == ' ');
  }
}

/* Every series of every SVG titled with a model is drawn only in that model's
 * colour, the one style.gp gives it; returns how many such series there were, and
 * counts in seen[] the charts each of models[] appears in. */
static int check_svg_colours(const char *style, const char *svg_name, const char *const *models, int *seen, int nmodels) {
  char *svg = slurp(run_dir, svg_name);
  int series = 0, in[16] = {0};
  /* hover a point for its value: the SVG's own tooltips, no script */
  cr_expect(strstr(svg, "<g><title>") && !strstr(svg, "gnuplot_svg"), "%s: no tooltip, or one that needs a script",
            svg_name);
  for (const char *g = strstr(svg, "<g id=\"gnuplot_plot_"); g; ) {
    const char *next = strstr(g + 1, "<g id=\"gnuplot_plot_"), *t = strstr(g, "<title>");
    char title[64] = "", want[8];
    if (t && (!next || t < next)) sscanf(t + 7, "%63[^<]", title);
    style_colour(style, title, want);
    if (want[0]) {
      series++;
      for (int k = 0; k < nmodels; k++) in[k] |= strcmp(models[k], title) == 0;
      unsigned expect = (unsigned)strtoul(want + 1, NULL, 16);
      for (const char *p = strstr(g, "rgb("); p && (!next || p < next); p = strstr(p + 1, "rgb(")) {
        unsigned r, gr, b;
        cr_assert_eq(sscanf(p, "rgb(%u,%u,%u)", &r, &gr, &b), 3, "%s: %.30s", svg_name, p);
        cr_expect_eq(r << 16 | gr << 8 | b, expect, "%s: series %s drawn in rgb(%u,%u,%u), its palette colour is %s",
                     svg_name, title, r, gr, b, want);
      }
    }
    g = next;
  }
  for (int k = 0; k < nmodels; k++) seen[k] += in[k];
  free(svg);
  return series;
}

static void expect_one_look(const char *const *charts, int ncharts) {
  report();
  char *style = slurp(run_dir, "style.gp");
  /* the listed models' colours are palette.tsv's */
  char *tsv = slurp(CB_SRC_DIR "/scripts", "palette.tsv");
  for (char *line = strtok(tsv, "\n"); line; line = strtok(NULL, "\n")) {
    char model[32], colour[16], got[8];
    if (line[0] == '#' || sscanf(line, "%31s %15s", model, colour) != 2) continue;
    style_colour(style, model, got);
    cr_expect_str_eq(got, colour, "style.gp's colour of %s", model);
  }
  free(tsv);
  static const char *const models[] = {"sync", "threads", "procs"};
  int seen[3] = {0}, series = 0;
  for (int k = 0; k < ncharts; k++) series += check_svg_colours(style, charts[k], models, seen, 3);
  cr_expect_gt(series, 3 * ncharts, "too few model series found in the SVGs (%d)", series);
  for (int k = 0; k < 3; k++) cr_expect_geq(seen[k], 2, "%s is in %d of the charts", models[k], seen[k]);
  free(style);
}

Test(report, a_model_has_one_colour_in_every_chart) {
  static const char *const charts[] = {"bars.svg", "scaling.svg", "cores.svg", "memory.svg"};
  expect_one_look(charts, 4);
}

Test(report_figures, a_model_has_one_colour_in_every_chart_of_figures, .init = copy_figures, .fini = remove_copy,
     .timeout = 60) {
  static const char *const charts[] = {"bars.svg", "pipeline.svg", "membw.svg", "cores.svg"};
  expect_one_look(charts, 4);
}

/* A variant or a peer takes a shade of its family's colour, not the family's own. */
Test(report, variants_and_peers_get_their_familys_shade) {
  report();
  char *style = slurp(run_dir, "style.gp");
  char green[8], mn[8], gevent[8], gevent_chart[8], loop[8], asyncio[8];
  style_colour(style, "green", green), style_colour(style, "green-mn", mn), style_colour(style, "py-gevent", gevent);
  style_colour(style, "py-gevent:peer", gevent_chart), style_colour(style, "loop", loop);
  style_colour(style, "py-asyncio", asyncio);
  cr_expect(mn[0] && strcmp(mn, green) != 0 && gevent[0] && strcmp(gevent, green) != 0 && strcmp(gevent, mn) != 0,
            "green %s, green-mn %s, py-gevent %s", green, mn, gevent);
  cr_expect_str_eq(gevent, gevent_chart, "a peer's chart name has its colour");
  cr_expect(asyncio[0] && strcmp(asyncio, loop) != 0, "loop %s, py-asyncio %s", loop, asyncio);
  free(style);
}

/* ---- compare across machines ---- */

/* B is the fixture run on another machine: another CPU and kernel, same core count. */
Test(report, compare_names_the_fields_that_differ_and_labels_other_machines) {
  char b_dir[300], cmd[1000], path[400];
  snprintf(b_dir, sizeof b_dir, "%s-b", run_dir);
  snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r %s %s", b_dir, run_dir, b_dir);
  cr_assert_eq(system(cmd), 0);
  snprintf(path, sizeof path, "%s/meta.json", b_dir);
  json_t *meta = json_load_file(path, 0, NULL);
  cr_assert_not_null(meta);
  json_object_set_new(meta, "cpu", json_string("Other CPU\nwith a line break"));
  json_object_set_new(meta, "kernel", json_string("Linux 9.9"));
  cr_assert_eq(json_dump_file(meta, path, JSON_INDENT(1)), 0);
  char *argv[] = {CONCBENCH, "compare", run_dir, b_dir, NULL};
  cmd_result r;
  run_cmd(argv, 60, &r);
  cr_assert_eq(r.code, 0, "compare exit %d: %s", r.code, r.err);
  const char *table = strstr(r.out, "| workload |");
  cr_assert_not_null(table, "%s", r.out);
  const char *cpu = strstr(r.out, "- cpu: fixture CPU -> Other CPU?with a line break\n"),
             *kernel = strstr(r.out, "- kernel: Linux -> Linux 9.9\n"), *warn = strstr(r.out, "DIFFERENT MACHINES");
  cr_expect(cpu && kernel && warn && cpu < table && warn < table, "the differences are not listed first: %s", r.out);
  cr_expect(!strstr(r.out, "- gmp:") && !strstr(r.out, "- cores:"), "a field that is the same is listed: %s", r.out);
  cr_expect(strstr(table, "| verdict (different machines) |") != NULL, "%s", table);
  cr_expect(strstr(table, "| different machines: no significant difference |") != NULL, "%s", table);
  cmd_result_free(&r);
  /* the same CPU with another core count is another machine too; the kernel alone is not */
  json_object_set_new(meta, "cpu", json_string("fixture CPU"));
  json_object_set_new(meta, "cores", json_integer(64));
  cr_assert_eq(json_dump_file(meta, path, JSON_INDENT(1)), 0);
  run_cmd(argv, 60, &r);
  cr_expect(strstr(r.out, "- cores: 2 -> 64\n") && strstr(r.out, "| different machines: "), "%s", r.out);
  cmd_result_free(&r);
  json_object_set_new(meta, "cores", json_integer(2));
  cr_assert_eq(json_dump_file(meta, path, JSON_INDENT(1)), 0);
  run_cmd(argv, 60, &r);
  cr_expect(strstr(r.out, "- kernel: Linux -> Linux 9.9\n") && !strstr(r.out, "different machines") &&
                !strstr(r.out, "DIFFERENT MACHINES"),
            "%s", r.out);
  cmd_result_free(&r);
  json_decref(meta);
  snprintf(cmd, sizeof cmd, "rm -rf %s", b_dir);
  system(cmd);
}

/* A run with a variant (green-mn) and a peer (py-threads): both drawn in their own
 * shades, the same in every chart (the fixture's threads cells copied under their names). */
Test(report, a_variant_and_a_peer_are_drawn_in_their_shades) {
  char path[300], line[1 << 16];
  snprintf(path, sizeof path, "%s/cells.jsonl", run_dir);
  FILE *in = fopen(path, "r");
  cr_assert_not_null(in);
  char *copies = calloc(1, 1 << 20);
  size_t used = 0;
  while (fgets(line, sizeof line, in)) {
    json_t *o = json_loads(line, 0, NULL);
    if (o && strcmp(json_string_value(json_object_get(o, "model")) ?: "", "threads") == 0) {
      static const char *const names[] = {"green-mn", "py-threads"};
      for (int k = 0; k < 2; k++) {
        json_object_set_new(o, "model", json_string(names[k]));
        char *s = json_dumps(o, JSON_COMPACT);
        used += (size_t)snprintf(copies + used, (1 << 20) - used, "%s\n", s);
        free(s);
      }
    }
    json_decref(o);
  }
  fclose(in);
  FILE *out = fopen(path, "a");
  cr_assert_not_null(out);
  fputs(copies, out);
  fclose(out);
  free(copies);
  report();
  char *style = slurp(run_dir, "style.gp");
  static const char *const models[] = {"green-mn", "py-threads:peer"};
  static const char *const charts[] = {"bars.svg", "scaling.svg", "cores.svg"};
  int seen[2] = {0};
  for (int k = 0; k < 3; k++) check_svg_colours(style, charts[k], models, seen, 2);
  cr_expect(seen[0] == 3 && seen[1] == 3, "green-mn in %d charts, py-threads in %d, want 3 each", seen[0], seen[1]);
  free(style);
}
