/* test_loopio_stream.c — streams over TCP and Unix sockets: echo, reads at
 * buffer boundaries and EOF, line limit, drain back-pressure, refused and
 * reset connections. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tools/echobench/echo_loop.h"
#include "runtimes/loop/stream.h"

#define MS 1000000ull


typedef struct {
  cb_co co;
  const char *host, *path;
  int port, rounds, k;
  cb_stream_open op;
  cb_stream *s;
  char msg[64];
} client_frame;

static int echo_client(cb_task *task, void *vf) {
  client_frame *f = vf;
  CB_CO_BEGIN(task, f);
  if (f->path) cr_assert_eq(cb_open_unix_connection(cb_task_loop(task), &f->op, f->path), 0);
  else cr_assert_eq(cb_open_connection(cb_task_loop(task), &f->op, f->host, f->port), 0);
  CB_AWAIT(&f->op.c.fut);
  f->s = f->op.s;
  for (f->k = 0; f->k < f->rounds; f->k++) {
    snprintf(f->msg, sizeof f->msg, "hello %d\n", f->k);
    cr_assert_eq(cb_stream_write(f->s, f->msg, strlen(f->msg)), 0);
    CB_AWAIT(cb_stream_drain(f->s));
    cb_stream_readline(f->s);
    CB_AWAIT(&f->s->rd);
    cr_assert_eq(f->s->rd.result.u, strlen(f->msg));
    cr_assert_eq(memcmp(cb_stream_data(f->s), f->msg, strlen(f->msg)), 0);
  }
  {
    struct sockaddr_storage ss;
    cr_assert_eq(cb_stream_peername(f->s, &ss), 0);
    cr_assert_eq(ss.ss_family, f->path ? AF_UNIX : AF_INET);
  }
  cb_stream_write_eof(f->s);
  cb_stream_read(f->s, 100);
  CB_AWAIT(&f->s->rd);
  cr_assert_eq(f->s->rd.result.u, 0); /* the server closed after our EOF */
  cr_assert(cb_stream_at_eof(f->s));
  cb_stream_close(f->s);
  CB_AWAIT(cb_stream_wait_closed(f->s));
  cb_stream_release(f->s);
  CB_RETURN((cb_val){.u = (uint64_t)f->k});
  CB_CO_END();
}

static void run_echo(const char *path) {
  cb_loop *l = cb_loop_new();
  cb_stream_server ss;
  enum { NCLIENTS = 20 };
  cb_task *t[NCLIENTS];
  if (path) {
    unlink(path);
    cr_assert_eq(cb_start_unix_server(l, &ss, cb_echo_handler, sizeof(cb_echo_frame), NULL, path), 0);
  } else {
    cr_assert_eq(cb_start_server(l, &ss, cb_echo_handler, sizeof(cb_echo_frame), NULL, "127.0.0.1", 0), 0);
  }
  for (int i = 0; i < NCLIENTS; i++) {
    t[i] = cb_create_task(l, echo_client, sizeof(client_frame), "client");
    client_frame *f = cb_task_frame(t[i]);
    f->host = i == 0 ? "localhost" : "127.0.0.1"; /* one client resolves a name */
    f->path = path;
    f->port = path ? 0 : cb_listener_port(&ss.srv);
    f->rounds = 50;
  }
  for (int i = 0; i < NCLIENTS; i++) {
    cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t[i])), 0);
    cb_err e = cb_task_error(t[i]);
    cr_assert_eq(e.code, 0, "client %d: %s", i, e.msg ? e.msg : "");
    cr_assert_eq(cb_task_result(t[i]).u, 50);
    cb_task_release(t[i]);
  }
  cb_listener_close(&ss.srv);
  cr_assert_eq(cb_loop_run_until_complete(l, &ss.srv.closed), 0);
  cr_assert_eq(cb_future_result(&ss.srv.closed).u, NCLIENTS);
  cr_assert_eq(cb_loop_close(l), 0);
  if (path) unlink(path);
}

Test(loopio_stream, echo_tcp) { run_echo(NULL); }

Test(loopio_stream, echo_unix) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/cb-loopio-%d.sock", (int)getpid());
  run_echo(path);
}

