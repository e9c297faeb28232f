/* cmd_advise.c — `concbench advise --cpu-ms X --io-ms Y --tasks N [--run RUN] [--skip-damaged]`:
 * ranks the models of a measured run for N jobs that each compute X ms and wait
 * Y ms (the prediction is advise.c's), with the cells each figure rests on and a
 * warning where it extrapolates. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/report/advise.h"
#include "harness/run/cell.h"
#include "harness/cli/commands.h"
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

int cb_cmd_advise(int argc, char **argv) {
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
      fprintf(stderr, "concbench advise: unknown argument '%s'; allowed: --cpu-ms X --io-ms Y --tasks N [--run RUN] [--skip-damaged]\n", a);
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
  printf("(predicted job-phase wall; compute and waiting added, overlap not credited)\n\n");
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
