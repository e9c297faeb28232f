/* record.h — the run record: every key of the JSON object `concbench run` prints, its
 * exit codes and the failure classes a run or a bench cell ends in. Each is defined
 * once, as X-macro lists (the exit codes in common/exit_codes.h, for the runtimes too) (libuv's UV_ERRNO_MAP); the JSON writer (cell.c), the
 * results reader (harness/bench/results.c), the bench's classification (run_cell.c)
 * and `concbench run --help` all come from them. docs/run-record.md shows them as
 * tables, and tests/test_record.c fails when the tables and the lists disagree. */
#ifndef CB_RECORD_H
#define CB_RECORD_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "common/exit_codes.h"

/* X(key, type, present, meaning). type is the JSON type ("number or null": null when
 * the run did not verify); present is "always", "failed" (only in a run that did not
 * verify) or "server" (only in a cell of a server workload, whose jobs are the load
 * generator's requests and whose tasks are its connections: docs/DESIGN.md
 * "Servers"). Keys beyond these are a model's per-operation figures (numbers,
 * cb_report_extra), null when the run did not verify. */
#define CB_RUN_KEYS(X)                                                                                                \
  X(model, "string", "always", "the model that ran the cell")                                                         \
  X(workload, "string", "always", "the workload")                                                                     \
  X(kind, "string", "always", "the workload's kind: cpu, io, mixed, coord or server")                                 \
  X(tasks, "integer", "always", "N, the jobs run (server: the generator's connections)")                              \
  X(concurrency, "integer", "always", "what the model ran with: jobs in flight at most (1 for sync; server: connections it serves at once)") \
  X(params, "object", "always", "every workload parameter, defaults included")                                        \
  X(wall_s, "number or null", "always", "the job phase, s (server: the generator's measurement window); null unless the run verified") \
  X(failed_after_s, "number", "failed", "how long the job phase ran before it failed, s")                             \
  X(last_start_s, "number or null", "always", "from the start of the job phase until the last job began, s; null unless the run verified (always null for a server)") \
  X(user_s, "number", "always", "user CPU of the job phase, forked children included, s (server: the server's processes)") \
  X(sys_s, "number", "always", "system CPU of the job phase, forked children included, s (server: the server's processes)") \
  X(max_rss_kb, "integer", "always", "peak RSS of the largest process, KiB (server: of the server's)")                \
  X(tree_rss_kb, "integer", "always", "peak RSS summed over the process and its children, KiB (server: the server's)") \
  X(ctx_voluntary, "integer", "always", "voluntary context switches of the job phase, children included")             \
  X(ctx_involuntary, "integer", "always", "involuntary context switches of the job phase, children included")         \
  X(created, "integer", "always", "execution units the model created")                                                \
  X(created_kind, "string", "always", "what they were: threads, processes, green threads, tasks")                     \
  X(jobs_ok, "integer", "always", "jobs that completed and reported success (server: replies checked correct)")       \
  X(jobs_failed, "integer", "always", "jobs that did not complete or reported an error (server: connection errors and timeouts)") \
  X(jobs_wrong, "integer", "always", "jobs that succeeded with a result other than the expected one (server: replies with wrong bytes)") \
  X(latency_ms, "object", "always", "p50, p90, p99 and max of the completed jobs' durations, ms ({} if none; server: of the requests, p999 too, from the intended send time in open loop)") \
  X(checksum, "string", "always", "16 hex digits: the sum of every job's result folded with its index (server: the generator's, over every reply)") \
  X(expected_checksum, "string", "always", "the same over the workload's expected results")                           \
  X(mode, "string", "server", "closed (each connection sends when its reply is in) or open (a fixed offered rate)")   \
  X(rate, "number or null", "server", "the offered rate, requests/s (null in closed loop)")                           \
  X(req_per_s, "number or null", "server", "replies checked correct per second of the window; null unless the run verified") \
  X(latency_uncorrected_ms, "object", "server", "latency_ms measured from the actual send (differs in open loop: coordinated omission)") \
  X(timeouts, "integer", "server", "requests without their reply within the generator's timeout")                     \
  X(generator_cpu, "number", "server", "the generator's CPU over the window, in cores (1 = one full core)")            \
  X(generator_bound, "boolean", "server", "generator_cpu > 0.9: the figure is the generator's limit, not the server's") \
  X(server_cpus, "string", "server", "the CPUs the server ran on (e.g. 0 or 0-2)")                                     \
  X(generator_cpus, "string", "server", "the CPUs the generator ran on")                                              \
  X(served, "object", "server", "the server's own count: accepted, refused, closed_idle, peak_open, requests, bad_requests") \
  X(verified, "boolean", "always", "every job succeeded with its expected result (server: and the server answered every request the generator checked)") \
  X(error, "string or null", "always", "the first failure, one line; null when none")                                 \
  X(error_class, "string", "always", "how the run ended: ok, job_failed, wrong_result or resource_limit")

