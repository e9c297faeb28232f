/* advise.h — which model for a job that computes cpu_ms and waits io_ms, N at a
 * time, predicted from a run's measured cells (see advise.c for the model). Used
 * by `concbench advise` and by the report's summary. */
#ifndef CB_ADVISE_H
#define CB_ADVISE_H

#include "harness/bench/results.h"

typedef struct cb_advice {
  char model[32];
  int usable;          /* 0: the model gave out where this job lies, or was not measured */
  double predicted_s;  /* predicted job-phase wall time, s */
  double behind;       /* predicted_s / the best model's predicted_s (1 = best) */
  int extrapolated;    /* N lies outside the measured sizes */
  char basis[768];     /* the cells the prediction rests on */
  char note[256];      /* why not usable, or what was extrapolated */
} cb_advice;

/* Ranks every model of the run, best first, usable ones before the rest. Writes at
 * most cap entries, returns how many. Cost: O(models × cells). */
size_t cb_advise(const cb_run_results *r, double cpu_ms, double io_ms, long long n, cb_advice *out, size_t cap);

#endif
