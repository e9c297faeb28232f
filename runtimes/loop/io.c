/* io.c — the IO layer's per-loop state: made lazily, closed with the loop. */
#include <errno.h>
#include <stdlib.h>

#include "runtimes/loop/io_int.h"
#include "runtimes/loop/transport.h"

static void release_one(cb__io *io) {
  CB_CHECK(io->pending_closes > 0);
  if (--io->pending_closes == 0 && io->closing) free(io);
}

static void shard_closed(cb_curl_uv *c) { release_one(c->data); }
static void kick_closed(uv_handle_t *h) { release_one(h->data); }

cb__io *cb__io_get(cb_loop *l) {
  if (!l->io) {
    cb__io *io = calloc(1, sizeof *io);
    if (!io) return NULL;
    io->loop = l;
    cb__list_init(&io->transports);
    cb__list_init(&io->due);
    CB_CHECK(uv_idle_init(&l->uv, &io->kick) == 0);
    io->kick.data = io;
    l->io = io;
  }
  return l->io;
}

/* One due shard per loop iteration: curl starts every new transfer of a
 * shard in one call (1,000 connects in a row); taking the shards in turn, with
 * libuv polling in between, lets the requests of the first shards go out (and
 * the server work on them) while later shards still connect. */
static void on_kick(uv_idle_t *h) {
  cb__io *io = h->data;
  if (!cb__list_empty(&io->due)) {
    cb_list *n = io->due.next;
    cb__list_remove(n);
    cb_curl_uv_run_due(cb__container_of(n, cb_curl_uv, due));
  }
  if (cb__list_empty(&io->due)) uv_idle_stop(h);
}

static void defer(cb_curl_uv *c) {
  cb__io *io = c->data;
  if (!cb__list_linked(&c->due)) cb__list_push(&io->due, &c->due);
  CB_CHECK(uv_idle_start(&io->kick, on_kick) == 0);
}

static void close_shard(cb__io *io, cb_curl_uv *c) {
  if (cb__list_linked(&c->due)) cb__list_remove(&c->due);
  c->defer = NULL; /* curl_multi_cleanup may still ask for a timeout */
  io->pending_closes++;
  cb_curl_uv_close(c, shard_closed);
}

cb_curl_uv *cb__io_curl(cb_loop *l, int *err) {
  cb__io *io = cb__io_get(l);
  if (!io) {
    *err = -ENOMEM;
    return NULL;
  }
  if (!io->curl_on && io->pending_closes) { /* an earlier failure is still closing */
    *err = -EAGAIN;
    return NULL;
  }
  if (!io->curl_on) {
    for (int k = 0; k < CB_CURL_SHARDS; k++) {
      cb_curl_uv *c = &io->curl[k];
      c->data = io;
      c->defer = defer;
      c->due.next = NULL;
      int rc = cb_curl_uv_init(c, &l->uv);
      if (rc) {
        while (k-- > 0) close_shard(io, &io->curl[k]);
        *err = rc;
        return NULL;
      }
    }
    io->curl_on = 1;
  }
  return &io->curl[io->next_shard++ % CB_CURL_SHARDS];
}

/* Called by cb_loop_close before it runs libuv for the last time: every handle
 * of the IO layer closes in that run, and the last close frees the state. */
void cb__io_close(cb_loop *l) {
  cb__io *io = l->io;
  if (!io) return;
  while (!cb__list_empty(&io->transports)) /* their owners are gone with the tasks */
    cb_transport_abort(cb__container_of(io->transports.next, cb_transport, link), -ECONNABORTED);
  l->io = NULL;
  io->closing = 1;
  if (io->curl_on)
    for (int k = 0; k < CB_CURL_SHARDS; k++) close_shard(io, &io->curl[k]);
  io->pending_closes++;
  uv_close((uv_handle_t *)&io->kick, kick_closed);
}
