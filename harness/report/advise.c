/* advise.c — see advise.h.
 *
 * The prediction is additive: wall = compute part + wait part, each scaled from
 * measured cells of the same model (job phase, so process start-up is left out).
 *   compute: N × cpu_ms × (model's time / sync's time) on each cpu workload at the
 *            most cores measured — the model's parallel speed-up on this machine;
 *   wait:    the model's measured time on each io workload at N (log–log between
 *            the measured sizes), scaled by io_ms / the workload's wait per job.
 * Several workloads of a kind are combined by geometric mean. A model that timed
 * out, crashed or gave out at the nearest measured size at or above N is not
 * usable for the job. Models are compared on the workloads every model has a
 * version of, when there is one of the kind; otherwise each on its own. Overlap of
 * compute with waiting is not credited, so for models that overlap them the
 * prediction is an upper bound. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/report/advise.h"

static void add_basis(cb_advice *a, const char *id) {
  size_t used = strlen(a->basis);
  snprintf(a->basis + used, sizeof a->basis - used, "%s%s", used ? ", " : "", id);
}

static void note(cb_advice *a, const char *fmt, const char *w, long long n, const char *status) {
  if (!a->note[0]) snprintf(a->note, sizeof a->note, fmt, w, n, status);
}

/* 1 when some model has no version of the workload. */
static int partial(const cb_run_results *r, const char *workload) {
  for (size_t k = 0; k < r->ncells; k++)
    if (strcmp(r->cells[k].workload, workload) == 0 && strcmp(r->cells[k].status, cb_class_name(CB_CLASS_UNSUPPORTED)) == 0) return 1;
  return 0;
}

/* 1 when a workload of the kind has a version for every model. */
static int common_exists(const cb_run_results *r, const char *kind) {
  for (size_t k = 0; k < r->ncells; k++)
    if (strcmp(r->cells[k].kind, kind) == 0 && !partial(r, r->cells[k].workload)) return 1;
  return 0;
}

static int max_cores(const cb_run_results *r, const char *workload) {
  int m = 0;
  for (size_t k = 0; k < r->ncells; k++)
    if (strcmp(r->cells[k].workload, workload) == 0 && r->cells[k].cores > m) m = r->cells[k].cores;
  return m;
}

static int first_of_workload(const cb_run_results *r, size_t k) {
  for (size_t j = 0; j < k; j++)
    if (strcmp(r->cells[j].workload, r->cells[k].workload) == 0) return 0;
  return 1;
}

/* Compute part: log of the geometric-mean factor in *logf, count of workloads used. */
static int cpu_factor(const cb_run_results *r, cb_advice *a, long long n, double *logf) {
  int used = 0, common = common_exists(r, "cpu");
  *logf = 0;
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (strcmp(c->kind, "cpu") != 0 || !first_of_workload(r, k)) continue;
    if (common && partial(r, c->workload)) continue;
    int cores = max_cores(r, c->workload);
    const cb_cell_summary *m = NULL;
    for (size_t j = 0; j < r->ncells; j++) {
      const cb_cell_summary *d = &r->cells[j];
      if (strcmp(d->workload, c->workload) == 0 && d->cores == cores && strcmp(d->model, a->model) == 0) m = d;
    }
    if (!m || strcmp(m->status, cb_class_name(CB_CLASS_UNSUPPORTED)) == 0) continue;
    const cb_cell_summary *b = cb_results_baseline(r, m);
    if (!m->verified) {
      a->usable = 0;
      note(a, "gave out on %s at N=%lld: %s", m->workload, m->tasks, m->status);
      continue;
    }
    if (!b || !b->verified) continue;
    *logf += log(m->job_wall.median / b->job_wall.median);
    used++;
    add_basis(a, m->id);
    if (n < m->tasks / 4 || n > m->tasks * 4) a->extrapolated = 1;
  }
  return used;
}

/* Wait part for one io workload's series of this model: seconds per second of
 * wait at N, or -1 when the model gave out. */
