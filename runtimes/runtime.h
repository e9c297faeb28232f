/* runtime.h — the model contract (docs/DESIGN.md "Contracts").
 *
 * A model runs N jobs of one workload with at most C in flight, records each job's
 * start and end time and result, and reports what it created. Every model lives in
 * its own place (runtimes/sync.c, threads/, procs/, green/, loop/) behind this one
 * struct; the harness never knows which model it drives. */
#ifndef CB_RUNTIME_H
#define CB_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "workloads/workload.h"

/* One job's record. Filled by the model (usually through cb_job_execute). */
typedef struct cb_job_record {
  uint64_t result;
  int64_t start_ns; /* CLOCK_MONOTONIC */
  int64_t end_ns;
  int32_t status;   /* 0 ok, negative errno when the job failed */
  int32_t done;     /* 1 once the record is complete */
} cb_job_record;

typedef struct cb_run_spec {
  const cb_workload *workload;
  const cb_job_env *env;
  uint64_t tasks;       /* N >= 1 */
  uint64_t concurrency; /* C; 0 = one execution unit (thread, process, task) per job */
  size_t stack_size;    /* green threads; 0 = the model's default */
  const int64_t *model_params; /* the model's own parameters (cb_model.params order); NULL = defaults */
} cb_run_spec;

/* A server cell (docs/DESIGN.md "Servers"): the model serves the workload's
 * connections on listen_fd until stop_fd becomes readable. */
typedef struct cb_serve_spec {
  const cb_workload *workload;
  const cb_job_env *env;
  int listen_fd;        /* bound, listening, O_NONBLOCK; owned by the caller */
  int stop_fd;          /* becomes readable (a byte or EOF) when serving must end */
  uint64_t concurrency; /* C: the workers of a pool; 0 = one execution unit per connection */
  uint64_t max_conns;   /* open connections at most; one beyond is accepted and closed */
  int64_t idle_ms;      /* a connection without a request for this long is closed */
  size_t stack_size;    /* green threads; 0 = the model's default */
  int ready_fd;         /* -1, or where cb_serve_ready tells the cell the model serves */
  const int64_t *model_params; /* as in cb_run_spec */
} cb_serve_spec;

/* Called by a server model once it accepts connections (after its setup: workers
 * forked, nginx started): the cell starts the load generator only then. */
void cb_serve_ready(const cb_serve_spec *spec);

/* What a server did, summed over its connections. */
typedef struct cb_serve_totals {
  cb_serve_counts counts;
  uint64_t accepted;    /* connections accepted */
  uint64_t refused;     /* accepted beyond max_conns and closed at once */
  uint64_t closed_idle; /* closed by the server after idle_ms */
  uint64_t peak_open;   /* connections open at once at most */
} cb_serve_totals;

#define CB_MAX_EXTRA 12

typedef struct cb_run_report {
  cb_job_record *jobs;  /* spec->tasks records, owned by the caller, zeroed */
  uint64_t concurrency; /* jobs the model runs in flight at most (>= 1), set before it
                           can fail: cb_spec_concurrency(spec), or 1 when sequential */
  uint64_t created;     /* execution units the model made */
  const char *created_kind; /* "threads", "processes", "green threads", "tasks" */

  /* Usage of child processes the model reaped itself (procs); zero otherwise. */
  double child_user_s, child_sys_s;
  long child_max_rss_kb;   /* largest child peak RSS */
  long child_rss_sum_kb;   /* sum of child peak RSS */
  long child_ctx_voluntary, child_ctx_involuntary;

  cb_serve_totals serve;   /* server cells: what the server did */

  char error[256];         /* first failure, one line; empty when none */
  int error_claimed;       /* set atomically by cb_report_error */

  /* A peer's job phase as the peer timed it itself, after its interpreter started
   * (CLOCK_MONOTONIC); 0 when the cell times the model's run (every C model). */
  int64_t phase_start_ns, phase_end_ns;

  /* Per-operation figures a micro-workload adds to the JSON (ns_per_switch, ...). */
  int nextra;
  struct { const char *key; double value; } extra[CB_MAX_EXTRA];
} cb_run_report;

/* The pipeline workload's shape (workloads/pipeline.c), for cb_model.pipeline: per
 * pipeline, a source emits items k = 0..items-1 (source(p, i, k)), each passes
 * through stages 0..stages-1 in order (v = stage(p, s, v): a mix plus the work),
 * and a sink folds them in arrival order (acc = fold(acc, v) from fold_init). The
 * functions are pure and safe to call from any thread or process. */
typedef struct cb_pipeline_spec {
  uint64_t stages; /* >= 1 */
  uint64_t queue;  /* capacity of each bounded queue between two units, items (>= 1) */
  uint64_t items;  /* per pipeline, >= 1 */
  uint64_t (*source)(const struct cb_pipeline_spec *p, uint64_t i, uint64_t k);
  uint64_t (*stage)(const struct cb_pipeline_spec *p, uint64_t s, uint64_t v);
  uint64_t (*fold)(uint64_t acc, uint64_t v);
  uint64_t fold_init;
  const void *arg; /* the workload's own read-only state */
} cb_pipeline_spec;

