/* advise.c — see advise.h.
 *
 * Two predictions from the same measured cells of each model (job phase, so process
 * start-up is left out):
 *
 * The overlap model (predicted_s, what the ranking uses). A job alternates CPU and
 * waiting, so one job's waits overlap other jobs' CPU. Per model:
 *   P  capacity: the model's speed-up over sync on each cpu workload at the most
 *      cores measured (geometric mean over workloads, at most the cores): green ~1,
 *      threads, procs and the loop's executor ~the cores, less their overheads;
 *      and no more than the model's own scaling from its fewest cores to the most
 *      (its time there / its time here, the largest over the workloads, at least
 *      1): a model that does not gain from cores (green) keeps one core's worth
 *      however noisy sync's cells were, and a bound taken from the workload that
 *      scales best does not import another's limit (membw's memory bandwidth).
 *      When the shape names its kernel (cb_job_shape.kernel: --check predicts the
 *      mixed workload, whose step is one serial LCG chain) and the run holds that
 *      workload's pure-CPU cells (io_ms = 0, the map's grid), P is instead the
 *      model's speed-up over sync there, at the largest cpu_us (a job is mostly its
 *      step), at most the cores: the cpu workloads' kernels scale otherwise (pow
 *      allocates; membw is bound by memory bandwidth, which a second core does not
 *      double), and on the reference run they gave threads 1.39 where mixed's own
 *      cell gave 2.0. The gain bound above is left out here, since it too comes
 *      from the other kernels (on the reference run it ranked procs first on the
 *      kernel, where procs measured slowest of the three); the cost is that sync's
 *      noise reaches a one-core model (green 1.06 there). Plain `advise` and
 *      the report name no kernel (a user's step is not mixed's) and keep the cpu
 *      workloads. A checked shape with no wait at that cpu_us is P's own cell: the
 *      check prints what P was built from and flags it;
 *   W  concurrency: the concurrency the model reported on the io cells (sync 1,
 *      one unit per job otherwise); the jobs run in ceil(N / W) waves of n = min(N, W);
 *   O  overhead per round: the model's measured time on each io workload at N
 *      (log–log between the measured sizes) less its waves' waits (mean over io
 *      workloads): creating and switching N waiters, the requests' own CPU.
 *   O is CPU work, not a pause: in the io cells nothing else ran, so their time
 *   beyond the wait is what the waiting machinery costs the model's CPUs. In a
 *   mixed job that work competes with the steps for the same capacity P rather
 *   than adding to the wall after them: green's scheduler does its switching on
 *   the one core that runs its steps (so it adds in full), while the loop's
 *   overhead runs on the loop thread as the executor's threads compute (so it
 *   shares the cores with them). One round of a wave takes
 *     T = max((n × cpu + o) / P, cpu, o),     o = O / waves (O only when io > 0)
 *   no less than one step (a step is not split across cores) and no less than the
 *   overhead took alone with the whole machine (the io cells). The first round is
 *   every job's step, then the wait; each further round is bound by whichever is
 *   slower, the CPU getting through every job's step and the overhead (T) or one
 *   job's own step, its share of the overhead and its wait:
 *     wave = T + io + (rounds − 1) × max(T, cpu + o / n + io)
 *     wall = waves × wave
 *   With rounds = 1 this is the additive form (all CPU, then the last wait); with
 *   io = 0 it is N × rounds × cpu / P; for sync (W = 1, P = 1)
 *   N × rounds × (cpu + io) + rounds × O. (Until 2026-12 O was added to the wall
 *   once per round after the CPU, which charged the loop for overhead its executor
 *   overlaps and ranked green first on 100 µs steps with 10 ms waits, where the loop
 *   measured 15% faster.)
 *
 * The additive model (additive_s, the earlier one, kept for --check's before/after):
 *   compute: N × rounds × cpu × (model's time / sync's) on the cpu cells at the most
 *            cores; wait: the io cells' time at N scaled by rounds × io / their wait.
 *   Overlap of compute with waiting is not credited.
 *
 * Several workloads of a kind are combined by geometric mean (times) or mean
 * (overheads). A model that timed out, crashed or gave out at the nearest measured
 * size at or above N is not usable for the job. Models are compared on the workloads
 * every model has a version of, when there is one of the kind; otherwise each on
 * its own. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness/report/advise.h"

static void add_basis(cb_advice *a, const char *id) {
  if (strstr(a->basis, id)) return;
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

/* The jobs a cell's model runs at once for n jobs: its reported concurrency, or n
 * when it ran one unit per job. */
