/* request.h — delayd's requests on the shared reader (common/http_request.h);
 * private to servers/delayd and its fuzz target.
 *
 * A delayd request is a GET of /?ms=D&bytes=B&seed=S (any of the three keys may be
 * missing: 0; no other key). */
#ifndef CB_DELAYD_REQUEST_H
#define CB_DELAYD_REQUEST_H

#include <stdint.h>

#include "common/http_request.h"

typedef struct cb__dreq_request {
  int64_t ms, bytes, seed;
  int keep_alive;
} cb__dreq_request;

/* Takes the next request off the reader (cb_http_next). Returns 1 with *out filled,
 * 0 when more bytes are needed, or an HTTP status to answer before closing: the
 * reader's (400, 414, 431), or 400 for a query that is not delayd's (an unknown
 * key, a value that is not a decimal integer within delayd's bounds). */
int cb__dreq_next(cb_http_reader *r, cb__dreq_request *out);

#endif
