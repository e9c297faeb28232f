/* pipeline.c — the pipeline versions' shared latency samples and report figures
 * (pipeline.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "runtimes/pipeline.h"

#define SAMPLES_MAX (UINT64_C(1) << 20) /* per run, about */
#define SAMPLES_PER_PIPELINE_MAX 4096
#define SAMPLES_PER_PIPELINE_MIN 16

int cb__pipe_lat_init(cb__pipe_lat *l, uint64_t n, uint64_t items, int shared) {
  uint64_t cap = SAMPLES_MAX / (n ? n : 1);
  if (cap > SAMPLES_PER_PIPELINE_MAX) cap = SAMPLES_PER_PIPELINE_MAX;
  if (cap < SAMPLES_PER_PIPELINE_MIN) cap = SAMPLES_PER_PIPELINE_MIN;
  unsigned shift = 6;
  while (shift < 40 && ((items + (UINT64_C(1) << shift) - 1) >> shift) > cap) shift++;
  *l = (cb__pipe_lat){.shift = shift, .mask = (UINT64_C(1) << shift) - 1, .shared = shared};
  l->per = (items + l->mask) >> shift;
  l->bytes = (size_t)(n * l->per * sizeof *l->slot);
  if (l->bytes == 0) l->bytes = sizeof *l->slot;
  if (shared) {
    void *m = mmap(NULL, l->bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    l->slot = m == MAP_FAILED ? NULL : m;
  } else {
    l->slot = calloc(1, l->bytes);
  }
  return l->slot ? 0 : -ENOMEM;
}

void cb__pipe_lat_free(cb__pipe_lat *l) {
  if (!l->slot) return;
  if (l->shared) munmap(l->slot, l->bytes);
  else free(l->slot);
  l->slot = NULL;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least p% of the samples at or below it. */
static double rank_us(const int64_t *v, uint64_t n, double p) {
  uint64_t r = (uint64_t)((p / 100.0) * (double)n + 0.999999);
  if (r < 1) r = 1;
  if (r > n) r = n;
  return (double)v[r - 1] / 1000.0;
}

void cb__pipeline_report(cb_run_report *report, const cb_run_spec *spec, const cb_pipeline_spec *p,
                         const cb__pipe_lat *l, int64_t t0, int64_t t1, uint64_t queue_items) {
  uint64_t done = 0;
  for (uint64_t i = 0; i < spec->tasks; i++) done += report->jobs[i].done && report->jobs[i].status == 0;
  if (done == 0 || !l->slot) return;
  int64_t *all = malloc(done * l->per * sizeof *all);
  uint64_t n = 0;
  if (all)
    for (uint64_t i = 0; i < spec->tasks; i++)
      if (report->jobs[i].done && report->jobs[i].status == 0)
        for (uint64_t k = 0; k < l->per; k++) all[n++] = l->slot[i * l->per + k];
  double wall = (double)(t1 > t0 ? t1 - t0 : 1) / 1e9;
  cb_report_extra(report, "items_per_s", (double)(done * p->items) / wall);
  if (all && n > 0) {
    qsort(all, n, sizeof *all, cmp_i64);
    cb_report_extra(report, "item_latency_us_p50", rank_us(all, n, 50));
    cb_report_extra(report, "item_latency_us_p99", rank_us(all, n, 99));
  }
  cb_report_extra(report, "queue_items", (double)queue_items);
  free(all);
}

int cb__pipeline_check_units(cb_run_report *report, const cb_run_spec *spec, const cb_pipeline_spec *p,
                             const char *model, const char *units) {
  uint64_t at_once = cb_spec_concurrency(spec), per = p->stages + 2;
  if (at_once <= CB_PIPELINE_MAX_OS_UNITS / per) return 0;
  cb_report_error(report,
                  "--param stages: %s runs at most %d %s at once, min(--tasks, --concurrency) x (stages + 2), "
                  "got %llu x %llu; lower --tasks or --param stages, or bound the pipelines with --concurrency",
                  model, CB_PIPELINE_MAX_OS_UNITS, units, (unsigned long long)at_once, (unsigned long long)per);
  return -ERANGE;
}
