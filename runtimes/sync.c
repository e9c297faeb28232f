/* sync.c — the baseline: every job on the main thread, one after another; as a
 * server, one connection at a time. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "runtimes/models.h"
#include "runtimes/pipeline.h"
#include "runtimes/runtime.h"
#include "runtimes/serve/serve_util.h"

static int sync_run(const cb_run_spec *spec, cb_run_report *report) {
  report->concurrency = 1; /* one job at a time, whatever C says */
  for (uint64_t i = 0; i < spec->tasks; i++) cb_job_execute(spec, i, &report->jobs[i], report);
  report->created = 0;
  report->created_kind = "none (main thread)";
  return 0;
}

/* Accepts a connection, serves it until it ends, closes it, accepts the next: the
 * connections behind it wait in the listen backlog meanwhile (that is the model).
 * A watcher thread shuts the open connection down at stop; it serves nothing. At
 * the descriptor limit the accept waits 10 ms and tries again. */
static int sync_serve(const cb_serve_spec *spec, cb_run_report *report) {
  if (!spec->workload->serve_conn) return -ENOTSUP;
  report->concurrency = 1;
  report->created = 0;
  report->created_kind = "none (main thread)";
  cb_conn_table table;
  cb_serve_watch watch;
  int rc = cb_conn_table_init(&table, 1);
  if (rc != 0) {
    cb_report_error(report, "sync: cannot set up the connection table: %s", strerror(-rc));
    return rc;
  }
  rc = cb_serve_watch_start(&watch, spec->stop_fd, &table);
  if (rc != 0) {
    cb_conn_table_free(&table);
    cb_report_error(report, "sync: cannot start the stop watcher: %s", strerror(-rc));
    return rc;
  }
  cb_serve_ready(spec);
  cb_serve_totals *tot = &report->serve;
  for (;;) {
    int fd;
    rc = cb_serve_accept(spec, &fd);
    if (rc == 0) break;
    if (rc < 0) {
      if (rc == -EMFILE || rc == -ENFILE || rc == -ENOBUFS || rc == -ENOMEM) {
        if (cb_serve_pause(spec, 10)) continue;
        rc = 0;
        break;
      }
      cb_report_error(report, "sync: accept failed: %s", strerror(-rc));
      break;
    }
    tot->accepted++;
    if (cb_conn_table_add(&table, fd) != 0) { /* stopping */
      tot->refused++;
      close(fd);
      rc = 0;
      break;
    }
    cb_serve_counts c = {0};
    int end = spec->workload->serve_conn(spec->env, fd, spec->idle_ms, &c);
    cb_conn_table_remove(&table, fd);
    close(fd);
    cb_serve_totals_add(tot, &c, end == -ETIMEDOUT);
  }
  cb_serve_watch_end(&watch);
  tot->peak_open = table.peak;
  cb_conn_table_free(&table);
  return rc;
}

const cb_model cb_model_sync = {
    .name = "sync",
    .summary = "jobs one after another on the main thread; as a server, one connection at a time",
    .baseline = 1,
    .run = sync_run,
    .pipeline = cb__sync_pipeline,
    .serve = sync_serve,
};
