/* registry.c — every workload the CLI offers, and parameter look-up. */
#include <string.h>

#include "common/check.h"
#include "workloads/workload.h"
#include "workloads/workloads.h"

static const cb_workload *const workloads[] = {
    &cb_workload_pow,
    &cb_workload_fib,
    &cb_workload_http,
    &cb_workload_sleep,
    &cb_workload_pingpong,
    &cb_workload_spawn,
    &cb_workload_pipeline,
    &cb_workload_mixed,
    &cb_workload_membw,
    &cb_workload_echo,
    &cb_workload_serve,
};

const cb_workload *const *cb_workload_all(size_t *count) {
  *count = sizeof workloads / sizeof workloads[0];
  return workloads;
}

const cb_workload *cb_workload_find(const char *name) {
  for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++)
    if (strcmp(workloads[i]->name, name) == 0) return workloads[i];
  return NULL;
}

const char *cb_kind_name(cb_kind kind) {
  switch (kind) {
    case CB_KIND_CPU: return "cpu";
    case CB_KIND_IO: return "io";
    case CB_KIND_MIXED: return "mixed";
    case CB_KIND_COORD: return "coord";
    case CB_KIND_SERVER: return "server";
  }
  return "?";
}

int cb_param_index(const cb_workload *w, const char *name) {
  for (int k = 0; k < w->nparams; k++)
    if (strcmp(w->params[k].name, name) == 0) return k;
  return -1;
}

int64_t cb_param(const cb_job_env *env, const char *name) {
  int k = cb_param_index(env->workload, name);
  CB_CHECK(k >= 0);
  return env->params->v[k];
}