typedef struct cb_model {
  const char *name;
  const char *summary;
  int baseline; /* 1: the sequential baseline the report compares every model with */
  /* The model's own parameters, given as --param NAME=V like a workload's (a workload
   * parameter of the same name wins); a default outside [min, max] means "the model
   * decides" and is what the model gets when the parameter is not given. */
  const cb_param_def *params;
  int nparams;
  /* Run every job. Returns 0 when the model ran (individual jobs may still have
   * failed: see their status), or a negative errno when the model itself gave out
   * (e.g. -EAGAIN: could not create threads), with report->error set. -ERANGE, before
   * any work, when a parameter is beyond what the model supports: report->error
   * names the parameter (as --param NAME) and the range it allows; the cell is then
   * a usage error. */
  int (*run)(const cb_run_spec *spec, cb_run_report *report);

  /* Coordination micro-workloads; NULL where the model does not offer them.
   * pingpong: spec->tasks pairs each hand a token back and forth `rounds` times;
   *   job i's result is the number of hand-offs it saw (2 * rounds).
   * spawn_tree: the skynet tree, `fanout` children per node down to `leaves` leaves;
   *   *sum receives the sum of the leaf numbers 0..leaves-1.
   * Both return as run does (-ERANGE included). */
  int (*pingpong)(const cb_run_spec *spec, uint64_t rounds, cb_run_report *report);
  int (*spawn_tree)(const cb_run_spec *spec, uint64_t leaves, uint64_t fanout,
                    uint64_t *sum, cb_run_report *report);
  /* pipeline: spec->tasks independent pipelines (at most C at once where the model
   *   has a pool, else all at once), each a source, p->stages stages and a sink
   *   connected in the model's own way (a push chain of calls for sync; bounded
   *   queues of p->queue items between threads, green threads or tasks; pipes
   *   between processes). Job i's result is pipeline i's fold, its start and end the
   *   pipeline's. Adds the extras items_per_s (items through every sink / wall),
   *   item_latency_us_p50 and _p99 (source to sink, a sample of the items) and
   *   queue_items (the real capacity of a queue, items) through
   *   cb__pipeline_report (runtimes/pipeline.h). Returns as run does. */
  int (*pipeline)(const cb_run_spec *spec, const cb_pipeline_spec *p, cb_run_report *report);

  /* Server workloads; NULL where the model has none. Runs in the cell's server
   * process: serves until spec->stop_fd is readable, then stops accepting, closes
   * the connections still open, waits for its execution units and returns 0 within a
   * few seconds; fills report->serve, created, created_kind, concurrency (the
   * connections it can serve at once: 1 for sync, C for a pool, max_conns
   * otherwise) and, for forked workers, the child_* usage. A negative errno when it
   * gave out (report->error set), -ENOTSUP when it has no version of the workload. */
  int (*serve)(const cb_serve_spec *spec, cb_run_report *report);
  /* 1: not one of the five models but a reference a result is read against (nginx);
   * it serves only, and its rows are marked so. */
  int reference;
  /* 1: a peer (runtimes/peer/): a program in another language (Python, Go) that runs
   * the whole cell itself through run, a workload's run_custom included; it fills
   * phase_start_ns/phase_end_ns and the child_* usage of its process tree. Not in
   * cb_model_all: listed by cb_peer_all, found by cb_model_find, its rows marked. */
  int peer;
  /* Optional (NULL: always): 0 when the model can run on this machine, else
   * -ENOENT with what is missing in why (one line naming the Debian package). */
  int (*available)(char *why, size_t cap);
} cb_model;

/* A model or a peer by name (NULL: none). */
const cb_model *cb_model_find(const char *name);
/* The models every bench runs, in list order (peers excluded). */
const cb_model *const *cb_model_all(size_t *count);
/* The peers (runtimes/peer/peers.c), installed or not: see cb_model.available. */
const cb_model *const *cb_peer_all(size_t *count);

/* Runs job i of spec in the calling execution unit and fills rec: start/end time,
 * result, status. On failure the first error is copied into report->error
 * (thread-safe). This is the one place the sync-world job is invoked. */
void cb_job_execute(const cb_run_spec *spec, uint64_t i, cb_job_record *rec,
                    cb_run_report *report);

/* Jobs in flight at most when every job may run at once but no more than C do:
 * min(C, N), or N when C is 0. */
uint64_t cb_spec_concurrency(const cb_run_spec *spec);

/* Records an error in report->error unless one is there already (thread-safe). */
void cb_report_error(cb_run_report *report, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Adds a reaped child's usage (wait4) to the report's child_* figures. */
struct rusage;
void cb_report_add_child(cb_run_report *report, const struct rusage *ru);

/* Adds a named per-operation figure to the run JSON. */
void cb_report_extra(cb_run_report *report, const char *key, double value);

#endif
