/* pingpong.c — two tasks hand a token back and forth `rounds` times: the cost of one
 * switch / wake-up under each model (spec->tasks pairs run at once). How a model
 * hands the token over is its own business (cb_model.pingpong): channels between
 * green threads, a mutex and condition variable between two pthreads, pipes between
 * two processes. Not offered by sync (one task has no one to hand to). Job i's result
 * is the number of hand-offs its pair saw, 2 x rounds; the run adds ns_per_switch,
 * wall time over all hand-offs of all pairs. */
#include <errno.h>

#include "runtimes/runtime.h"
#include "workloads/workload.h"
#include "workloads/workloads.h"

enum { P_ROUNDS };

static const cb_param_def pingpong_params[] = {
    [P_ROUNDS] = {"rounds", 100000, 1, 1000000000, "round trips per pair (2 hand-offs each)"},
};

static uint64_t pingpong_expected(const cb_job_env *env, uint64_t i) {
  return 2 * (uint64_t)env->params->v[P_ROUNDS];
}

static int pingpong_run(const cb_model *model, const cb_run_spec *spec, cb_run_report *report) {
  if (!model->pingpong) return -ENOTSUP;
  return model->pingpong(spec, (uint64_t)spec->env->params->v[P_ROUNDS], report);
}

const cb_workload cb_workload_pingpong = {
    .name = "pingpong",
    .kind = CB_KIND_COORD,
    .summary = "pairs hand a token back and forth: the cost of one switch (ns_per_switch)",
    .params = pingpong_params,
    .nparams = sizeof pingpong_params / sizeof pingpong_params[0],
    .expected = pingpong_expected,
    .run_custom = pingpong_run,
};
