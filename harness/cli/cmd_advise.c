/* cmd_advise.c — `concbench advise --cpu-ms X --io-ms Y --tasks N [--run RUN] [--skip-damaged]`:
 * ranks the models of a measured run for N jobs that each compute X ms and wait
 * Y ms (the prediction is advise.c's), with the cells each figure rests on and a
 * warning where it extrapolates.
 * `concbench advise --check [...]`: the prediction against the measured mixed
 * workload (advise_check.c); exits 0 when both targets are met, 1 when one is
 * missed, 2 on bad input, 3 when it cannot set up (cb_advise_check). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/report/advise.h"
#include "harness/report/advise_check.h"
#include "harness/run/cell.h"
#include "harness/cli/commands.h"
#include "common/exit_codes.h"
#include "common/util.h"

static int parse_ms(const char *flag, const char *v, double *out) {
  char *end;
  double x = strtod(v, &end);
  if (!*v || *end || !(x >= 0 && x <= 3600e3)) {
    fprintf(stderr, "concbench advise: %s: milliseconds from 0 to 3600000, got '%s'\n", flag, v);
    return -EINVAL;
  }
  *out = x;
  return 0;
}

#define CHECK_USAGE \
  "--check [--run RUN] [--tasks N] [--shapes CPU_US:IO_MS,...] [--rounds R] [--models A,B] [--io delayd|sleep] " \
  "[--limit S] [--runs K] [--against-run] [--json] [--skip-damaged]"

static int check_usage(const char *fmt, const char *arg) {
  char clean[128];
  snprintf(clean, sizeof clean, "%s", arg ? arg : "");
  for (char *c = clean; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
  fprintf(stderr, "concbench advise: ");
  fprintf(stderr, fmt, clean);
  fputc('\n', stderr);
  return 2;
}

static int cmd_check(int argc, char **argv) {
  static char self[4096];
  cb_check_opts o = {.n = 100, .budget_s = 3, .workload = "mixed", .limit_s = 30, .runs = 1};
  cb_check_default_shapes(&o);
  const char *run = NULL;
  static char models_buf[512];
  for (int k = 0; k < argc; k++) {
    const char *a = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;
    if (!strcmp(a, "--check")) continue;
    if (!strcmp(a, "--json")) {
      o.json = 1;
      continue;
    }
    if (!strcmp(a, "--against-run")) {
      o.against_run = 1;
      continue;
    }
    if (!strcmp(a, "--skip-damaged")) {
      o.load_flags |= CB_RESULTS_SKIP_DAMAGED;
      continue;
    }
    int known = !strcmp(a, "--run") || !strcmp(a, "--tasks") || !strcmp(a, "--shapes") || !strcmp(a, "--rounds") ||
                !strcmp(a, "--models") || !strcmp(a, "--io") || !strcmp(a, "--limit") || !strcmp(a, "--runs");
    if (!known) return check_usage("unknown argument '%s'; allowed: " CHECK_USAGE, a);
    if (!v) return check_usage("%s needs a value", a);
    k++;
    int64_t x;
    if (!strcmp(a, "--run")) run = v;
    if (!strcmp(a, "--tasks")) {
      if (cb_parse_int(v, 1, 100000, &x) != 0) return check_usage("--tasks: an integer from 1 to 100000, got '%s'", v);
      o.n = x;
    }
    if (!strcmp(a, "--rounds")) {
      if (cb_parse_int(v, 1, 1000000, &x) != 0) return check_usage("--rounds: an integer from 1 to 1000000, got '%s'", v);
      o.rounds = x;
    }
    if (!strcmp(a, "--runs")) {
      if (cb_parse_int(v, 1, 15, &x) != 0) return check_usage("--runs: an integer from 1 to 15, got '%s'", v);
      o.runs = (int)x;
    }
    if (!strcmp(a, "--limit")) {
      if (cb_parse_int(v, 1, 3600, &x) != 0) return check_usage("--limit: seconds from 1 to 3600, got '%s'", v);
      o.limit_s = (double)x;
    }
    if (!strcmp(a, "--shapes") && cb_check_parse_shapes(v, &o) != 0)
      return check_usage("--shapes: CPU_US:IO_MS pairs separated by commas (at most 32, not both 0), got '%s'", v);
    if (!strcmp(a, "--io")) {
      if (strcmp(v, "delayd") != 0 && strcmp(v, "sleep") != 0) return check_usage("--io: delayd or sleep, got '%s'", v);
      o.io = v;
    }
    if (!strcmp(a, "--models")) {
      snprintf(models_buf, sizeof models_buf, "%s", v);
      o.nmodels = 0;
      for (char *save = NULL, *m = strtok_r(models_buf, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
        if (o.nmodels == CB_CHECK_MAX_MODELS) return check_usage("--models: at most 16 models, got '%s'", v);
        o.models[o.nmodels++] = m;
      }
      if (o.nmodels == 0) return check_usage("--models: a comma-separated list of models, got '%s'", v);
    }
  }
  if (!run) run = access("results/latest", R_OK) == 0 ? "results/latest" : "results/reference";
  if (access(run, R_OK) != 0) {
    fprintf(stderr, "concbench advise: --run: cannot read run folder %s: %s\n", run, strerror(errno));
    return 2;
  }
  o.run = run;
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) {
    fprintf(stderr, "concbench advise: cannot find this program: %s\n", strerror(errno));
    return CB_EXIT_RESOURCE;
  }
  self[len] = '\0';
  o.concbench = self;
  return cb_advise_check(&o, stdout);
}

int cb_cmd_advise(int argc, char **argv) {
  for (int k = 0; k < argc; k++)
    if (!strcmp(argv[k], "--check")) return cmd_check(argc, argv);
  double cpu = -1, io = -1;
  int64_t n = -1;
  const char *run = "results/latest";
  unsigned flags = 0;
  for (int k = 0; k < argc; k++) {
    const char *a = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;
    if (strcmp(a, "--skip-damaged") == 0) {
      flags |= CB_RESULTS_SKIP_DAMAGED;
      continue;
    }
    int known = !strcmp(a, "--cpu-ms") || !strcmp(a, "--io-ms") || !strcmp(a, "--tasks") || !strcmp(a, "--run");
    if (!known) {
      fprintf(stderr, "concbench advise: unknown argument '%s'; allowed: --cpu-ms X --io-ms Y --tasks N [--run RUN] [--skip-damaged], or " CHECK_USAGE "\n", a);
      return 2;
    }
    if (!v) {
      fprintf(stderr, "concbench advise: %s needs a value\n", a);
      return 2;
    }
    k++;
    if (!strcmp(a, "--cpu-ms") && parse_ms(a, v, &cpu) != 0) return 2;
    if (!strcmp(a, "--io-ms") && parse_ms(a, v, &io) != 0) return 2;
    if (!strcmp(a, "--run")) run = v;
    if (!strcmp(a, "--tasks") && cb_parse_int(v, 1, CB_MAX_TASKS, &n) != 0) {
      fprintf(stderr, "concbench advise: --tasks: an integer from 1 to %d, got '%s'\n", CB_MAX_TASKS, v);
      return 2;
    }
  }
  if (cpu < 0 || io < 0 || n < 0) {
    fprintf(stderr, "concbench advise: --cpu-ms, --io-ms and --tasks are required\n");
    return 2;
  }
  if (cpu == 0 && io == 0) {
    fprintf(stderr, "concbench advise: --cpu-ms and --io-ms cannot both be 0\n");
    return 2;
  }
  if (access(run, R_OK) != 0) {
    fprintf(stderr, "concbench advise: --run: cannot read run folder %s: %s\n", run, strerror(errno));
    return 2;
  }
  cb_run_results r;
  if (cb_results_load(run, flags, &r) != 0) return 2;
  cb_advice a[64];
  size_t na = cb_advise(&r, cpu, io, n, a, 64);
  printf("advise: %lld jobs, each %g ms of CPU then %g ms of waiting, from %s\n", (long long)n, cpu, io, run);
  printf("(predicted job-phase wall: one job's wait overlaps other jobs' CPU; docs/measuring.md, \"advise\")\n\n");
  printf("%-4s %-10s %14s %10s  %s\n", "rank", "model", "predicted (s)", "behind", "rests on");
  char extrapolated[256] = "";
  size_t used = 0;
  for (size_t k = 0; k < na; k++) {
    if (!a[k].usable) {
      printf("%-4s %-10s %14s %10s  %s\n", "-", a[k].model, "not usable", "", a[k].note);
      continue;
    }
    char behind[32] = "best";
    if (k > 0) snprintf(behind, sizeof behind, "%.2f×", a[k].behind);
    printf("%-4zu %-10s %14.4f %10s  %s%s\n", k + 1, a[k].model, a[k].predicted_s, behind, a[k].basis,
           a[k].extrapolated ? " [extrapolated]" : "");
    if (a[k].extrapolated && used < sizeof extrapolated)
      used += (size_t)snprintf(extrapolated + used, sizeof extrapolated - used, "%s%s", used ? ", " : "", a[k].model);
  }
  if (na == 0) printf("(no cells in this run)\n");
  if (extrapolated[0])
    printf("\nwarning: N=%lld extrapolates beyond the measured sizes for %s; rerun concbench bench with --tasks around "
           "%lld to measure it\n", (long long)n, extrapolated, (long long)n);
  cb_results_free(&r);
  return 0;
}
