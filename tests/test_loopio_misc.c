/* test_loopio_misc.c — UDP endpoints, subprocesses, name resolution, drain
 * back-pressure, refused and reset stream connections. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "tests/helpers/ports.h"
#include "runtimes/loop/datagram.h"
#include "runtimes/loop/resolve.h"
#include "runtimes/loop/stream.h"
#include "runtimes/loop/subprocess.h"

#define MS 1000000ull

static void run_task(cb_loop *l, cb_co_fn fn, size_t size, void (*fill)(void *frame, void *arg), void *arg) {
  cb_task *t = cb_create_task(l, fn, size, "test");
  if (fill) fill(cb_task_frame(t), arg);
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cb_err e = cb_task_error(t);
  cr_assert_eq(e.code, 0, "task failed: %d %s", e.code, e.msg ? e.msg : "");
  cb_task_release(t);
}

/* ---- UDP: an echo endpoint and a connected client awaiting its reply ---- */
static void udp_echo(cb_datagram *d, void *arg, const char *data, size_t len, const struct sockaddr *addr) {
  cr_assert_eq(cb_datagram_sendto(d, data, len, addr), 0);
}
static const cb_datagram_protocol echo_proto = {.datagram_received = udp_echo};

typedef struct { cb_future got; char buf[64]; size_t len; } udp_inbox;
static void udp_store(cb_datagram *d, void *arg, const char *data, size_t len, const struct sockaddr *addr) {
  udp_inbox *in = arg;
  memcpy(in->buf, data, len);
  in->len = len;
  cb_future_set_result(&in->got, (cb_val){.u = len});
}
static const cb_datagram_protocol store_proto = {.datagram_received = udp_store};

typedef struct { cb_co co; cb_datagram *client; udp_inbox *in; } udp_frame;
static int udp_client(cb_task *task, void *vf) {
  udp_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cr_assert_eq(cb_datagram_sendto(f->client, "ping", 4, NULL), 0);
  CB_AWAIT(&f->in->got);
  cr_assert_eq(f->in->len, 4);
  cr_assert_eq(memcmp(f->in->buf, "ping", 4), 0);
  CB_CO_END();
}