typedef enum cb_run_key {
#define CB_RUN_KEY_ENUM(key, type, present, meaning) CB_KEY_##key,
  CB_RUN_KEYS(CB_RUN_KEY_ENUM)
#undef CB_RUN_KEY_ENUM
  CB_NKEYS
} cb_run_key;

typedef struct cb_run_key_def {
  const char *key, *type, *present, *meaning;
} cb_run_key_def;

extern const cb_run_key_def cb_run_keys[CB_NKEYS];

/* The listed key named `key`, or -1: anything else in a run record is a model's
 * per-operation figure (or, in records written before error_class, exit_class). */
int cb_run_key_find(const char *key);

/* Sets key k of the run record o: the writer names keys only through the list. */
void cb_run_record_set(json_t *o, cb_run_key k, json_t *value);

/* What a record is, for cb_run_record_check: a run that did not verify, a server cell. */
#define CB_RECORD_FAILED 1u
#define CB_RECORD_SERVER 2u

/* Checks a run record against the list: every key present as listed and of its
 * type, and nothing else but the nextra per-operation figures in extra[] (numbers or
 * null). what: CB_RECORD_* flags. 0, or -1 with the first disagreement in why. */
int cb_run_record_check(json_t *o, unsigned what, const char *const *extra, int nextra, char *why, size_t cap);

typedef struct cb_exit_def {
  int code;
  const char *meaning;
} cb_exit_def;

extern const cb_exit_def cb_exits[CB_NEXITS];

/* Failure classes: X(NAME, name, exit, meaning). A run's error_class is one of those
 * with an exit code (the code it exits with); a bench cell's status is any of them
 * but usage (-1: only the bench decides it, from how the process ended). */
#define CB_CLASSES(X)                                                                                                 \
  X(OK, "ok", CB_EXIT_OK, "every job succeeded and verified; only ok carries times")                                  \
  X(JOB_FAILED, "job_failed", CB_EXIT_FAILED, "a job failed (error says how)")                                        \
  X(WRONG_RESULT, "wrong_result", CB_EXIT_FAILED, "a job returned a result other than the expected one")              \
  X(USAGE, "usage", CB_EXIT_USAGE, "bad arguments (a bench files it as bad_exit)")                                    \
  X(RESOURCE_LIMIT, "resource_limit", CB_EXIT_RESOURCE, "the model gave out at this size")                            \
  X(UNSUPPORTED, "unsupported", CB_EXIT_UNSUPPORTED, "the model has no version of the workload")                      \
  X(INTERRUPTED, "interrupted", CB_EXIT_INTERRUPTED, "stopped by SIGINT, SIGTERM or SIGHUP sent to the run itself") \
  X(TIMEOUT, "timeout", -1, "killed with its process tree at the bench's time limit")                                 \
  X(CRASH, "crash", -1, "killed by a signal")                                                                         \
  X(BAD_EXIT, "bad_exit", -1, "any other end, including a timed run failing after the probe passed")                  \
  X(SKIPPED, "skipped", -1, "not run: the model gave out at a smaller N, or its time would exceed the limit")

typedef enum cb_class {
#define CB_CLASS_ENUM(NAME, name, exit, meaning) CB_CLASS_##NAME,
  CB_CLASSES(CB_CLASS_ENUM)
#undef CB_CLASS_ENUM
  CB_NCLASSES
} cb_class;

typedef struct cb_class_def {
  const char *name;
  int exit; /* -1: none */
  const char *meaning;
} cb_class_def;

extern const cb_class_def cb_classes[CB_NCLASSES];

static inline const char *cb_class_name(cb_class c) { return cb_classes[c].name; }

/* The class named `name` (may be NULL), or -1. */
int cb_class_find(const char *name);

/* The class of a `concbench run` that exited with `code`: the one its JSON names
 * (error_class, may be NULL) if that class exits with this code, else the first
 * class listed with this code, else bad_exit. Never from stderr text. */
cb_class cb_class_of_run(int code, const char *error_class);

/* Prints the exit codes (concbench's usage), and the key list with the error
 * classes (`concbench run --help`). */
void cb_run_exits_help(FILE *f);
void cb_run_record_help(FILE *f);

#endif