/* ---- a server that sends a script of chunks with pauses, then closes ---- */
typedef struct { const char *const *chunks; } script;
typedef struct { cb_stream_handler_frame h; int k; } script_frame;
static int script_handler(cb_task *task, void *vf) {
  script_frame *f = vf;
  const script *sc = f->h.arg;
  CB_CO_BEGIN(task, &f->h);
  for (f->k = 0; sc->chunks[f->k]; f->k++) {
    if (f->k > 0) CB_SLEEP(3 * MS);
    sc = f->h.arg;
    cb_stream_write(f->h.stream, sc->chunks[f->k], strlen(sc->chunks[f->k]));
  }
  CB_CO_END();
}

typedef int (*reader_fn)(cb_task *, void *);
typedef struct {
  cb_co co;
  int port, step;
  cb_stream_open op;
  cb_stream *s;
  cb_err e;
} reader_frame;

static void expect_data(cb_stream *s, const char *want) {
  cr_assert_eq(s->rd.result.u, strlen(want), "got %zu bytes '%.*s', want '%s'", (size_t)s->rd.result.u,
               (int)s->rd.result.u, cb_stream_data(s), want);
  cr_assert_eq(memcmp(cb_stream_data(s), want, strlen(want)), 0);
}

/* Chunks: "ab" "c\nde" "f--g" "h\nij" "k" then EOF. */
static int boundary_reader(cb_task *task, void *vf) {
  reader_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cr_assert_eq(cb_open_connection(cb_task_loop(task), &f->op, "127.0.0.1", f->port), 0);
  CB_AWAIT(&f->op.c.fut);
  f->s = f->op.s;
  cb_stream_readline(f->s); /* spans two chunks */
  CB_AWAIT(&f->s->rd);
  expect_data(f->s, "abc\n");
  cb_stream_readuntil(f->s, "--", 2); /* separator inside a chunk */
  CB_AWAIT(&f->s->rd);
  expect_data(f->s, "def--");
  cb_stream_readexactly(f->s, 4); /* spans the next boundary */
  CB_AWAIT(&f->s->rd);
  expect_data(f->s, "gh\ni");
  cb_stream_readexactly(f->s, 5); /* only "jk" before EOF */
  CB_AWAIT_TRY(&f->s->rd, f->e);
  cr_assert_eq(f->e.code, -ENODATA);
  cb_stream_close(f->s);
  CB_AWAIT(cb_stream_wait_closed(f->s));
  cb_stream_release(f->s);
  CB_CO_END();
}

/* Chunks: "partial line" then EOF: readline returns it, then 0 bytes; readuntil at EOF fails. */
static int eof_reader(cb_task *task, void *vf) {
  reader_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cr_assert_eq(cb_open_connection(cb_task_loop(task), &f->op, "127.0.0.1", f->port), 0);
  CB_AWAIT(&f->op.c.fut);
  f->s = f->op.s;
  cb_stream_readline(f->s);
  CB_AWAIT(&f->s->rd);
  expect_data(f->s, "line one\n");
  cb_stream_readline(f->s);
  CB_AWAIT(&f->s->rd);
  expect_data(f->s, "partial");
  cb_stream_readline(f->s);
  CB_AWAIT(&f->s->rd);
  expect_data(f->s, "");
  cr_assert(cb_stream_at_eof(f->s));
  cb_stream_readuntil(f->s, "x", 1);
  CB_AWAIT_TRY(&f->s->rd, f->e);
  cr_assert_eq(f->e.code, -ENODATA);
  cb_stream_release(f->s);
  CB_CO_END();
}

/* Chunks: 100 'a' without newline, "\nok\n": with limit 64 readline fails, then reads on. */
static int limit_reader(cb_task *task, void *vf) {
  reader_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cr_assert_eq(cb_open_connection(cb_task_loop(task), &f->op, "127.0.0.1", f->port), 0);
  CB_AWAIT(&f->op.c.fut);
  f->s = f->op.s;
  cb_stream_set_limit(f->s, 64);
  cb_stream_readline(f->s);
  CB_AWAIT_TRY(&f->s->rd, f->e);
  cr_assert_eq(f->e.code, -EMSGSIZE);
  cb_stream_readline(f->s);
  CB_AWAIT(&f->s->rd);
  if (f->s->rd.result.u == 1) { /* the rest of the overlong line */
    cb_stream_readline(f->s);
    CB_AWAIT(&f->s->rd);
  }
  expect_data(f->s, "ok\n");
  cb_stream_readline(f->s);
  CB_AWAIT(&f->s->rd);
  expect_data(f->s, "");
  cb_stream_release(f->s);
  CB_CO_END();
}

