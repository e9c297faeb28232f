/* spawn.c — the skynet tree: every node spawns `fanout` children down to `leaves`
 * leaves; leaf k yields k and every node sums its children. Job i builds one whole
 * tree and must produce leaves x (leaves - 1) / 2 (499999500000 for a million). The
 * run adds ns_per_spawn (tree wall time over execution units created),
 * bytes_per_task (peak RSS growth over units alive at the peak) and peak_live,
 * averaged over the trees. How a model spawns is its own (cb_model.spawn_tree). */
#include <errno.h>
#include <string.h>

#include "runtimes/runtime.h"
#include "workloads/workload.h"
#include "workloads/workloads.h"

enum { P_LEAVES, P_FANOUT };

static const cb_param_def spawn_params[] = {
    [P_LEAVES] = {"leaves", 1000000, 1, 100000000, "leaves of the tree (execution units created ~ 1.11 x leaves)"},
    [P_FANOUT] = {"fanout", 10, 2, 100, "children per node"},
};

static uint64_t spawn_expected(const cb_job_env *env, uint64_t i) {
  uint64_t n = (uint64_t)env->params->v[P_LEAVES];
  return n * (n - 1) / 2;
}

/* One tree per job, one after another; the per-tree figures are averaged. */
static int spawn_run(const cb_model *model, const cb_run_spec *spec, cb_run_report *report) {
  if (!model->spawn_tree) return -ENOTSUP;
  uint64_t leaves = (uint64_t)spec->env->params->v[P_LEAVES];
  uint64_t fanout = (uint64_t)spec->env->params->v[P_FANOUT];
  double sums[CB_MAX_EXTRA] = {0};
  const char *keys[CB_MAX_EXTRA] = {0};
  int nkeys = 0, rc = 0;
  report->created = 0;
  for (uint64_t i = 0; i < spec->tasks && rc == 0; i++) {
    cb_run_report one = {.jobs = &report->jobs[i]};
    cb_job_record *rec = &report->jobs[i];
    uint64_t sum = 0;
    rec->start_ns = cb_now_ns();
    rc = model->spawn_tree(spec, leaves, fanout, &sum, &one);
    rec->end_ns = cb_now_ns();
    if (one.error[0]) cb_report_error(report, "%s", one.error);
    if (rc == -ENOTSUP || rc == -ERANGE) return rc;
    rec->result = sum;
    rec->status = rc;
    rec->done = 1;
    report->concurrency = one.concurrency;
    report->created += one.created;
    report->created_kind = one.created_kind;
    for (int k = 0; k < one.nextra; k++) {
      if (i == 0) keys[nkeys++] = one.extra[k].key;
      for (int j = 0; j < nkeys; j++)
        if (strcmp(keys[j], one.extra[k].key) == 0) sums[j] += one.extra[k].value;
    }
  }
  if (rc == 0)
    for (int j = 0; j < nkeys; j++) cb_report_extra(report, keys[j], sums[j] / (double)spec->tasks);
  return rc;
}

const cb_workload cb_workload_spawn = {
    .name = "spawn",
    .kind = CB_KIND_COORD,
    .summary = "skynet: spawn fanout children per node down to leaves leaves, sum them (ns_per_spawn)",
    .params = spawn_params,
    .nparams = sizeof spawn_params / sizeof spawn_params[0],
    .expected = spawn_expected,
    .run_custom = spawn_run,
};
