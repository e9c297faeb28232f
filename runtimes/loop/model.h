/* model.h — the `loop` model and the async-world job contract.
 *
 * Under --model loop, job i of a workload runs its coroutine as one task. The
 * workload's frame type starts with cb_async_frame (whose co starts it); the
 * coroutine returns the job's result with CB_RETURN((cb_val){.u = result}) or
 * fails with CB_RAISE(-errno, "static message"). */
#ifndef CB_LOOP_MODEL_H
#define CB_LOOP_MODEL_H

#include "runtimes/loop/stream.h"
#include "runtimes/loop/task.h"
#include "runtimes/runtime.h"

typedef struct cb_async_frame {
  cb_co co;
  const cb_job_env *env;
  uint64_t i;
} cb_async_frame;

struct cb_async_job {
  cb_co_fn fn;
  size_t frame_size; /* >= sizeof(cb_async_frame) */
};

/* Server workloads' async world: the loop runs fn as one task per accepted
 * connection (start_server). The frame starts with cb_stream_handler_frame, whose
 * arg is the server's cb_loop_serve_ctx. The coroutine serves until the peer closes
 * (returns 0), a malformed request (400 sent: CB_RAISE(-EPROTO, ...)), idle_ms
 * without a request (CB_RAISE(-ETIMEDOUT, ...)) or an error; the model closes and
 * releases the stream afterwards. */
struct cb_async_conn {
  cb_co_fn fn;
  size_t frame_size; /* >= sizeof(cb_stream_handler_frame) */
};

typedef struct cb_loop_serve_ctx {
  const cb_job_env *env;
  int64_t idle_ms;
  cb_serve_counts counts; /* the handlers add to it (one loop thread: plain adds) */
} cb_loop_serve_ctx;

extern const cb_model cb_model_loop;

/* The coordination micro-workloads (micro.c), see cb_model in runtime.h. */
int cb__loop_pingpong(const cb_run_spec *spec, uint64_t rounds, cb_run_report *report);
int cb__loop_spawn_tree(const cb_run_spec *spec, uint64_t leaves, uint64_t fanout, uint64_t *sum,
                        cb_run_report *report);

#endif
