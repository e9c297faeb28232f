/* serve.c — the `loop` model as a server: the loop's streams server
 * (cb_start_server_fd on the cell's listening socket), one task per connection
 * running the workload's serve_async handler.
 *
 * Each connection's task runs conn_co, which runs the workload's coroutine as a
 * child (CB_CALL) with a cb_loop_serve_ctx as its argument, so the model sees every
 * connection begin and end: it keeps the open ones on a list, counts them, and
 * refuses one beyond max_conns (its task closes it at once, before any read).
 * Handler errors end the connection and are counted, never re-raised: -ETIMEDOUT
 * (idle_ms without a request, the handler's own timer) is closed_idle; -EPROTO
 * (400 sent) and lost connections end just that connection.
 *
 * Stop: a uv_poll_t on stop_fd. When it fires, the listener is closed and every open
 * connection's transport aborted; each handler then fails at its pending stream
 * await (or its next stream call, if it awaits something else: a backend fetch,
 * CPU work) and its task ends. Once none is open and the listener is closed,
 * cb_loop_close frees the rest. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>

#include "runtimes/loop/loop_int.h"
#include "runtimes/loop/model.h"

int cb__loop_serve(const cb_serve_spec *spec, cb_run_report *report); /* model.c's .serve */

typedef struct loop_server {
  const cb_serve_spec *spec;
  cb_run_report *report;
  cb_loop *loop;
  cb_stream_server ss;
  uv_poll_t stop_watch;
  cb_loop_serve_ctx ctx; /* the handlers' argument: env, idle_ms, counts */
  cb_list conns;         /* open connections (conn_frame.link) */
  uint64_t open;
  int stopping;
  cb_future done; /* stopping and no connection open */
} loop_server;

/* The task frame of one connection; the workload's frame follows it. */
typedef struct conn_frame {
  cb_stream_handler_frame h; /* arg: the loop_server */
  cb_list link;
  _Alignas(8) unsigned char inner[]; /* starts with a cb_stream_handler_frame */
} conn_frame;

static void maybe_done(loop_server *srv) {
  if (srv->stopping && srv->open == 0 && !cb_future_done(&srv->done))
    CB_CHECK(cb_future_set_result(&srv->done, (cb_val){.u = 0}) == 0);
}

static int conn_co(cb_task *task, void *vf) {
  conn_frame *f = vf;
  loop_server *srv = f->h.arg;
  cb_stream_handler_frame *in = (cb_stream_handler_frame *)f->inner;
  cb_err e = {0, NULL};
  CB_CO_BEGIN(task, &f->h);
  if (srv->stopping || srv->open >= srv->spec->max_conns) {
    srv->report->serve.refused++; /* the server closes the stream when this returns */
  } else {
    cb__list_push_back(&srv->conns, &f->link);
    if (++srv->open > srv->report->serve.peak_open) srv->report->serve.peak_open = srv->open;
    in->stream = f->h.stream;
    in->arg = &srv->ctx;
    CB_CALL_TRY(srv->spec->workload->serve_async->fn, in, e);
    cb__list_remove(&f->link);
    srv->open--;
    if (e.code == -ETIMEDOUT) srv->report->serve.closed_idle++;
    maybe_done(srv);
  }
  CB_CO_END();
}

static void on_stop(uv_poll_t *h, int status, int events) {
  (void)status, (void)events;
  loop_server *srv = h->data;
  uv_poll_stop(h);
  srv->stopping = 1;
  cb_listener_close(&srv->ss.srv);
  for (cb_list *l = srv->conns.next; l != &srv->conns; l = l->next) {
    cb_stream *s = cb__container_of(l, conn_frame, link)->h.stream;
    if (s->t) cb_transport_abort(s->t, -ECONNABORTED);
  }
  maybe_done(srv);
}

/* Watches stop_fd in the loop; uv_poll_init makes it non-blocking, its owner gets
 * its flags back. */
static int watch_stop(loop_server *srv) {
  int fl = fcntl(srv->spec->stop_fd, F_GETFL);
  if (fl < 0) return -errno;
  int rc = uv_poll_init(&srv->loop->uv, &srv->stop_watch, srv->spec->stop_fd);
  if (rc) return rc;
  fcntl(srv->spec->stop_fd, F_SETFL, fl);
  srv->stop_watch.data = srv;
  rc = uv_poll_start(&srv->stop_watch, UV_READABLE | UV_DISCONNECT, on_stop);
  if (rc) uv_close((uv_handle_t *)&srv->stop_watch, NULL);
  return rc;
}

/* Runs the loop until serving has stopped; the stop watcher is closed after. */
static int serve_until_stopped(loop_server *srv) {
  int rc = cb_loop_run_until_complete(srv->loop, &srv->done);
  if (rc == 0) rc = cb_loop_run_until_complete(srv->loop, &srv->ss.srv.closed);
  uv_close((uv_handle_t *)&srv->stop_watch, NULL);
  if (rc) cb_report_error(srv->report, "loop: %llu connections can never finish (deadlock)", (unsigned long long)srv->open);
  return rc;
}

static int serve(const cb_serve_spec *spec, cb_run_report *report) {
  report->concurrency = spec->max_conns;
  report->created_kind = "tasks";
  const struct cb_async_conn *ac = spec->workload->serve_async;
  if (!ac) {
    cb_report_error(report, "workload %s has no coroutine version for --model loop", spec->workload->name);
    return -ENOTSUP;
  }
  CB_CHECK(ac->frame_size >= sizeof(cb_stream_handler_frame));
  if (spec->max_conns == 0) {
    cb_report_error(report, "loop: max_conns must be at least 1");
    return -EINVAL;
  }
  loop_server srv = {.spec = spec, .report = report, .loop = cb_loop_new()};
  if (!srv.loop) {
    cb_report_error(report, "loop: cannot create the event loop");
    return -ENOMEM;
  }
  srv.ctx = (cb_loop_serve_ctx){.env = spec->env, .idle_ms = spec->idle_ms};
  cb__list_init(&srv.conns);
  cb_future_init(&srv.done, srv.loop);
  int rc = watch_stop(&srv);
  if (rc) {
    cb_report_error(report, "loop: cannot watch the stop descriptor: %s", uv_strerror(rc));
  } else if ((rc = cb_start_server_fd(srv.loop, &srv.ss, conn_co, sizeof(conn_frame) + ac->frame_size, &srv,
                                      spec->listen_fd)) != 0) {
    cb_report_error(report, "loop: cannot serve the listening socket: %s", uv_strerror(rc));
    uv_close((uv_handle_t *)&srv.stop_watch, NULL);
  } else {
    cb_serve_ready(spec);
    rc = serve_until_stopped(&srv);
    report->serve.accepted = srv.ss.srv.accepted;
  }
  report->serve.counts = srv.ctx.counts;
  report->created = cb_loop_tasks_created(srv.loop);
  cb_loop_close(srv.loop);
  return rc;
}

/* Contract: cb_model.serve (runtimes/runtime.h). SIGPIPE is ignored meanwhile
 * (libuv writes with write(2)): a peer gone mid-write ends that connection
 * (EPIPE), not the server. */
int cb__loop_serve(const cb_serve_spec *spec, cb_run_report *report) {
  struct sigaction ign = {.sa_handler = SIG_IGN}, old;
  sigaction(SIGPIPE, &ign, &old);
  int rc = serve(spec, report);
  sigaction(SIGPIPE, &old, NULL);
  return rc;
}
