/* advise.h — which model for N jobs that each alternate `rounds` times cpu_ms of
 * computing and io_ms of waiting, predicted from a run's measured cells (see
 * advise.c for the model and docs/measuring.md for its terms). Used by `concbench
 * advise`, its --check (advise_check.h) and the report's summary. */
#ifndef CB_ADVISE_H
#define CB_ADVISE_H

#include "harness/bench/results.h"

/* A job: rounds × (cpu_ms of CPU, then a wait of io_ms), N of them, all started at
 * once (one execution unit per job, as the bench's io cells run). */
typedef struct cb_job_shape {
  double cpu_ms;    /* CPU per round, ms */
  double io_ms;     /* wait per round, ms */
  long long rounds; /* >= 1 */
  long long n;      /* jobs */
  const char *kernel; /* NULL, or the workload whose CPU step the job runs: P then comes
                         from its pure-CPU cells (io_ms = 0) when the run has them */
} cb_job_shape;

/* A model's measured terms (advise.c says where each comes from). */
typedef struct cb_advise_terms {
  double capacity;    /* P: how many cores' worth of CPU the model gives its jobs (its
                         speed-up over sync on the cpu cells at the most cores, or on
                         the shape's kernel's pure-CPU cell) */
  double concurrency; /* W: jobs in flight at once (the io cells' reported concurrency;
                         sync: 1); the jobs run in ceil(N / W) waves */
  double overhead_s;  /* per round: the io cells' time at N beyond their waves' waits;
                         CPU the model's cores do, shared with the steps (advise.c) */
} cb_advise_terms;

/* The overlap model's wall time for a shape and a model's terms, s (pure: no run). */
double cb_advise_wall(const cb_advise_terms *t, const cb_job_shape *s);

typedef struct cb_advice {
  char model[32];
  int usable;          /* 0: the model gave out where this job lies, or was not measured */
  double predicted_s;  /* predicted job-phase wall time, s (the overlap model) */
  double additive_s;   /* the earlier additive prediction (compute + wait), for comparison */
  cb_advise_terms terms;
  double behind;       /* predicted_s / the best model's predicted_s (1 = best) */
  int extrapolated;    /* N lies outside the measured sizes */
  char basis[768];     /* the cells the prediction rests on */
  char note[256];      /* why not usable, or what was extrapolated */
  char capacity_from[96]; /* what P rests on: the cpu workloads, or the kernel's cell */
  double kernel_cpu_us;   /* the kernel's cell P rests on (its cpu_us), 0: none */
} cb_advice;

/* Ranks every model of the run, best first, usable ones before the rest. Writes at most cap entries, returns how many. Cost: O(models ×
 * cells²). */
size_t cb_advise_shape(const cb_run_results *r, const cb_job_shape *s, cb_advice *out, size_t cap);

/* One round: cb_advise_shape of {cpu_ms, io_ms, 1, n}. */
size_t cb_advise(const cb_run_results *r, double cpu_ms, double io_ms, long long n, cb_advice *out, size_t cap);

#endif
