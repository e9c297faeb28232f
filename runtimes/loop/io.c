/* io.c — the IO layer's per-loop state: made lazily, closed with the loop. */
#include <errno.h>
#include <stdlib.h>

#include "runtimes/loop/io.h"
#include "runtimes/loop/io_int.h"
#include "runtimes/loop/transport.h"

uv_loop_t *cb_loop_uv(cb_loop *l) { return &l->uv; }

cb__io *cb__io_get(cb_loop *l) {
  if (!l->io) {
    l->io = calloc(1, sizeof *l->io);
    if (l->io) {
      l->io->loop = l;
      cb__list_init(&l->io->transports);
    }
  }
  return l->io;
}

cb_curl_uv *cb__io_curl(cb_loop *l, int *err) {
  cb__io *io = cb__io_get(l);
  if (!io) {
    *err = -ENOMEM;
    return NULL;
  }
  if (!io->curl_on) {
    int rc = cb_curl_uv_init(&io->curl, &l->uv);
    if (rc) {
      *err = rc;
      return NULL;
    }
    io->curl_on = 1;
  }
  return &io->curl;
}

static void curl_closed(cb_curl_uv *c) { free(cb__container_of(c, cb__io, curl)); }

/* Called by cb_loop_close before it runs libuv for the last time: the curl
 * driver's handles close in that run and the state is freed by then. */
void cb__io_close(cb_loop *l) {
  cb__io *io = l->io;
  if (!io) return;
  while (!cb__list_empty(&io->transports)) /* their owners are gone with the tasks */
    cb_transport_abort(cb__container_of(io->transports.next, cb_transport, link), -ECONNABORTED);
  l->io = NULL;
  if (io->curl_on)
    cb_curl_uv_close(&io->curl, curl_closed);
  else
    free(io);
}
