/* io_int.h — per-loop state of the IO layer (private to runtimes/loop).
 * It lives behind cb_loop.io, made on first use and released by cb_loop_close
 * through cb__io_close (loop_int.h). */
#ifndef CB_LOOP_IO_INT_H
#define CB_LOOP_IO_INT_H

#include "runtimes/loop/curl_uv.h"
#include "runtimes/loop/loop_int.h"

#define CB_CURL_SHARDS 16

typedef struct cb__io {
  cb_loop *loop;
  /* The loop's HTTP client: CB_CURL_SHARDS multi handles, each with its own
   * connection cache. libcurl walks a whole cache on every transfer (finding
   * an idle connection, and again in curl_multi_remove_handle), so one cache
   * of N connections costs O(N) per request; shards divide that by their
   * number. A fetch stays on one shard, so its connection is reused. */
  cb_curl_uv curl[CB_CURL_SHARDS];
  int curl_on, curl_open; /* shards made; shards not yet closed */
  int closing;            /* detached from the loop: the last close frees it */
  unsigned next_shard;
  cb_list transports; /* every open stream transport, aborted at loop close */
  /* Every stream reads into this buffer; data_received consumes it before the
   * next read callback, so one per loop is enough. */
  char rbuf[64 * 1024];
} cb__io;

/* The loop's IO state, made on first use; NULL when out of memory. */
cb__io *cb__io_get(cb_loop *l);

/* One of the loop's curl drivers (round robin), initialised on first use;
 * NULL with *err set. */
cb_curl_uv *cb__io_curl(cb_loop *l, int *err);

#endif
