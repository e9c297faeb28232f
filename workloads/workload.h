/* workload.h — the contract every workload implements (docs/DESIGN.md "Contracts").
 *
 * A workload names its parameters (with defaults and bounds), a sync-world job
 * that plain blocking C code runs under sync/threads/procs/green, and the expected
 * result of every job so that a run is verified, never assumed. */
#ifndef CB_WORKLOAD_H
#define CB_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#define CB_MAX_PARAMS 8
#define CB_ERR_LEN 160

typedef enum { CB_KIND_CPU, CB_KIND_IO, CB_KIND_MIXED, CB_KIND_COORD } cb_kind;

/* An integer parameter in [min, max], or, when choices is set, one of the named
 * choices (a NULL-terminated list; the value is the chosen index, min/max ignored). */
typedef struct cb_param_def {
  const char *name;
  int64_t def, min, max;
  const char *help;
  const char *const *choices;
} cb_param_def;

/* Resolved parameter values, in the order of the workload's param table. */
typedef struct cb_params {
  int64_t v[CB_MAX_PARAMS];
} cb_params;

/* What a job may read: its parameters and, for IO workloads, the server. */
typedef struct cb_job_env {
  const struct cb_workload *workload;
  const cb_params *params;
  const char *server_url; /* "http://127.0.0.1:PORT" without trailing slash */
  void *prepared;         /* workload-owned state made by prepare(), read-only in jobs */
} cb_job_env;

struct cb_async_job; /* the async-world coroutine, defined by the loop runtime */
struct cb_model;
struct cb_run_spec;
struct cb_run_report;

typedef struct cb_workload {
  const char *name;
  cb_kind kind;
  const char *summary;
  const cb_param_def *params;
  int nparams;
  int needs_server; /* 1: concbench starts delayd unless --server is given */

  /* Optional: build read-only state shared by all jobs (e.g. an expected digest).
   * Returns 0 or negative errno with err filled. */
  int (*prepare)(cb_job_env *env, char err[CB_ERR_LEN]);
  void (*release)(cb_job_env *env);

  /* Sync world: run job i with blocking calls. Returns 0 and sets *result, or a
   * negative errno with err filled (one line). Must be safe to call concurrently. */
  int (*job)(const cb_job_env *env, uint64_t i, uint64_t *result, char err[CB_ERR_LEN]);

  /* The result job i must produce, computed independently of job(). */
  uint64_t (*expected)(const cb_job_env *env, uint64_t i);

  /* IO and mixed workloads: how long one job waits (server delays, sleeps), in
   * seconds, so the report can draw the ideal: wait × ceil(N / C). */
  double (*wait_s)(const cb_job_env *env);

  /* Async world (loop model); NULL until the workload has a coroutine version. */
  const struct cb_async_job *async;

  /* Optional per-model runner for coordination micro-workloads whose shape depends
   * on the model (pingpong, spawn). Returns -ENOTSUP when the model has no version,
   * -ERANGE (from the model, before any work) when the parameters are beyond it. */
  int (*run_custom)(const struct cb_model *model, const struct cb_run_spec *spec,
                    struct cb_run_report *report);
} cb_workload;

/* Registry (workloads/registry.c). */
const cb_workload *cb_workload_find(const char *name);
const cb_workload *const *cb_workload_all(size_t *count);
const char *cb_kind_name(cb_kind kind);

/* Index of a parameter in w->params, or -1. */
int cb_param_index(const cb_workload *w, const char *name);
/* Value of a named parameter (aborts if the workload has no such parameter). */
int64_t cb_param(const cb_job_env *env, const char *name);

#endif
