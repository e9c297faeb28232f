/* advise_check.h — `concbench advise --check`: the advice against measurement. For
 * each job shape, every model's prediction (advise.h: the overlap model, and the
 * earlier additive one beside it) and its measured time on the `mixed` workload
 * (`concbench run --workload mixed` as a child, argv only, under a limit), with
 * the error, the predicted and measured best, and two summary figures: the shapes
 * where the predicted best is the measured best or within 10% of it, and the
 * median absolute prediction error. */
#ifndef CB_ADVISE_CHECK_H
#define CB_ADVISE_CHECK_H

#include <stdio.h>

#include "harness/report/advise.h"

#define CB_CHECK_MAX_SHAPES 32
#define CB_CHECK_MAX_MODELS 16

typedef struct cb_check_opts {
  const char *run;        /* run folder the predictions come from */
  unsigned load_flags;    /* cb_results_load's */
  const char *concbench;  /* the program that measures (`concbench run`) */
  long long n;            /* jobs (default 100) */
  double cpu_us[CB_CHECK_MAX_SHAPES], io_ms[CB_CHECK_MAX_SHAPES];
  int nshapes;
  long long rounds;       /* 0: per shape, so that sync's job lasts about budget_s */
  double budget_s;        /* for rounds = 0 (3 s) */
  const char *models[CB_CHECK_MAX_MODELS];
  int nmodels;            /* 0: every model of the run with cpu or io cells */
  const char *io;         /* --param io=...; NULL: the workload's default */
  const char *workload;   /* "mixed" */
  double limit_s;         /* one measured run's limit */
  int runs;               /* measured runs per cell; the median of the verified ones */
  int json;               /* JSON on stdout instead of the tables */
  int against_run;        /* the run's own cells of the workload are the measured
                             figures (their rounds), nothing is run */
} cb_check_opts;

/* The default shapes (the grid's corners and middle) into o. */
void cb_check_default_shapes(cb_check_opts *o);

/* Parses "CPU_US:IO_MS,..." into o's shapes; -EINVAL on anything else. */
int cb_check_parse_shapes(const char *list, cb_check_opts *o);

/* Runs the check and prints it to out. Returns the exit status of `advise --check`
 * (common/exit_codes.h): CB_EXIT_OK (0) when both targets are met (the predicted
 * best holds in every shape and the median absolute error is at most 25%),
 * CB_EXIT_FAILED (1) when either is missed (no cell both predicted and measured
 * misses the error target), CB_EXIT_USAGE (2) when the run cannot be read,
 * CB_EXIT_RESOURCE (3) when no temporary folder can be made. */
int cb_advise_check(const cb_check_opts *o, FILE *out);

/* The rounds for a shape when o->rounds is 0: sync's predicted job (N × rounds ×
 * (cpu + io)) about budget_s, between 1 and 10. */
long long cb_check_rounds(const cb_check_opts *o, double cpu_us, double io_ms);

#endif
