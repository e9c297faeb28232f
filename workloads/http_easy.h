/* http_easy.h — the sync-world http job's libcurl easy handle (workloads/http.c),
 * shared with bin/easystart, which times the job's first steps with no runtime
 * around them. */
#ifndef CB_HTTP_EASY_H
#define CB_HTTP_EASY_H

#include <curl/curl.h>
#include <stdint.h>

#include "workloads/body.h"
#include "workloads/workload.h"

/* A new easy handle with every option the job sets: bodies stream into *check,
 * the errno of a socket curl could not open goes to *socket_errno (zeroed here).
 * env must be the http workload's. NULL if curl_easy_init fails. */
CURL *cb_http_job_handle(const cb_job_env *env, cb_body_check *check, int *socket_errno);

/* Points h at request k of job i (url receives the URL too, for messages);
 * returns that request's seed, for cb_body_check_init. */
uint64_t cb_http_job_request(CURL *h, const cb_job_env *env, uint64_t i, uint64_t k, char url[256]);

#endif
