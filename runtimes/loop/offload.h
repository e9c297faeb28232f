/* offload.h — the async-world version of a CPU-bound workload: run its sync-world
 * job through run_in_executor (the default), or inline on the loop thread with
 * --param offload=inline (blocking the loop, as the seeds warn). A workload opts
 * in with `.async = &cb_offload_async_job` and the CB_OFFLOAD_PARAM entry. */
#ifndef CB_LOOP_OFFLOAD_H
#define CB_LOOP_OFFLOAD_H

#include "runtimes/loop/executor.h"
#include "runtimes/loop/model.h"

enum { CB_OFFLOAD_EXECUTOR, CB_OFFLOAD_INLINE };
extern const char *const cb_offload_choices[];
#define CB_OFFLOAD_PARAM                                                                   \
  {                                                                                        \
    .name = "offload", .def = CB_OFFLOAD_EXECUTOR, .min = 0, .max = 1,                     \
    .help = "loop model: run the job on the executor (thread pool) or inline on the loop", \
    .choices = cb_offload_choices                                                          \
  }

extern const struct cb_async_job cb_offload_async_job;

#endif