static double concurrency_at(const cb_cell_summary *c, long long n) {
  if (c->eff_concurrency <= 0 || c->eff_concurrency >= c->tasks) return (double)n;
  return (double)(c->eff_concurrency < n ? c->eff_concurrency : n);
}

/* The model's cell of a cpu workload on the fewest cores, or NULL. */
static const cb_cell_summary *fewest_cores(const cb_run_results *r, const cb_cell_summary *m) {
  const cb_cell_summary *best = NULL;
  for (size_t j = 0; j < r->ncells; j++) {
    const cb_cell_summary *d = &r->cells[j];
    if (strcmp(d->workload, m->workload) == 0 && strcmp(d->model, m->model) == 0 && d->tasks == m->tasks &&
        (!best || d->cores < best->cores))
      best = d;
  }
  return best;
}

/* Compute part: log of the geometric-mean factor (model / sync) in *logf, the
 * fewest cores measured at the top in *cores, the least concurrency in *conc, and
 * the log of the model's largest own scaling from its fewest cores to the most in
 * *logs (over *nscale workloads); returns the count of workloads used. */
static int cpu_factor(const cb_run_results *r, cb_advice *a, long long n, double *logf, int *cores_out, double *conc,
                      double *logs, int *nscale) {
  int used = 0, common = common_exists(r, "cpu");
  *logf = 0;
  *logs = 0;
  *nscale = 0;
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
    const cb_cell_summary *one = fewest_cores(r, m);
    if (one && one != m && one->cores < m->cores && one->verified) {
      double g = log(one->job_wall.median / m->job_wall.median);
      if (*nscale == 0 || g > *logs) *logs = g;
      ++*nscale;
      add_basis(a, one->id);
    }
    if (*cores_out == 0 || cores < *cores_out) *cores_out = cores;
    double w = concurrency_at(m, n);
    if (*conc == 0 || w < *conc) *conc = w;
    add_basis(a, m->id);
    if (n < m->tasks / 4 || n > m->tasks * 4) a->extrapolated = 1;
  }
  return used;
}

/* The capacity on the job's own kernel: the model's time over sync's on the
 * kernel workload's pure-CPU cells (io_ms = 0, cpu_us > 0) at its most cores, the
 * largest cpu_us the model verified (the least per-job cost beside the CPU), the N
 * nearest n. 1 with *f, *cores_out and *cpu_us_out; 0 when the run has no such pair. */
static int kernel_factor(const cb_run_results *r, cb_advice *a, const char *kernel, long long n, double *f,
                         int *cores_out, double *cpu_us_out) {
  int cores = max_cores(r, kernel);
  const cb_cell_summary *m = NULL;
  double best_us = 0;
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *d = &r->cells[k];
    if (strcmp(d->workload, kernel) != 0 || strcmp(d->model, a->model) != 0 || d->cores != cores || !d->verified)
      continue;
    json_t *io = json_object_get(d->params, "io_ms"), *cpu = json_object_get(d->params, "cpu_us");
    if (!json_is_number(io) || !json_is_number(cpu) || json_number_value(io) != 0 || json_number_value(cpu) <= 0) continue;
    double us = json_number_value(cpu);
    if (!m || us > best_us || (us == best_us && llabs(d->tasks - n) < llabs(m->tasks - n))) {
      m = d;
      best_us = us;
    }
  }
  if (!m) return 0;
  const cb_cell_summary *b = cb_results_baseline(r, m);
  if (!b || !b->verified || b->job_wall.median <= 0) return 0;
  *f = m->job_wall.median / b->job_wall.median;
  *cores_out = cores;
  *cpu_us_out = best_us;
  add_basis(a, m->id);
  return 1;
}