static double io_time_per_wait(const cb_run_results *r, cb_advice *a, const char *workload, long long n) {
  int cores = max_cores(r, workload);
  const cb_cell_summary *pts[64];
  int np = 0;
  const cb_cell_summary *failed = NULL; /* the smallest N where the model gave out */
  long long ceil_n = -1;                 /* the smallest measured N >= n */
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (strcmp(c->workload, workload) != 0 || c->cores != cores || strcmp(c->model, a->model) != 0) continue;
    if (strcmp(c->status, cb_class_name(CB_CLASS_UNSUPPORTED)) == 0) continue; /* other workloads of the kind speak for it */
    int slow_skip = strcmp(c->status, "skipped") == 0 && strstr(c->error, "predicted") != NULL;
    if (c->tasks >= n && (ceil_n < 0 || c->tasks < ceil_n)) ceil_n = c->tasks;
    if (!c->verified && !slow_skip && (!failed || c->tasks < failed->tasks)) failed = c;
    if (c->verified && np < 64) pts[np++] = c; /* sorted by N (results order) */
  }
  if (failed && (ceil_n < 0 || failed->tasks <= ceil_n)) {
    note(a, "gave out on %s at N=%lld: %s", workload, failed->tasks, failed->status);
    return -1;
  }
  if (np == 0) return -2;
  double wait = cb_results_wait_s(pts[0]);
  if (wait <= 0) return -2;
  int hi = 0;
  while (hi < np && pts[hi]->tasks < n) hi++;
  if (hi < np && pts[hi]->tasks == n) {
    add_basis(a, pts[hi]->id);
    return pts[hi]->job_wall.median / wait;
  }
  if (hi == 0 || hi == np) a->extrapolated = 1;
  if (np == 1) { /* one size: linear in N above it, constant below */
    add_basis(a, pts[0]->id);
    double t = pts[0]->job_wall.median / wait;
    return n > pts[0]->tasks ? t * (double)n / (double)pts[0]->tasks : t;
  }
  int i = hi == 0 ? 0 : hi == np ? np - 2 : hi - 1;
  const cb_cell_summary *x = pts[i], *y = pts[i + 1];
  add_basis(a, x->id);
  add_basis(a, y->id);
  double lx = log((double)x->tasks), ly = log((double)y->tasks);
  double tx = log(x->job_wall.median), ty = log(y->job_wall.median);
  double t = exp(tx + (ty - tx) * (log((double)n) - lx) / (ly - lx));
  return t / wait;
}

static int io_factor(const cb_run_results *r, cb_advice *a, long long n, double *logt) {
  int used = 0, common = common_exists(r, "io");
  *logt = 0;
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (strcmp(c->kind, "io") != 0 || !first_of_workload(r, k)) continue;
    if (common && partial(r, c->workload)) continue;
    double t = io_time_per_wait(r, a, c->workload, n);
    if (t == -1) a->usable = 0;
    if (t > 0) *logt += log(t), used++;
  }
  return used;
}

static int cmp_advice(const void *x, const void *y) {
  const cb_advice *a = x, *b = y;
  if (a->usable != b->usable) return b->usable - a->usable;
  return (a->predicted_s > b->predicted_s) - (a->predicted_s < b->predicted_s);
}

size_t cb_advise(const cb_run_results *r, double cpu_ms, double io_ms, long long n, cb_advice *out, size_t cap) {
  size_t count = 0;
  for (size_t k = 0; k < r->ncells && count < cap; k++) {
    int seen = 0;
    for (size_t j = 0; j < count; j++) seen |= strcmp(out[j].model, r->cells[k].model) == 0;
    if (seen) continue;
    cb_advice *a = &out[count++];
    memset(a, 0, sizeof *a);
    snprintf(a->model, sizeof a->model, "%s", r->cells[k].model);
    a->usable = 1;
    double logf, logt;
    if (cpu_ms > 0) {
      int used = cpu_factor(r, a, n, &logf);
      if (used == 0 && a->usable) {
        a->usable = 0;
        snprintf(a->note, sizeof a->note, "no verified cpu cell of this model to predict from");
      }
      if (used > 0) a->predicted_s += (double)n * cpu_ms / 1000.0 * exp(logf / used);
    }
    if (io_ms > 0) {
      int used = io_factor(r, a, n, &logt);
      if (used == 0 && a->usable) {
        a->usable = 0;
        snprintf(a->note, sizeof a->note, "no verified io cell of this model to predict from");
      }
      if (used > 0) a->predicted_s += io_ms / 1000.0 * exp(logt / used);
    }
    if (a->usable && a->extrapolated && !a->note[0])
      snprintf(a->note, sizeof a->note, "extrapolated: N=%lld lies outside the measured sizes", n);
  }
  qsort(out, count, sizeof *out, cmp_advice);
  for (size_t k = 0; k < count; k++) out[k].behind = out[0].usable && out[0].predicted_s > 0 ? out[k].predicted_s / out[0].predicted_s : 0;
  return count;
}
