/* cmd_compare.c — `concbench compare [--skip-damaged] RUN_A RUN_B`: for every cell measured in
 * both runs, the ratio of median wall times B / A with a 95% bootstrap confidence
 * interval (resampling each run's timed runs), and "no significant difference"
 * when the interval contains 1. Failed cells get no ratio. First, every meta.json
 * field that differs between the runs; when the CPU model or the core count does,
 * the runs are on different machines and every verdict says so. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/check.h"
#include "harness/cli/commands.h"
#include "harness/report/report.h"

#define BOOTSTRAP_ROUNDS 4000

static uint64_t next_rand(uint64_t *s) { /* xorshift64*: fixed seed, same answer every time */
  *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
  return *s * 2685821657736338717ULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double resampled_median(const double *v, size_t n, double *tmp, uint64_t *seed) {
  for (size_t k = 0; k < n; k++) tmp[k] = v[next_rand(seed) % n];
  qsort(tmp, n, sizeof *tmp, cmp_double);
  return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

/* 95% percentile bootstrap interval of median(b) / median(a). Cost: O(R n log n). */
static void bootstrap_ratio(const cb_cell_summary *a, const cb_cell_summary *b, double *lo, double *hi) {
  size_t na = a->wall.n, nb = b->wall.n;
  double *ratios = malloc(BOOTSTRAP_ROUNDS * sizeof *ratios), *tmp = malloc((na > nb ? na : nb) * sizeof *tmp);
  CB_CHECK(ratios && tmp);
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  for (int k = 0; k < BOOTSTRAP_ROUNDS; k++)
    ratios[k] = resampled_median(b->times, nb, tmp, &seed) / resampled_median(a->times, na, tmp, &seed);
  qsort(ratios, BOOTSTRAP_ROUNDS, sizeof *ratios, cmp_double);
  *lo = ratios[(int)(0.025 * BOOTSTRAP_ROUNDS)];
  *hi = ratios[(int)(0.975 * BOOTSTRAP_ROUNDS) - 1];
  free(ratios);
  free(tmp);
}

/* A meta.json value on one line, at most cap - 1 characters (control characters '?'). */
static void value_text(json_t *v, char *out, size_t cap) {
  char *dumped = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  const char *text = !v ? "(absent)" : json_is_string(v) ? json_string_value(v) : dumped ? dumped : "?";
  size_t k = 0;
  for (; text[k] && k + 1 < cap; k++) out[k] = (unsigned char)text[k] < 0x20 ? '?' : text[k];
  out[k] = '\0';
  if (text[k] && cap > 4) memcpy(out + cap - 4, "...", 4);
  free(dumped);
}

/* Lists every meta.json field whose value differs between the runs (A's keys in
 * order, then those only B has). Returns 1 when the machines differ: the CPU model
 * or the core count (a speed difference is then not a code difference). */
static int machine_differences(json_t *a, json_t *b) {
  if (!a || !b) {
    printf("No meta.json in %s: whether the machines differ is unknown.\n\n", !a && !b ? "either run" : !a ? "A" : "B");
    return 0;
  }
  int differ = !json_equal(json_object_get(a, "cpu"), json_object_get(b, "cpu")) ||
               !json_equal(json_object_get(a, "cores"), json_object_get(b, "cores"));
  int listed = 0;
  for (int side = 0; side < 2; side++) {
    json_t *one = side ? b : a, *other = side ? a : b, *v;
    const char *key;
    json_object_foreach(one, key, v) {
      if (side && json_object_get(other, key)) continue; /* listed with A's keys */
      json_t *va = side ? NULL : v, *vb = side ? v : json_object_get(b, key);
      if (json_equal(va, vb)) continue;
      char ta[120], tb[120];
      value_text(va, ta, sizeof ta), value_text(vb, tb, sizeof tb);
      if (!listed++) printf("meta.json fields that differ (A -> B):\n");
      printf("- %s: %s -> %s\n", key, ta, tb);
    }
  }
  if (!listed) printf("meta.json: no field differs.\n");
  if (differ)
    printf("\nDIFFERENT MACHINES: the CPU model or the core count differs, so a ratio below measures the machines "
           "as much as the code; each verdict says so.\n");
  printf("\n");
  return differ;
}

int cb_cmd_compare(int argc, char **argv) {
  unsigned flags = 0;
  char *runs[2];
  int nruns = 0;
  for (int k = 0; k < argc; k++) {
    if (strcmp(argv[k], "--skip-damaged") == 0) {
      flags |= CB_RESULTS_SKIP_DAMAGED;
    } else if (argv[k][0] == '-' || nruns == 2) {
      fprintf(stderr, "concbench compare: takes [--skip-damaged] and two run folders, RUN_A RUN_B; got '%s'\n", argv[k]);
      return 2;
    } else {
      runs[nruns++] = argv[k];
    }
  }
  if (nruns != 2) {
    fprintf(stderr, "concbench compare: takes two run folders, RUN_A RUN_B; got %d\n", nruns);
    return 2;
  }
  argv = runs;
  cb_run_results ra, rb;
  for (int k = 0; k < 2; k++)
    if (access(argv[k], R_OK) != 0) {
      fprintf(stderr, "concbench compare: %s: cannot read run folder %s: %s\n", k ? "RUN_B" : "RUN_A", argv[k],
              strerror(errno));
      return 2;
    }
  if (cb_results_load(argv[0], flags, &ra) != 0) return 2;
  if (cb_results_load(argv[1], flags, &rb) != 0) {
    cb_results_free(&ra);
    return 2;
  }
  printf("compare: B = %s against A = %s; ratio = median wall B / A with a 95%% bootstrap interval\n\n", argv[1],
         argv[0]);
  int machines = machine_differences(ra.meta, rb.meta);
  printf("| workload | model | N | cores | params | A median (s) | B median (s) | B / A | 95%% CI | verdict%s |\n",
         machines ? " (different machines)" : "");
  printf("|---|---|---:|---:|---|---:|---:|---:|---|---|\n");
  int matched = 0;
  for (size_t k = 0; k < ra.ncells; k++) {
    const cb_cell_summary *a = &ra.cells[k], *b = NULL;
    for (size_t j = 0; j < rb.ncells && !b; j++)
      if (cb_results_same_series(a, &rb.cells[j]) && a->tasks == rb.cells[j].tasks) b = &rb.cells[j];
    if (!b) continue;
    matched++;
    char ptext[256];
    cb__params_text(a->params, ptext, sizeof ptext);
    printf("| %s | %s | %lld | %d | %s | ", a->workload, a->model, a->tasks, a->cores, ptext);
    if (!a->verified || !b->verified) {
      printf("%s | %s | — | — | no ratio: %s |\n", a->verified ? "ok" : a->status, b->verified ? "ok" : b->status,
             !a->verified && !b->verified ? "failed in both" : !a->verified ? "failed in A" : "failed in B");
      continue;
    }
    double lo, hi, ratio = b->wall.median / a->wall.median;
    bootstrap_ratio(a, b, &lo, &hi);
    char verdict[96];
    const char *on = machines ? "different machines: " : "";
    if (lo <= 1 && hi >= 1) snprintf(verdict, sizeof verdict, "%sno significant difference", on);
    else if (hi < 1) snprintf(verdict, sizeof verdict, "%sB faster by %.0f%%", on, (1 - ratio) * 100);
    else snprintf(verdict, sizeof verdict, "%sB slower by %.0f%%", on, (ratio - 1) * 100);
    printf("%.4f | %.4f | %.3f | %.3f–%.3f | %s |\n", a->wall.median, b->wall.median, ratio, lo, hi, verdict);
  }
  printf("\n%d cells in both runs (%zu in A, %zu in B)\n", matched, ra.ncells, rb.ncells);
  cb_results_free(&ra);
  cb_results_free(&rb);
  return 0;
}