/* One io workload's series of this model at n: *t the time (s), *wait its wait per
 * job, *conc the concurrency. 1 when set, 0 when there is nothing to predict from,
 * -1 when the model gave out. */
static int io_at(const cb_run_results *r, cb_advice *a, const char *workload, long long n, double *t, double *wait,
                 double *conc) {
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
  if (np == 0) return 0;
  *wait = cb_results_wait_s(pts[0]);
  if (*wait <= 0) return 0;
  int hi = 0;
  while (hi < np && pts[hi]->tasks < n) hi++;
  if (hi < np && pts[hi]->tasks == n) {
    add_basis(a, pts[hi]->id);
    *t = pts[hi]->job_wall.median;
    *conc = concurrency_at(pts[hi], n);
    return 1;
  }
  if (hi == 0 || hi == np) a->extrapolated = 1;
  if (np == 1) { /* one size: linear in N above it, constant below */
    add_basis(a, pts[0]->id);
    *t = pts[0]->job_wall.median;
    if (n > pts[0]->tasks) *t *= (double)n / (double)pts[0]->tasks;
    *conc = concurrency_at(pts[0], n);
    return 1;
  }
  int i = hi == 0 ? 0 : hi == np ? np - 2 : hi - 1;
  const cb_cell_summary *x = pts[i], *y = pts[i + 1];
  add_basis(a, x->id);
  add_basis(a, y->id);
  double lx = log((double)x->tasks), ly = log((double)y->tasks);
  double tx = log(x->job_wall.median), ty = log(y->job_wall.median);
  *t = exp(tx + (ty - tx) * (log((double)n) - lx) / (ly - lx));
  *conc = concurrency_at(hi < np ? y : x, n);
  return 1;
}

/* Wait part over the io workloads: *logt the log of the geometric-mean time per
 * second of wait (the additive model), *overhead the mean time beyond the waves'
 * waits, *conc the least concurrency. Returns the count of workloads used. */
static int io_factor(const cb_run_results *r, cb_advice *a, long long n, double *logt, double *overhead, double *conc) {
  int used = 0, common = common_exists(r, "io");
  *logt = 0;
  *overhead = 0;
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (strcmp(c->kind, "io") != 0 || !first_of_workload(r, k)) continue;
    if (common && partial(r, c->workload)) continue;
    double t = 0, wait = 0, w = 0;
    int got = io_at(r, a, c->workload, n, &t, &wait, &w);
    if (got < 0) a->usable = 0;
    if (got <= 0 || t <= 0) continue;
    *logt += log(t / wait);
    double waves = ceil((double)n / w);
    *overhead += fmax(0, t - waves * wait);
    if (*conc == 0 || w < *conc) *conc = w;
    used++;
  }
  if (used) *overhead /= used;
  return used;
}

double cb_advise_wall(const cb_advise_terms *t, const cb_job_shape *s) {
  double cpu = s->cpu_ms / 1000.0, io = s->io_ms / 1000.0, rounds = (double)(s->rounds > 0 ? s->rounds : 1);
  double n = (double)s->n, w = t->concurrency > 0 && t->concurrency < n ? t->concurrency : n;
  double p = t->capacity > 0 ? t->capacity : 1;
  double waves = ceil(n / w);
  double o = io > 0 ? t->overhead_s / waves : 0; /* one wave's share of a round's overhead */
  /* one round of the wave: the steps' CPU and the overhead share the capacity; no
   * less than one step, nor than the overhead took alone on the io cells */
  double step = fmax(fmax(cpu, o), (w * cpu + o) / p);
  double wave = step + io + (rounds - 1) * fmax(step, cpu + o / w + io); /* a job's chain carries its share */
  return waves * wave;
}