static void run_script(const char *const *chunks, reader_fn reader) {
  cb_loop *l = cb_loop_new();
  cb_stream_server ss;
  script sc = {chunks};
  cr_assert_eq(cb_start_server(l, &ss, script_handler, sizeof(script_frame), &sc, "127.0.0.1", 0), 0);
  cb_task *t = cb_create_task(l, reader, sizeof(reader_frame), "reader");
  ((reader_frame *)cb_task_frame(t))->port = cb_listener_port(&ss.srv);
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cb_err e = cb_task_error(t);
  cr_assert_eq(e.code, 0, "%s", e.msg ? e.msg : "");
  cb_task_release(t);
  cb_listener_close(&ss.srv);
  cr_assert_eq(cb_loop_run_until_complete(l, &ss.srv.closed), 0);
  cr_assert_eq(cb_loop_close(l), 0);
}

Test(loopio_stream, reads_across_buffer_boundaries) {
  static const char *const chunks[] = {"ab", "c\nde", "f--g", "h\nij", "k", NULL};
  run_script(chunks, boundary_reader);
}

Test(loopio_stream, readline_and_readuntil_at_eof) {
  static const char *const chunks[] = {"line one\npar", "tial", NULL};
  run_script(chunks, eof_reader);
}

Test(loopio_stream, line_longer_than_limit) {
  static const char *const chunks[] = {
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "\nok\n",
      NULL};
  run_script(chunks, limit_reader);
}

/* Cancelling a task blocked in readline leaves the stream usable: the next
 * read gets the data (asyncio keeps it buffered too). */
typedef struct { cb_co co; cb_stream *s; cb_err e; } blocked_frame;
static int blocked_reader(cb_task *task, void *vf) {
  blocked_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cb_stream_readline(f->s);
  CB_AWAIT(&f->s->rd);
  CB_CO_END();
}

typedef struct { cb_co co; int port; cb_stream_open op; cb_stream *s; cb_task *victim; } cancel_frame;
static int cancel_then_read(cb_task *task, void *vf) {
  cancel_frame *f = vf;
  CB_CO_BEGIN(task, f);
  cr_assert_eq(cb_open_connection(cb_task_loop(task), &f->op, "127.0.0.1", f->port), 0);
  CB_AWAIT(&f->op.c.fut);
  f->s = f->op.s;
  f->victim = cb_create_task(cb_task_loop(task), blocked_reader, sizeof(blocked_frame), "blocked");
  ((blocked_frame *)cb_task_frame(f->victim))->s = f->s;
  CB_SLEEP(1000000);
  cr_assert(cb_task_cancel(f->victim, "stop"));
  CB_AWAIT_TRY(cb_task_future(f->victim), ((blocked_frame *)cb_task_frame(f->victim))->e);
  cr_assert(cb_task_cancelled(f->victim));
  cb_task_release(f->victim);
  cb_stream_readline(f->s); /* the script's lines arrive after the cancellation */
  CB_AWAIT(&f->s->rd);
  expect_data(f->s, "late\n");
  cb_stream_release(f->s);
  CB_CO_END();
}

Test(loopio_stream, cancelled_read_leaves_the_stream_usable) {
  static const char *const chunks[] = {"", "", "", "late\n", NULL};
  cb_loop *l = cb_loop_new();
  cb_stream_server ss;
  script sc = {chunks};
  cr_assert_eq(cb_start_server(l, &ss, script_handler, sizeof(script_frame), &sc, "127.0.0.1", 0), 0);
  cb_task *t = cb_create_task(l, cancel_then_read, sizeof(cancel_frame), "reader");
  ((cancel_frame *)cb_task_frame(t))->port = cb_listener_port(&ss.srv);
  cr_assert_eq(cb_loop_run_until_complete(l, cb_task_future(t)), 0);
  cb_err e = cb_task_error(t);
  cr_assert_eq(e.code, 0, "%s", e.msg ? e.msg : "");
  cb_task_release(t);
  cb_listener_close(&ss.srv);
  cr_assert_eq(cb_loop_run_until_complete(l, &ss.srv.closed), 0);
  cr_assert_eq(cb_loop_close(l), 0);
}
