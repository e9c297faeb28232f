/* curl_uv.h — libcurl's multi interface driven by a libuv loop (the pattern of
 * curl's multi-uv example): curl tells us which sockets to watch (one uv_poll
 * per socket) and when to wake it (one uv_timer); libuv tells curl what became
 * ready through curl_multi_socket_action. One multi handle serves any number of
 * transfers at once and keeps their connections for reuse.
 *
 * Plain callbacks on a uv_loop_t: nothing here knows about futures or tasks
 * (fetch.h builds the awaitable on top). Storage is caller-owned; the driver
 * allocates one small context per socket curl opens, never per event or per
 * request: when curl parks a connection in its cache (CURL_POLL_REMOVE) the
 * poll handle is only stopped, and reused when the connection is; it is closed
 * when curl closes the socket (CURLOPT_CLOSESOCKETFUNCTION).
 *
 * A socket curl has just begun connecting is offered to curl as writable right
 * after the action that opened it, before any poll: a loopback connect is done
 * by the time connect() returns, so the request goes out at once instead of an
 * event-loop turn later, after every other connect of the batch (curl checks
 * the socket itself and waits for the poll if it is not connected yet). */
#ifndef CB_LOOP_CURL_UV_H
#define CB_LOOP_CURL_UV_H

#include <curl/curl.h>
#include <stdint.h>
#include <uv.h>

#include "common/list.h"

/* Idle connections kept for reuse (curl's connection cache). */
#define CB_CURL_MAX_IDLE_CONNS 16384

typedef struct cb_curl_uv cb_curl_uv;
typedef struct cb_curl_xfer cb_curl_xfer;

/* Called once per finished transfer with curl's result (CURLE_OK or an error);
 * the easy handle is already out of the multi handle and may be reused. */
typedef void (*cb_curl_done_fn)(cb_curl_xfer *x, CURLcode result);

/* One transfer. The caller sets up `easy` (URL, write callback, ...) and keeps x
 * alive until done ran or cb_curl_uv_abort returned. */
struct cb_curl_xfer {
  CURL *easy;
  cb_curl_done_fn done;
  void *arg;
  int active; /* 1 while inside the multi handle */
};

struct cb_curl_uv {
  uv_loop_t *uv;
  CURLM *multi;
  uv_timer_t timer;
  cb_list socks;     /* per-socket poll contexts */
  struct sock_ctx **byfd; /* the context of each socket curl has open, by fd */
  size_t nbyfd;
  curl_socket_t *fresh;   /* sockets curl began connecting in this action */
  size_t nfresh, fresh_cap;
  uint64_t in_flight; /* transfers added and not finished */
  int pending_closes; /* uv handles whose close callback has not run */
  void (*on_closed)(cb_curl_uv *c);
  void *data; /* the owner's */
};

/* Initialises c on uv (one multi handle, one timer). 0 or negative errno. */
int cb_curl_uv_init(cb_curl_uv *c, uv_loop_t *uv);

/* Starts x (x->easy, x->done set). x->done is called from a later loop
 * callback, never inline. O(1) plus what curl does to begin a transfer.
 * 0, or -ENOMEM/-EINVAL when curl refuses the handle. */
int cb_curl_uv_start(cb_curl_uv *c, cb_curl_xfer *x);

/* Stops an active transfer without calling its done callback (no-op if x is
 * not active). Its connection is closed or kept, as curl decides. */
void cb_curl_uv_abort(cb_curl_uv *c, cb_curl_xfer *x);

/* Releases the multi handle and closes the driver's uv handles. Transfers still
 * active are orphaned: their easy handles stay the owners' to free and their
 * done callbacks never run. on_closed(c) (may be NULL) runs once the loop has finished closing
 * them; until then c must stay alive and the uv loop must run. */
void cb_curl_uv_close(cb_curl_uv *c, void (*on_closed)(cb_curl_uv *c));

#endif
