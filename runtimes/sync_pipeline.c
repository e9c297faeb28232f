/* sync_pipeline.c — the pipeline under sync: the seed's push-style chain. The
 * source calls stage 0 for each item, each stage calls the next with its output and
 * the last calls the sink: no queue (the queue parameter is ignored, queue_items 0),
 * one pipeline after another on the main thread. */
#include <errno.h>

#include "runtimes/pipeline.h"

typedef struct chain {
  const cb_pipeline_spec *p;
  uint64_t acc;
} chain;

static void sink(chain *c, uint64_t v) { c->acc = c->p->fold(c->acc, v); }

/* Stage s takes v, transforms it and pushes it on. */
static void push(chain *c, uint64_t s, uint64_t v) {
  if (s == c->p->stages) {
    sink(c, v);
    return;
  }
  push(c, s + 1, c->p->stage(c->p, s, v));
}

int cb__sync_pipeline(const cb_run_spec *spec, const cb_pipeline_spec *p, cb_run_report *report) {
  report->concurrency = 1;
  report->created = 0;
  report->created_kind = "none (main thread)";
  cb__pipe_lat lat;
  if (cb__pipe_lat_init(&lat, spec->tasks, p->items, 0) != 0) {
    cb_report_error(report, "sync: out of memory for the latency samples");
    return -ENOMEM;
  }
  int64_t t0 = cb_now_ns();
  for (uint64_t i = 0; i < spec->tasks; i++) {
    cb_job_record *rec = &report->jobs[i];
    chain c = {.p = p, .acc = p->fold_init};
    rec->start_ns = cb_now_ns();
    for (uint64_t k = 0; k < p->items; k++) {
      cb__pipe_stamp(&lat, i, k);
      push(&c, 0, p->source(p, i, k));
      cb__pipe_arrive(&lat, i, k);
    }
    cb__pipe_done(rec, c.acc);
  }
  cb__pipeline_report(report, spec, p, &lat, t0, cb_now_ns(), 0);
  cb__pipe_lat_free(&lat);
  return 0;
}
