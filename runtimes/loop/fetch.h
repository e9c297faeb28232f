/* fetch.h — awaitable HTTP GET on the loop's shared libcurl multi handle
 * (curl_uv.h): thousands in flight, connections reused across fetches.
 *
 *   cb_fetch_init(&f->fetch, loop);                 // once; makes the easy handle
 *   cb_fetch_start(&f->fetch, url, NULL, NULL);     // body collected in fetch.body
 *   CB_AWAIT(&f->fetch.fut);                        // result.u = HTTP status
 *   ... f->fetch.body, f->fetch.len ...
 *   cb_fetch_free(&f->fetch);
 *
 * Any HTTP status is a result; a transport failure is an error on fut:
 * -ECONNREFUSED (refused), -ETIMEDOUT, -EPIPE (connection closed mid-body),
 * -ENOMEM, -EIO (anything else); the message is curl's (static). Cancelling fut
 * (or the task awaiting it) aborts the transfer before the awaiting task resumes.
 * A cb_fetch is caller-owned (usually a frame field) and reusable. */
#ifndef CB_LOOP_FETCH_H
#define CB_LOOP_FETCH_H

#include <stddef.h>

#include "runtimes/loop/curl_uv.h"
#include "runtimes/loop/future.h"

/* Receives the body as it streams in; return 0 to go on, nonzero to abort the
 * transfer (the fetch then fails with -ECANCELED). */
typedef int (*cb_fetch_sink)(void *arg, const char *data, size_t len);

typedef struct cb_fetch {
  cb_future fut;
  cb_curl_xfer xfer; /* xfer.easy: set extra curl options on it before start */
  cb_curl_uv *drv;   /* the loop's curl shard this fetch uses */
  cb_handle on_done;
  cb_loop *loop;
  cb_fetch_sink sink;
  void *sink_arg;
  char *body; /* without a sink: the body (malloc'd, NUL-terminated), len bytes */
  size_t len, cap;
  int write_err;
} cb_fetch;

/* Makes the easy handle (10 s connect timeout, no signals) and picks one of the
 * loop's curl shards. 0 or negative errno. */
int cb_fetch_init(cb_fetch *f, cb_loop *loop);

/* Starts GET url; f must be initialised and not in flight. With sink NULL the
 * body is collected in f->body. Allocation: none per fetch besides the body
 * buffer (grown by doubling) and what curl does. 0, or negative errno (fut is
 * then untouched). */
int cb_fetch_start(cb_fetch *f, const char *url, cb_fetch_sink sink, void *sink_arg);

/* Aborts an active transfer, frees the easy handle and the body. */
void cb_fetch_free(cb_fetch *f);

#endif
