/* job.c — the pieces every model shares: running one job into its record,
 * recording errors and per-operation figures in the report, and a server's
 * readiness. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "runtimes/runtime.h"
#include "common/check.h"

void cb_report_error(cb_run_report *report, const char *fmt, ...) {
  char line[sizeof report->error];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  /* The first caller to claim the slot writes it; readers look only after the run. */
  int expected = 0;
  if (__atomic_compare_exchange_n(&report->error_claimed, &expected, 1, 0, __ATOMIC_ACQ_REL,
                                  __ATOMIC_ACQUIRE))
    memcpy(report->error, line, sizeof line);
}

uint64_t cb_spec_concurrency(const cb_run_spec *spec) {
  return spec->concurrency == 0 || spec->concurrency > spec->tasks ? spec->tasks : spec->concurrency;
}

void cb_report_extra(cb_run_report *report, const char *key, double value) {
  CB_CHECK(report->nextra < CB_MAX_EXTRA);
  report->extra[report->nextra].key = key;
  report->extra[report->nextra].value = value;
  report->nextra++;
}

void cb_job_execute(const cb_run_spec *spec, uint64_t i, cb_job_record *rec,
                    cb_run_report *report) {
  char err[CB_ERR_LEN] = "";
  uint64_t result = 0;
  rec->start_ns = cb_now_ns();
  int rc = spec->workload->job(spec->env, i, &result, err);
  rec->end_ns = cb_now_ns();
  rec->result = result;
  rec->status = rc;
  rec->done = 1;
  if (rc != 0) cb_report_error(report, "job %llu: %s", (unsigned long long)i, err[0] ? err : strerror(-rc));
}

void cb_serve_ready(const cb_serve_spec *spec) {
  char one = 1;
  if (spec->ready_fd >= 0 && write(spec->ready_fd, &one, 1) != 1) return; /* the cell is gone: nothing to tell */
}

void cb_report_add_child(cb_run_report *report, const struct rusage *ru) {
  report->child_user_s += (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6;
  report->child_sys_s += (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
  if (ru->ru_maxrss > report->child_max_rss_kb) report->child_max_rss_kb = ru->ru_maxrss;
  report->child_rss_sum_kb += ru->ru_maxrss;
  report->child_ctx_voluntary += ru->ru_nvcsw;
  report->child_ctx_involuntary += ru->ru_nivcsw;
}
