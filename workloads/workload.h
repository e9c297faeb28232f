/* workload.h — the contract every workload implements (docs/DESIGN.md "Contracts").
 *
 * A workload names its parameters (with defaults and bounds), a sync-world job
 * that plain blocking C code runs under sync/threads/procs/green, and the expected
 * result of every job so that a run is verified, never assumed. */
#ifndef CB_WORKLOAD_H
#define CB_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#define CB_MAX_PARAMS 12
#define CB_ERR_LEN 160

/* server: the model is the server and bin/loadgen the client (docs/DESIGN.md
 * "Servers"); tasks are the generator's connections. */
typedef enum { CB_KIND_CPU, CB_KIND_IO, CB_KIND_MIXED, CB_KIND_COORD, CB_KIND_SERVER } cb_kind;

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

struct cb_async_job;  /* the async-world coroutine, defined by the loop runtime */
struct cb_async_conn; /* the async-world connection handler (runtimes/loop/model.h) */

/* What served connections did (server workloads); a model sums its connections'. */
typedef struct cb_serve_counts {
  uint64_t requests;     /* requests answered (echo: whole messages of `bytes` echoed) */
  uint64_t bad_requests; /* malformed requests, answered 400 and closed */
  uint64_t bytes_in, bytes_out;
} cb_serve_counts;

/* A reply that is the same static body for every request (what nginx can serve). */
typedef struct cb_static_reply {
  uint64_t seed;  /* body bytes: cb_body_fill(seed, 0, ., bytes) (workloads/body.h) */
  uint64_t bytes;
  const char *path; /* the request target the generator sends, e.g. "/?bytes=1024&seed=1" */
} cb_static_reply;

#define CB_LOADGEN_ARGS_MAX 16 /* loadgen_args writes at most this many argv entries */
#define CB_LOADGEN_ARG_LEN 256
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

  /* Server workloads (kind CB_KIND_SERVER; job and expected are NULL): the model
   * accepts connections and serves each one, bin/loadgen is the client and checks
   * every reply byte for byte.
   * Sync world (sync, threads, procs, green): serves one accepted connection, a
   * blocking socket, until the peer closes it (0), a malformed request (answered 400
   * and closed: -EPROTO), idle_ms without a request (-ETIMEDOUT) or an error (negative
   * errno). Adds what it did to *counts. The caller closes fd. Safe to call
   * concurrently. */
  int (*serve_conn)(const cb_job_env *env, int fd, int64_t idle_ms, cb_serve_counts *counts);
  /* Async world: the loop's connection handler (NULL: the loop has no version). */
  const struct cb_async_conn *serve_async;
  /* The generator's arguments that describe the traffic and how to check it
   * (--proto, --bytes, --path, --seed; tools/loadgen/README.md): fills argv[0..n) with
   * strings held in bufs and returns n <= CB_LOADGEN_ARGS_MAX. */
  int (*loadgen_args)(const cb_job_env *env, char *argv[CB_LOADGEN_ARGS_MAX],
                      char bufs[CB_LOADGEN_ARGS_MAX][CB_LOADGEN_ARG_LEN]);
  /* Optional: 0 with *out filled when every reply for these parameters is one static
   * body (a static file server can serve the cell), -ENOTSUP otherwise. */
  int (*static_reply)(const cb_job_env *env, cb_static_reply *out);
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
