/* test_report_browser.c — report.html as a reader gets it: rendered by headless
 * Chromium (Debian's chromium, scripts/deps.sh) at 1280 px. The page loads with no
 * error (a script error, a resource that failed, console.error), every chart is
 * there and drawn, and nothing scrolls sideways. A screenshot of each page is kept
 * under the test's output (CB_TEST_OUT_DIR/report-FIXTURE.png) for a person to look at.
 *
 * The checks run in the page: a copy of report.html with a probe script first in its
 * <head> (it records errors from then on) that, at load, writes what it found into
 * the DOM, which Chromium prints (--dump-dom). The screenshot is of report.html
 * itself; Chromium's own log of that run (--enable-logging=stderr) must hold no
 * console message. Each Chromium run is bounded (run_cmd kills its process group). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/helpers/run_cmd.h"

#define CONCBENCH CB_BIN_DIR "/concbench"
#define CHROMIUM "/usr/bin/chromium"
#define WIDTH 1280

static char run_dir[256], profile[256];

static void setup(void) {
  snprintf(run_dir, sizeof run_dir, "/tmp/cb-test-browser-%d", (int)getpid());
  snprintf(profile, sizeof profile, "/tmp/cb-test-browser-%d.profile", (int)getpid());
}

static void teardown(void) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s %s", run_dir, profile);
  system(cmd);
}

TestSuite(browser, .init = setup, .fini = teardown, .timeout = 240);

static char *slurp(const char *path) {
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "cannot read %s", path);
  char *buf = calloc(1, 8 << 20);
  size_t n = fread(buf, 1, (8 << 20) - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static const char probe[] =
    "<script>var cbErrors=[];"
    "addEventListener('error',function(e){cbErrors.push(e.message||('cannot load '+((e.target&&(e.target.src||e.target.href))||'?')))},true);"
    "(function(){var o=console.error;console.error=function(){cbErrors.push('console.error: '+[].join.call(arguments,' '));"
    "o.apply(console,arguments)}})();"
    "addEventListener('load',function(){var f=document.querySelectorAll('figure'),drawn=0;"
    "f.forEach(function(x){var s=x.querySelector('svg'),b=s&&s.getBoundingClientRect();"
    "if(b&&b.width>200&&b.height>100&&s.querySelectorAll('path,polygon').length>10)drawn++});"
    "var p=document.createElement('pre');p.textContent='CB'+'PROBE figures='+f.length+' drawn='+drawn+' width='+"
    "document.documentElement.scrollWidth+' errors='+cbErrors.length+' ['+cbErrors.join(' | ')+'] CBEND';"
    "document.body.appendChild(p)})</script>";

/* Chromium headless on url (a file: URL) at WIDTH px; extra: its other arguments. */
static void chromium(const char *url, const char *extra1, const char *extra2, cmd_result *r) {
  char size[32], data[300];
  snprintf(size, sizeof size, "--window-size=%d,2000", WIDTH);
  snprintf(data, sizeof data, "--user-data-dir=%s", profile);
  char *argv[] = {CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                  "--no-first-run", "--disable-extensions", "--mute-audio", size, data,
                  "--virtual-time-budget=10000", (char *)extra1, (char *)extra2, (char *)url, NULL};
  if (!extra2) argv[12] = (char *)url, argv[13] = NULL;
  cr_assert_eq(access(CHROMIUM, X_OK), 0, CHROMIUM " is not installed: make deps (scripts/deps.sh) installs chromium");
  run_cmd(argv, 120, r);
  cr_assert(r->exited && r->code == 0, "chromium %s: exit %d (-1: killed at the limit); stderr: %.2000s", url, r->code,
            r->err);
}

static void check_page(const char *fixture, int charts) {
  char cmd[1024], path[600], url[700];
  snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r %s/tests/fixtures/%s %s", run_dir, CB_SRC_DIR, fixture, run_dir);
  cr_assert_eq(system(cmd), 0, "cannot copy the fixture: %s", cmd);
  char *argv[] = {CONCBENCH, "report", run_dir, NULL};
  cmd_result r;
  run_cmd(argv, 120, &r);
  cr_assert_eq(r.code, 0, "report exit %d: %s", r.code, r.err);
  cmd_result_free(&r);

  /* the probe's copy of the page */
  snprintf(path, sizeof path, "%s/report.html", run_dir);
  char *html = slurp(path);
  char *head = strstr(html, "<head>");
  cr_assert_not_null(head, "report.html has no <head>");
  head += 6;
  snprintf(path, sizeof path, "%s/probe.html", run_dir);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fprintf(f, "%.*s%s%s", (int)(head - html), html, probe, head);
  fclose(f);
  free(html);
  snprintf(url, sizeof url, "file://%s", path);
  chromium(url, "--dump-dom", NULL, &r);
  const char *p = strstr(r.out, "CBPROBE ");
  cr_assert_not_null(p, "the probe did not run; the DOM: %.2000s", r.out);
  int figures = -1, drawn = -1, width = -1, errors = -1;
  cr_assert_eq(sscanf(p, "CBPROBE figures=%d drawn=%d width=%d errors=%d", &figures, &drawn, &width, &errors), 4,
               "%.300s", p);
  cr_expect_eq(errors, 0, "errors in the page: %.*s", (int)strcspn(p, "\n"), p);
  cr_expect_eq(figures, charts, "charts in the page: %d, want %d", figures, charts);
  cr_expect_eq(drawn, figures, "charts drawn (a sized SVG with its lines): %d of %d", drawn, figures);
  cr_expect_leq(width, WIDTH, "the page is %d px wide: it scrolls sideways at %d px", width, WIDTH);
  cmd_result_free(&r);

  /* the screenshot, of the page itself, kept for a person to look at */
  mkdir(CB_TEST_OUT_DIR, 0755);
  char shot[600];
  snprintf(shot, sizeof shot, "--screenshot=%s/report-%s.png", CB_TEST_OUT_DIR, fixture);
  snprintf(url, sizeof url, "file://%s/report.html", run_dir);
  chromium(url, shot, "--enable-logging=stderr", &r);
  for (const char *line = r.err; *line;) { /* Chromium logs each console message as a CONSOLE line */
    size_t len = strcspn(line, "\n");
    char *one = strndup(line, len);
    cr_expect(!strstr(one, "CONSOLE"), "a console message: %s", one);
    free(one);
    line += len + (line[len] == '\n');
  }
  cmd_result_free(&r);
  struct stat st;
  snprintf(path, sizeof path, "%s/report-%s.png", CB_TEST_OUT_DIR, fixture);
  cr_expect(stat(path, &st) == 0 && st.st_size > 10000, "no screenshot at %s", path);
}

Test(browser, the_report_of_the_small_run_renders_whole_at_1280_px) { check_page("run-small", 4); }

Test(browser, the_report_with_pipeline_membw_and_map_charts_renders_whole_at_1280_px) { check_page("run-figures", 6); }
