/* workloads.h — the workloads registry.c lists. */
#ifndef CB_WORKLOADS_H
#define CB_WORKLOADS_H

#include "workloads/workload.h"

extern const cb_workload cb_workload_pow;
extern const cb_workload cb_workload_fib;
extern const cb_workload cb_workload_http;
extern const cb_workload cb_workload_sleep;
extern const cb_workload cb_workload_pingpong;
extern const cb_workload cb_workload_spawn;
extern const cb_workload cb_workload_pipeline;
extern const cb_workload cb_workload_mixed;
extern const cb_workload cb_workload_membw;
extern const cb_workload cb_workload_echo;
extern const cb_workload cb_workload_serve;

#endif
