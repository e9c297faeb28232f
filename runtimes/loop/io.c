/* io.c — the IO layer's per-loop state: made lazily, closed with the loop. */
#include <errno.h>
#include <stdlib.h>

#include "runtimes/loop/io_int.h"
#include "runtimes/loop/transport.h"

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

static void curl_closed(cb_curl_uv *c) {
  cb__io *io = c->data;
  if (--io->curl_open == 0 && io->closing) free(io);
}

cb_curl_uv *cb__io_curl(cb_loop *l, int *err) {
  cb__io *io = cb__io_get(l);
  if (!io) {
    *err = -ENOMEM;
    return NULL;
  }
  if (!io->curl_on && io->curl_open) { /* an earlier failure is still closing */
    *err = -EAGAIN;
    return NULL;
  }
  if (!io->curl_on) {
    for (int k = 0; k < CB_CURL_SHARDS; k++) {
      io->curl[k].data = io;
      int rc = cb_curl_uv_init(&io->curl[k], &l->uv);
      if (rc) { /* close the shards made so far; curl_closed frees io if it is gone by then */
        io->curl_open = k;
        while (k-- > 0) cb_curl_uv_close(&io->curl[k], curl_closed);
        *err = rc;
        return NULL;
      }
    }
    io->curl_on = 1;
    io->curl_open = CB_CURL_SHARDS;
  }
  return &io->curl[io->next_shard++ % CB_CURL_SHARDS];
}

/* Called by cb_loop_close before it runs libuv for the last time: the curl
 * driver's handles close in that run and the state is freed by then. */
void cb__io_close(cb_loop *l) {
  cb__io *io = l->io;
  if (!io) return;
  while (!cb__list_empty(&io->transports)) /* their owners are gone with the tasks */
    cb_transport_abort(cb__container_of(io->transports.next, cb_transport, link), -ECONNABORTED);
  l->io = NULL;
  io->closing = 1;
  if (io->curl_on)
    for (int k = 0; k < CB_CURL_SHARDS; k++) cb_curl_uv_close(&io->curl[k], curl_closed);
  else if (io->curl_open == 0)
    free(io);
}
