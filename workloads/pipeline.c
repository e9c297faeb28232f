/* pipeline.c — producer -> filters -> consumer (issue 17; seed 000's generator
 * pipeline): spec->tasks independent pipelines, each a source emitting `items`
 * items through `stages` stages connected by bounded queues of `queue` items to a
 * sink. How a model connects the stages is its own (cb_model.pipeline): a push chain
 * of calls (sync), a thread per stage with mutex+condvar queues, a process per stage
 * with pipes, a green thread per stage with channels, a loop task per stage with the
 * loop's Queue. Kind coord: like pingpong it measures hand-offs, and the report's
 * coordination charts (against N) apply.
 *
 * Item k of pipeline i leaves the source as mix64(seed_i + k); stage s adds its key,
 * multiplies by an odd constant and xor-shifts (invertible, ~2 ns), then, with
 * work_us > 0, spins a calibrated LCG of n steps started from the item and xors the
 * end state in, so the spin's result is checked. The sink folds in arrival order,
 * acc = mix64(acc + v) (a swap, loss or duplicate changes it). expected() computes
 * the same fold without queues, the spin in closed form (n LCG steps are one affine
 * map, composed by squaring in prepare), so checking costs O(items x stages) even
 * with work. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/clock.h"
#include "runtimes/runtime.h"
#include "workloads/body.h"
#include "workloads/calibrate.h"
#include "workloads/workload.h"
#include "workloads/workloads.h"

enum { P_STAGES, P_QUEUE, P_ITEMS, P_WORK_US };

#define STAGES_MAX 64
static const cb_param_def pipeline_params[] = {
    [P_STAGES] = {"stages", 4, 1, STAGES_MAX, "filter stages between the source and the sink", NULL},
    [P_QUEUE] = {"queue", 16, 1, 65536, "capacity of each bounded queue, items (procs: a pipe, at least a page)",
                 NULL},
    [P_ITEMS] = {"items", 100000, 1, 1000000000, "items each pipeline moves from source to sink", NULL},
    [P_WORK_US] = {"work_us", 0, 0, 100000, "CPU per item per stage (a calibrated spin), us", NULL},
};

#define LCG_A UINT64_C(6364136223846793005)
#define LCG_C UINT64_C(1442695040888963407)
#define MIX_ODD UINT64_C(0xd6e8feb86659fd93)
#define FOLD_INIT UINT64_C(0x243f6a8885a308d3)

typedef struct pl_prep {
  cb_pipeline_spec spec;
  uint64_t spin;           /* LCG steps per item per stage */
  uint64_t jump_a, jump_c; /* spin steps as one affine map: x -> jump_a * x + jump_c */
  double iters_per_us;
  uint64_t key[STAGES_MAX];
} pl_prep;

/* n steps of the LCG from x, one dependent multiply-add a step, never folded away. */
static uint64_t spin(uint64_t x, uint64_t n) {
  for (uint64_t k = 0; k < n; k++) {
    x = x * LCG_A + LCG_C;
    __asm__ volatile("" : "+r"(x));
  }
  return x;
}

static uint64_t pl_source(const cb_pipeline_spec *p, uint64_t i, uint64_t k) {
  return cb_mix64(cb_mix64(i ^ UINT64_C(0x9e3779b97f4a7c15)) + k);
}

static inline uint64_t mix_stage(const pl_prep *st, uint64_t s, uint64_t v) {
  v = (v + st->key[s]) * MIX_ODD;
  return v ^ (v >> 29);
}

static uint64_t pl_stage(const cb_pipeline_spec *p, uint64_t s, uint64_t v) {
  const pl_prep *st = p->arg;
  v = mix_stage(st, s, v);
  return st->spin ? v ^ spin(v, st->spin) : v;
}

static uint64_t pl_fold(uint64_t acc, uint64_t v) { return cb_mix64(acc + v); }

/* Iterations of spin per us. */
static void spin_kernel(void *arg, uint64_t iters) {
  volatile uint64_t sink = spin((uint64_t)(uintptr_t)arg, iters); /* kept: the loop must run */
  (void)sink;
}

static double calibrate(void) { return cb_calibrate_per_us(spin_kernel, NULL, 200000, 5); }

static int pipeline_prepare(cb_job_env *env, char err[CB_ERR_LEN]) {
  const int64_t *v = env->params->v;
  pl_prep *st = calloc(1, sizeof *st);
  if (!st) {
    snprintf(err, CB_ERR_LEN, "out of memory");
    return -ENOMEM;
  }
  for (int s = 0; s < STAGES_MAX; s++) st->key[s] = cb_mix64(UINT64_C(0x51ed270b27c3a5f1) * (uint64_t)(s + 1));
  if (v[P_WORK_US] > 0) {
    st->iters_per_us = calibrate();
    double n = st->iters_per_us * (double)v[P_WORK_US];
    st->spin = n < 1 ? 1 : (uint64_t)n;
  }
  /* (a, c)^n by squaring: composing x -> a1 x + c1 after x -> a0 x + c0 gives
   * x -> a1 a0 x + (a1 c0 + c1). */
  uint64_t ra = 1, rc = 0, ba = LCG_A, bc = LCG_C;
  for (uint64_t n = st->spin; n; n >>= 1) {
    if (n & 1) {
      rc = ba * rc + bc;
      ra = ba * ra;
    }
    bc = ba * bc + bc;
    ba = ba * ba;
  }
  st->jump_a = ra;
  st->jump_c = rc;
  st->spec = (cb_pipeline_spec){.stages = (uint64_t)v[P_STAGES], .queue = (uint64_t)v[P_QUEUE],
                                .items = (uint64_t)v[P_ITEMS], .source = pl_source, .stage = pl_stage,
                                .fold = pl_fold, .fold_init = FOLD_INIT, .arg = st};
  env->prepared = st;
  return 0;
}

static void pipeline_release(cb_job_env *env) {
  free(env->prepared);
  env->prepared = NULL;
}

/* Pipeline i's fold, straight: no queues, the spin in closed form. */
static uint64_t pipeline_expected(const cb_job_env *env, uint64_t i) {
  const pl_prep *st = env->prepared;
  const cb_pipeline_spec *p = &st->spec;
  uint64_t acc = FOLD_INIT;
  for (uint64_t k = 0; k < p->items; k++) {
    uint64_t v = pl_source(p, i, k);
    for (uint64_t s = 0; s < p->stages; s++) {
      v = mix_stage(st, s, v);
      if (st->spin) v ^= st->jump_a * v + st->jump_c;
    }
    acc = pl_fold(acc, v);
  }
  return acc;
}

static int pipeline_run(const cb_model *model, const cb_run_spec *spec, cb_run_report *report) {
  if (!model->pipeline) return -ENOTSUP;
  const pl_prep *st = spec->env->prepared;
  return model->pipeline(spec, &st->spec, report);
}

const cb_workload cb_workload_pipeline = {
    .name = "pipeline",
    .kind = CB_KIND_COORD,
    .summary = "source -> stages -> sink over bounded queues, N pipelines: items_per_s and item latency",
    .params = pipeline_params,
    .nparams = sizeof pipeline_params / sizeof pipeline_params[0],
    .prepare = pipeline_prepare,
    .release = pipeline_release,
    .expected = pipeline_expected,
    .run_custom = pipeline_run,
};
