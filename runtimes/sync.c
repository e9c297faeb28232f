/* sync.c — the baseline: every job on the main thread, one after another. */
#include "runtimes/runtime.h"
#include "runtimes/models.h"

static int sync_run(const cb_run_spec *spec, cb_run_report *report) {
  report->concurrency = 1; /* one job at a time, whatever C says */
  for (uint64_t i = 0; i < spec->tasks; i++) cb_job_execute(spec, i, &report->jobs[i], report);
  report->created = 0;
  report->created_kind = "none (main thread)";
  return 0;
}

const cb_model cb_model_sync = {
    .name = "sync",
    .summary = "jobs one after another on the main thread",
    .baseline = 1,
    .run = sync_run,
};
