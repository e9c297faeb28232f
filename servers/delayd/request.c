/* request.c — delayd's requests; contract in request.h. */
#include "servers/delayd/request.h"
#include "servers/delayd/delayd.h"

static const char *const keys[] = {"ms", "bytes", "seed", NULL};

int cb__dreq_next(cb_http_reader *r, cb__dreq_request *out) {
  cb_http_request h;
  int rc = cb_http_next(r, &h);
  if (rc != 1) return rc;
  *out = (cb__dreq_request){.keep_alive = h.keep_alive};
  if (cb_http_query_check(h.target, h.target_len, keys) != 0 ||
      cb_http_query_int(h.target, h.target_len, "ms", CB_DELAYD_MAX_MS, &out->ms) < 0 ||
      cb_http_query_int(h.target, h.target_len, "bytes", CB_DELAYD_MAX_BYTES, &out->bytes) < 0 ||
      cb_http_query_int(h.target, h.target_len, "seed", INT64_MAX, &out->seed) < 0)
    return r->status = 400; /* the reader is spent, as after its own errors */
  return 1;
}
