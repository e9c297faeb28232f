/* pipeline.h — what the models' pipeline versions share (cb_model.pipeline): the
 * sampled source-to-sink latency and the report's figures.
 *
 * Latency: item k of pipeline i is sampled when k is a multiple of 2^shift (shift >= 6:
 * every 64th item at least, coarser for long pipelines so that a run keeps at most
 * about a million samples). Its slot holds the source's cb_now_ns() stamp, which the
 * sink replaces with the item's latency; the item itself carries only its value. The
 * slot's write and read are ordered by the queues the item passes through (a mutex
 * chain, one M:1 thread, or pipe syscalls for processes, whose slots are shared). */
#ifndef CB_PIPELINE_H
#define CB_PIPELINE_H

#include <stdint.h>

#include "common/clock.h"
#include "runtimes/runtime.h"

typedef struct cb__pipe_lat {
  unsigned shift;
  uint64_t mask;
  uint64_t per;  /* slots per pipeline: ceil(items / 2^shift) */
  int64_t *slot; /* n x per */
  size_t bytes;
  int shared;    /* MAP_SHARED (procs: the sinks are other processes) */
} cb__pipe_lat;

/* 0 or -ENOMEM. shared: the slots are a shared anonymous mapping. */
int cb__pipe_lat_init(cb__pipe_lat *l, uint64_t n, uint64_t items, int shared);
void cb__pipe_lat_free(cb__pipe_lat *l);

/* At the source, as item k of pipeline i leaves it. */
static inline void cb__pipe_stamp(const cb__pipe_lat *l, uint64_t i, uint64_t k) {
  if ((k & l->mask) == 0) l->slot[i * l->per + (k >> l->shift)] = cb_now_ns();
}
/* At the sink, as item k of pipeline i arrives. */
static inline void cb__pipe_arrive(const cb__pipe_lat *l, uint64_t i, uint64_t k) {
  if ((k & l->mask) == 0) {
    int64_t *s = &l->slot[i * l->per + (k >> l->shift)];
    *s = cb_now_ns() - *s;
  }
}

/* A pipeline's sink is done: job i's record gets its end time and the fold. */
static inline void cb__pipe_done(cb_job_record *rec, uint64_t acc) {
  rec->end_ns = cb_now_ns();
  rec->result = acc;
  rec->done = 1;
}

/* Adds items_per_s (items of the pipelines that completed without error, over
 * t1 - t0), item_latency_us_p50 and _p99 (over their samples) and queue_items (the
 * real capacity of one queue; 0: none, e.g. sync's chain of calls). Nothing when no
 * pipeline completed. */
void cb__pipeline_report(cb_run_report *report, const cb_run_spec *spec, const cb_pipeline_spec *p,
                         const cb__pipe_lat *l, int64_t t0, int64_t t1, uint64_t queue_items);

/* Threads and processes a pipeline run of threads or procs may have alive at once:
 * min(N, C) x (stages + 2). Beyond it the run is -ERANGE before any work (each unit
 * is a pid: 60,000 of them would take the machine's pid space, 32768 by default). */
#define CB_PIPELINE_MAX_OS_UNITS 10000
/* 0, or -ERANGE with the report's error naming --param stages, --tasks and
 * --concurrency and the limit. */
int cb__pipeline_check_units(cb_run_report *report, const cb_run_spec *spec, const cb_pipeline_spec *p,
                             const char *model, const char *units);

/* The models' versions (runtimes/sync.c, threads/, procs/, green/, loop/). */
int cb__sync_pipeline(const cb_run_spec *spec, const cb_pipeline_spec *p, cb_run_report *report);
int cb__threads_pipeline(const cb_run_spec *spec, const cb_pipeline_spec *p, cb_run_report *report);
int cb__procs_pipeline(const cb_run_spec *spec, const cb_pipeline_spec *p, cb_run_report *report);
int cb__green_pipeline(const cb_run_spec *spec, const cb_pipeline_spec *p, cb_run_report *report);
int cb__loop_pipeline(const cb_run_spec *spec, const cb_pipeline_spec *p, cb_run_report *report);

#endif
