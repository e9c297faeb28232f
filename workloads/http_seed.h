/* http_seed.h — what the http workload asks delayd for and how it folds the
 * answers, shared by workloads/http.c and bin/httpfloor so that both fetch the
 * same bodies and reach the same job results. Changing a value here changes
 * every http checksum. */
#ifndef CB_HTTP_SEED_H
#define CB_HTTP_SEED_H

#include <stdint.h>

#include "workloads/body.h"

/* The body seed of request k (0-based) of job `job` when each job makes per_job
 * requests: distinct for every (job, k) of a run, never 0. */
static inline uint64_t cb_http_request_seed(uint64_t job, uint64_t k, uint64_t per_job) {
  return job * per_job + k + 1;
}

/* Folds the digest of a job's next verified body into its result (start at 0). */
static inline uint64_t cb_http_combine(uint64_t acc, uint64_t digest) { return cb_mix64(acc ^ digest); }

#endif