Test(loopio_misc, udp_round_trip) {
  cb_loop *l = cb_loop_new();
  static cb_datagram server, client;
  udp_inbox in;
  cb_future_init(&in.got, l);
  cr_assert_eq(cb_create_datagram_endpoint(l, &server, "127.0.0.1", 0, NULL, 0, &echo_proto, NULL), 0);
  cr_assert_eq(cb_create_datagram_endpoint(l, &client, NULL, 0, "127.0.0.1", cb_datagram_port(&server),
                                           &store_proto, &in), 0);
  cb_task *t = cb_create_task(l, udp_client, sizeof(udp_frame), "udp");
  udp_frame *f = cb_task_frame(t);
  f->client = &client;
  f->in = &in;
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cr_assert_eq(cb_task_error(t).code, 0);
  cb_task_release(t);
  cb_datagram_close(&server);
  cb_datagram_close(&client);
  cr_assert_eq(cb_loop_run_until_complete(l, &client.closed), 0);
  cr_assert_eq(cb_loop_run_until_complete(l, &server.closed), 0);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- subprocess ---- */
typedef struct { cb_co co; cb_subprocess p; cb_communicate_frame comm; char big[200000]; } cat_frame;
static int cat_round_trip(cb_task *task, void *vf) {
  cat_frame *f = vf;
  CB_CO_BEGIN(task, f);
  {
    char *argv[] = {"cat", NULL};
    cr_assert_eq(cb_subprocess_exec(cb_task_loop(task), &f->p, argv, CB_PIPE_IN | CB_PIPE_OUT), 0);
  }
  for (size_t k = 0; k < sizeof f->big; k++) f->big[k] = (char)('a' + k % 23);
  f->comm.p = &f->p;
  f->comm.input = f->big;
  f->comm.input_len = sizeof f->big; /* more than a pipe holds: needs concurrent read and write */
  CB_CALL(cb_communicate, &f->comm);
  cr_assert_eq(f->comm.co.ret.i, 0);
  cr_assert_eq(f->comm.out_len, sizeof f->big);
  cr_assert_eq(memcmp(f->comm.out, f->big, sizeof f->big), 0);
  free(f->comm.out);
  cb_subprocess_release(&f->p);
  CB_CO_END();
}

Test(loopio_misc, subprocess_cat_round_trip) {
  cb_loop *l = cb_loop_new();
  run_task(l, cat_round_trip, sizeof(cat_frame), NULL, NULL);
  cr_assert_eq(cb_loop_close(l), 0);
}

typedef struct { cb_co co; cb_subprocess p; } exit_frame;
static int nonzero_exit(cb_task *task, void *vf) {
  exit_frame *f = vf;
  CB_CO_BEGIN(task, f);
  {
    char *argv[] = {"sh", "-c", "echo oops >&2; exit 3", NULL};
    cr_assert_eq(cb_subprocess_exec(cb_task_loop(task), &f->p, argv, CB_PIPE_ERR), 0);
  }
  cb_stream_readline(f->p.err);
  CB_AWAIT(&f->p.err->rd);
  cr_assert_eq(f->p.err->rd.result.u, 5);
  cr_assert_eq(memcmp(cb_stream_data(f->p.err), "oops\n", 5), 0);
  CB_AWAIT(&f->p.exited);
  cr_assert_eq(cb_future_result(&f->p.exited).i, 3);
  cb_subprocess_release(&f->p);
  {
    char *argv[] = {"sleep", "30", NULL};
    cr_assert_eq(cb_subprocess_exec(cb_task_loop(task), &f->p, argv, 0), 0);
  }
  cr_assert_eq(cb_subprocess_signal(&f->p, SIGTERM), 0);
  CB_AWAIT(&f->p.exited);
  cr_assert_eq(cb_future_result(&f->p.exited).i, -SIGTERM);
  cr_assert_eq(cb_subprocess_signal(&f->p, SIGTERM), -ESRCH);
  cb_subprocess_release(&f->p);
  CB_CO_END();
}

Test(loopio_misc, subprocess_exit_status_and_signal) {
  cb_loop *l = cb_loop_new();
  run_task(l, nonzero_exit, sizeof(exit_frame), NULL, NULL);
  cr_assert_eq(cb_loop_close(l), 0);
}

Test(loopio_misc, subprocess_missing_program) {
  cb_loop *l = cb_loop_new();
  static cb_subprocess p;
  char *argv[] = {"/nonexistent/program", NULL};
  cr_assert_eq(cb_subprocess_exec(l, &p, argv, CB_PIPE_OUT), -ENOENT);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- getaddrinfo ---- */
typedef struct { cb_co co; cb_gai g; cb_err e; } gai_frame;
static int resolve_co(cb_task *task, void *vf) {
  gai_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cr_assert_eq(cb_getaddrinfo(cb_task_loop(task), &f->g, "localhost", "80", NULL), 0);
  CB_AWAIT(&f->g.fut);
  {
    struct addrinfo *ai = cb_future_result(&f->g.fut).p;
    cr_assert_not_null(ai);
    cr_assert(ai->ai_family == AF_INET || ai->ai_family == AF_INET6);
  }
  cb_gai_free(&f->g);
  cr_assert_eq(cb_getaddrinfo(cb_task_loop(task), &f->g, "no-such-host.invalid", "80", NULL), 0);
  CB_AWAIT_TRY(&f->g.fut, f->e);
  cr_assert_neq(f->e.code, 0);
  cb_gai_free(&f->g);
  CB_CO_END();
}

Test(loopio_misc, getaddrinfo_awaitable) {
  cb_loop *l = cb_loop_new();
  run_task(l, resolve_co, sizeof(gai_frame), NULL, NULL);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- drain: a writer whose peer does not read suspends, then resumes ---- */
typedef struct { cb_future start_reading, done; uint64_t received; } drain_ctl;
typedef struct { cb_stream_handler_frame h; } lazy_frame;
static int lazy_reader(cb_task *task, void *vf) {
  lazy_frame *f = vf;
  drain_ctl *c = f->h.arg;
  CB_CO_BEGIN(task, &f->h);
  CB_AWAIT(&((drain_ctl *)f->h.arg)->start_reading);
  for (;;) {
    cb_stream_read(f->h.stream, 1 << 20);
    CB_AWAIT(&f->h.stream->rd);
    c = f->h.arg;
    if (f->h.stream->rd.result.u == 0) break;
    c->received += f->h.stream->rd.result.u;
  }
  c = f->h.arg;
  cb_future_set_result(&c->done, (cb_val){.u = 0});
  CB_CO_END();
}

typedef struct { cb_co co; int port; drain_ctl *ctl; cb_stream_open op; cb_stream *s; uint64_t sent; int suspended; char chunk[65536]; } writer_frame;
static int fast_writer(cb_task *task, void *vf) {
  writer_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cr_assert_eq(cb_open_connection(cb_task_loop(task), &f->op, "127.0.0.1", f->port), 0);
  CB_AWAIT(&f->op.c.fut);
  f->s = f->op.s;
  cb_transport_set_write_buffer_limits(f->s->t, 256 * 1024, 32 * 1024);
  while (!f->suspended) {
    cr_assert_eq(cb_stream_write(f->s, f->chunk, sizeof f->chunk), 0);
    f->sent += sizeof f->chunk;
    cr_assert_lt(f->sent, 1ull << 30, "drain never suspended");
    if (!cb_future_done(cb_stream_drain(f->s))) {
      cr_assert_gt(cb_transport_write_buffer_size(f->s->t), 256 * 1024);
      f->suspended = 1;
      cb_future_set_result(&f->ctl->start_reading, (cb_val){.u = 0});
    }
    CB_AWAIT(cb_stream_drain(f->s));
  }
  cr_assert_leq(cb_transport_write_buffer_size(f->s->t), 32 * 1024);
  cr_assert(!cb_transport_is_closing(f->s->t));
  cb_stream_close(f->s);
  cr_assert(cb_transport_is_closing(f->s->t));
  CB_AWAIT(cb_stream_wait_closed(f->s));
  cb_stream_release(f->s);
  CB_CO_END();
}

Test(loopio_misc, drain_suspends_until_the_peer_reads) {
  cb_loop *l = cb_loop_new();
  cb_stream_server ss;
  drain_ctl ctl = {0};
  cb_future_init(&ctl.start_reading, l);
  cb_future_init(&ctl.done, l);
  cr_assert_eq(cb_start_server(l, &ss, lazy_reader, sizeof(lazy_frame), &ctl, "127.0.0.1", 0), 0);
  cb_task *t = cb_create_task(l, fast_writer, sizeof(writer_frame), "writer");
  writer_frame *f = cb_task_frame(t);
  f->port = cb_listener_port(&ss.srv);
  f->ctl = &ctl;
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cr_assert_eq(cb_task_error(t).code, 0);
  cr_assert(f->suspended);
  uint64_t sent = f->sent;
  cb_task_release(t);
  cb_listener_close(&ss.srv);
  cr_assert_eq(cb_loop_run_until_complete(l, &ss.srv.closed), 0);
  cr_assert_eq(cb_loop_run_until_complete(l, &ctl.done), 0); /* the handler read to EOF */
  cr_assert_eq(ctl.received, sent);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- a peer that resets the connection: the awaiting reader gets the error ---- */
typedef struct { cb_loop *loop; cb_timer tm; cb_transport *t; } rst_ctl;
static void rst_close(void *arg) { cb_transport_close(((rst_ctl *)arg)->t); }
static void rst_made(cb_transport *t, void *arg) {
  rst_ctl *c = arg;
  c->t = t;
  cb_transport_pause_reading(t); /* what the client sends stays unread: close sends RST */
  /* the client writes as soon as it is connected; 250 ms leave a busy machine time to
   * get that write here before the close (unread data is what makes it a reset) */
  cb_call_later(c->loop, &c->tm, 250 * MS, rst_close, c);
}
static void rst_data(cb_transport *t, void *arg, const char *d, size_t n) {}
static const cb_protocol rst_proto = {.connection_made = rst_made, .data_received = rst_data};
static int rst_factory(void *arg, cb_transport *t, const cb_protocol **p, void **parg) {
  *p = &rst_proto;
  *parg = arg;
  return 0;
}

typedef struct { cb_co co; int port; cb_stream_open op; cb_stream *s; cb_err e; } rst_client_frame;
static int rst_client(cb_task *task, void *vf) {
  rst_client_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cr_assert_eq(cb_open_connection(cb_task_loop(task), &f->op, "127.0.0.1", f->port), 0);
  CB_AWAIT(&f->op.c.fut);
  f->s = f->op.s;
  cr_assert_eq(cb_stream_write(f->s, "never read\n", 11), 0);
  cb_stream_readline(f->s);
  CB_AWAIT_TRY(&f->s->rd, f->e);
  cr_assert_eq(f->e.code, -ECONNRESET, "got %d (%s)", f->e.code, f->e.msg ? f->e.msg : "");
  cr_assert_eq(cb_stream_write(f->s, "x", 1), -ECONNRESET);
  CB_AWAIT(cb_stream_wait_closed(f->s));
  cb_stream_release(f->s);
  CB_CO_END();
}

Test(loopio_misc, connection_reset_reaches_the_reader) {
  cb_loop *l = cb_loop_new();
  static cb_listener srv;
  rst_ctl ctl = {.loop = l};
  cr_assert_eq(cb_create_server(l, &srv, "127.0.0.1", 0, rst_factory, &ctl), 0);
  cb_task *t = cb_create_task(l, rst_client, sizeof(rst_client_frame), "client");
  ((rst_client_frame *)cb_task_frame(t))->port = cb_listener_port(&srv);
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cb_err e = cb_task_error(t);
  cr_assert_eq(e.code, 0, "%s", e.msg ? e.msg : "");
  cb_task_release(t);
  cb_listener_close(&srv);
  cr_assert_eq(cb_loop_run_until_complete(l, &srv.closed), 0);
  cr_assert_eq(cb_loop_close(l), 0);
}

/* ---- open_connection to a port nobody listens on ---- */
typedef struct { cb_co co; int port; cb_stream_open op; cb_err e; } refused_frame;
static int refused_client(cb_task *task, void *vf) {
  refused_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cr_assert_eq(cb_open_connection(cb_task_loop(task), &f->op, "127.0.0.1", f->port), 0);
  CB_AWAIT_TRY(&f->op.c.fut, f->e);
  cr_assert_eq(f->e.code, -ECONNREFUSED);
  cr_assert_null(f->op.s);
  cr_assert_eq(cb_open_connection(cb_task_loop(task), &f->op, "localhost", f->port), 0); /* resolved */
  CB_AWAIT_TRY(&f->op.c.fut, f->e);
  cr_assert_eq(f->e.code, -ECONNREFUSED);
  cr_assert_eq(cb_open_connection(cb_task_loop(task), &f->op, "no-such-host.invalid", f->port), 0);
  CB_AWAIT_TRY(&f->op.c.fut, f->e);
  cr_assert_neq(f->e.code, 0);
  cr_assert_null(f->op.s);
  CB_CO_END();
}

Test(loopio_misc, open_connection_refused) {
  cb_loop *l = cb_loop_new();
  int port = unused_loopback_port();
  cb_task *t = cb_create_task(l, refused_client, sizeof(refused_frame), "client");
  ((refused_frame *)cb_task_frame(t))->port = port;
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cr_assert_eq(cb_task_error(t).code, 0);
  cb_task_release(t);
  cr_assert_eq(cb_loop_close(l), 0);
}
