/* inproc.h — test helper: run a model over a workload in this process and verify. */
#ifndef CB_TEST_INPROC_H
#define CB_TEST_INPROC_H

#include "harness/run/cell.h"
#include "harness/run/server_child.h"

typedef struct inproc_run {
  cb_params params;
  cb_job_env env;
  cb_run_spec spec;
  cb_run_report report;
  cb_verdict verdict;
  int rc;
} inproc_run;

/* Sets the workload's defaults, then applies "name=value" overrides (NULL-ended). */
void inproc_params(const cb_workload *w, cb_params *p, const char *const overrides[]);

/* Prepares the workload (its prepare(), if any), runs and verifies; server_url may
 * be NULL. Caller frees with inproc_free (which calls the workload's release). */
void inproc_execute(inproc_run *r, const cb_model *m, const cb_workload *w,
                    const char *const overrides[], uint64_t tasks, uint64_t conc,
                    const char *server_url);
void inproc_free(inproc_run *r);

/* Starts bin/delayd for a test (aborts the test on failure). */
void inproc_start_delayd(cb_server *s);

#endif
