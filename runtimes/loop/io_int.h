/* io_int.h — per-loop state of the IO layer (private to runtimes/loop).
 * It lives behind cb_loop.io, made on first use and released by cb_loop_close
 * through cb__io_close (loop_int.h). */
#ifndef CB_LOOP_IO_INT_H
#define CB_LOOP_IO_INT_H

#include "runtimes/loop/curl_uv.h"
#include "runtimes/loop/loop_int.h"

typedef struct cb__io {
  cb_loop *loop;
  cb_curl_uv curl; /* the loop's HTTP client: one multi handle, shared connections */
  int curl_on;
  cb_list transports; /* every open stream transport, aborted at loop close */
  /* Every stream reads into this buffer; data_received consumes it before the
   * next read callback, so one per loop is enough. */
  char rbuf[64 * 1024];
} cb__io;

/* The loop's IO state, made on first use; NULL when out of memory. */
cb__io *cb__io_get(cb_loop *l);

/* The loop's curl driver, initialised on first use; NULL with *err set. */
cb_curl_uv *cb__io_curl(cb_loop *l, int *err);

#endif