static int cmp_advice(const void *x, const void *y) {
  const cb_advice *a = x, *b = y;
  if (a->usable != b->usable) return b->usable - a->usable;
  return (a->predicted_s > b->predicted_s) - (a->predicted_s < b->predicted_s);
}

size_t cb_advise_shape(const cb_run_results *r, const cb_job_shape *s, cb_advice *out, size_t cap) {
  size_t count = 0;
  double rounds = (double)(s->rounds > 0 ? s->rounds : 1);
  for (size_t k = 0; k < r->ncells && count < cap; k++) {
    int seen = 0;
    for (size_t j = 0; j < count; j++) seen |= strcmp(out[j].model, r->cells[k].model) == 0;
    if (seen) continue;
    cb_advice *a = &out[count++];
    memset(a, 0, sizeof *a);
    snprintf(a->model, sizeof a->model, "%s", r->cells[k].model);
    a->usable = 1;
    a->terms.capacity = 1;
    double logf, logt, logs, cpu_conc = 0, io_conc = 0;
    int cores = 0, nscale = 0;
    if (s->cpu_ms > 0) {
      int used = cpu_factor(r, a, s->n, &logf, &cores, &cpu_conc, &logs, &nscale);
      double kf = 0, kus = 0;
      int kcores = 0, kern = s->kernel && kernel_factor(r, a, s->kernel, s->n, &kf, &kcores, &kus);
      if (used == 0 && !kern && a->usable) {
        a->usable = 0;
        snprintf(a->note, sizeof a->note, "no verified cpu cell of this model to predict from");
      }
      if (used > 0 || kern) {
        double f = kern ? kf : exp(logf / used); /* model's time / sync's */
        if (kern) cores = kcores;
        a->additive_s += (double)s->n * rounds * s->cpu_ms / 1000.0 * f;
        a->terms.capacity = fmin(1 / f, cores > 0 ? cores : 1 / f);
        if (nscale > 0 && !kern) a->terms.capacity = fmin(a->terms.capacity, fmax(1, exp(logs)));
        if (kern)
          snprintf(a->capacity_from, sizeof a->capacity_from, "%s's cell at cpu_us=%g, io_ms=0", s->kernel, kus);
        else snprintf(a->capacity_from, sizeof a->capacity_from, "the cpu workloads");
        a->kernel_cpu_us = kern ? kus : 0;
      }
    }
    if (s->io_ms > 0) {
      int used = io_factor(r, a, s->n, &logt, &a->terms.overhead_s, &io_conc);
      if (used == 0 && a->usable) {
        a->usable = 0;
        snprintf(a->note, sizeof a->note, "no verified io cell of this model to predict from");
      }
      if (used > 0) a->additive_s += rounds * s->io_ms / 1000.0 * exp(logt / used);
    }
    a->terms.concurrency = s->io_ms > 0 ? io_conc : cpu_conc;
    if (a->terms.concurrency <= 0) a->terms.concurrency = (double)s->n;
    a->predicted_s = a->usable ? cb_advise_wall(&a->terms, s) : 0;
    if (a->usable && a->extrapolated && !a->note[0])
      snprintf(a->note, sizeof a->note, "extrapolated: N=%lld lies outside the measured sizes", s->n);
  }
  qsort(out, count, sizeof *out, cmp_advice);
  for (size_t k = 0; k < count; k++) out[k].behind = out[0].usable && out[0].predicted_s > 0 ? out[k].predicted_s / out[0].predicted_s : 0;
  return count;
}

size_t cb_advise(const cb_run_results *r, double cpu_ms, double io_ms, long long n, cb_advice *out, size_t cap) {
  cb_job_shape s = {.cpu_ms = cpu_ms, .io_ms = io_ms, .rounds = 1, .n = n};
  return cb_advise_shape(r, &s, out, cap);
}
