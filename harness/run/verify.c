/* verify.c — the verdict over a finished run. A job counts only if it completed,
 * reported success and produced exactly the workload's expected result; the
 * checksum binds every result to its job index, so a swapped or missing result
 * changes it. Runs after the timed phase. */
#include "harness/run/cell.h"
#include "workloads/body.h"

uint64_t cb_verify_fold(uint64_t i, uint64_t result) { return cb_mix64(cb_mix64(i) ^ result); }

void cb_verify(const cb_run_spec *spec, const cb_job_record *jobs, cb_verdict *v) {
  *v = (cb_verdict){0};
  for (uint64_t i = 0; i < spec->tasks; i++) {
    uint64_t want = spec->workload->expected(spec->env, i);
    v->expected_checksum += cb_verify_fold(i, want);
    if (!jobs[i].done || jobs[i].status != 0) {
      v->failed++;
      continue;
    }
    v->ok++;
    v->checksum += cb_verify_fold(i, jobs[i].result);
    if (jobs[i].result != want) v->wrong++;
  }
  v->verified = v->failed == 0 && v->wrong == 0 && v->checksum == v->expected_checksum;
}
