/* stream.h — asyncio's streams (StreamReader/StreamWriter) on the transport
 * layer: a cb_stream is both reader and writer of one connection.
 *
 * Reading: each read call arms ONE pending read and returns its future; await
 * it, then find the bytes at cb_stream_data(s), *result.u* of them. They stay
 * there until the next read call (which consumes them). A read that the buffer
 * already satisfies completes at once (no suspension). One read at a time.
 *
 *   cb_stream_readline(f->s);        // arm
 *   CB_AWAIT(&f->s->rd);             // suspend until a line (or error)
 *   line = cb_stream_data(f->s); n = f->s->rd.result.u;
 *
 * Errors on rd: -ENODATA incomplete read at EOF (readexactly, readuntil),
 * -EMSGSIZE line/separator beyond the limit (asyncio LimitOverrunError),
 * the transport's error (-ECONNRESET ...) once the connection is lost.
 * The reader pauses the transport while more than 2 × limit bytes wait unread.
 *
 * Writing: cb_stream_write queues (never blocks); await cb_stream_drain(s),
 * which suspends while the transport's write buffer is above its high-water
 * mark and resumes when it fell to the low one. */
#ifndef CB_LOOP_STREAM_H
#define CB_LOOP_STREAM_H

#include "runtimes/loop/task.h"
#include "runtimes/loop/transport.h"

#define CB_STREAM_LIMIT_DEFAULT (64 * 1024)

typedef struct cb_stream {
  cb_transport *t; /* NULL once the connection is lost */
  cb_loop *loop;
  char *buf;       /* unread bytes are buf[start, end) */
  size_t start, end, cap, taken, limit, scanned;
  int err;         /* why the connection was lost (0: clean) */
  uint8_t eof, op, paused_reading, write_paused, refs;
  char sep[16];
  size_t seplen, want;
  cb_future rd;     /* the pending read */
  cb_future drain;  /* drain waiters */
  cb_future closed; /* wait_closed: completes when the connection is lost */
} cb_stream;

/* Bytes of the last completed read (count: rd.result.u). */
static inline const char *cb_stream_data(const cb_stream *s) { return s->buf + s->start; }

/* Up to n bytes (at least 1; 0 only at EOF). */
cb_future *cb_stream_read(cb_stream *s, size_t n);
/* Exactly n bytes, or -ENODATA at EOF. */
cb_future *cb_stream_readexactly(cb_stream *s, size_t n);
/* Through sep (1..16 bytes) included; -ENODATA at EOF without it; -EMSGSIZE
 * when it is not within limit bytes (the data stays buffered). */
cb_future *cb_stream_readuntil(cb_stream *s, const char *sep, size_t seplen);
/* Through "\n"; at EOF what is left (maybe 0 bytes); beyond the limit:
 * -EMSGSIZE and the overlong data is discarded. */
cb_future *cb_stream_readline(cb_stream *s);
/* EOF received and nothing left unread. */
int cb_stream_at_eof(const cb_stream *s);
void cb_stream_set_limit(cb_stream *s, size_t limit);

/* Queues data; -EPIPE (or the connection's error) once closed. */
int cb_stream_write(cb_stream *s, const void *data, size_t len);
/* Completes at once unless the write buffer is above its high-water mark;
 * fails with the connection's error once the connection is lost. */
cb_future *cb_stream_drain(cb_stream *s);
void cb_stream_write_eof(cb_stream *s);
/* Closes after the queued data went out; await s->closed (wait_closed). */
void cb_stream_close(cb_stream *s);
static inline cb_future *cb_stream_wait_closed(cb_stream *s) { return &s->closed; }
int cb_stream_peername(cb_stream *s, struct sockaddr_storage *ss);
/* Drops the owner's reference (closing the connection if still open); the
 * stream is freed once the connection is lost too. Do not touch s afterwards. */
void cb_stream_release(cb_stream *s);

/* ---- open_connection ---- */
typedef struct cb_stream_open {
  cb_connect c;   /* await &op->c.fut */
  cb_handle on_done;
  cb_stream *s;   /* the stream once c.fut succeeded (the caller owns a reference) */
} cb_stream_open;

/* Connects to host:port (TCP) or path (Unix; host NULL, port ignored). Await
 * &op->c.fut; then op->s. 0 or negative errno. */
int cb_open_connection(cb_loop *loop, cb_stream_open *op, const char *host, int port);
int cb_open_unix_connection(cb_loop *loop, cb_stream_open *op, const char *path);

/* ---- start_server ---- */
/* The handler's frame starts with this; the server fills stream and arg. The
 * stream is closed and released when the handler returns (error or not). */
typedef struct cb_stream_handler_frame {
  cb_co co;
  cb_stream *stream;
  void *arg;
} cb_stream_handler_frame;

typedef struct cb_stream_server {
  cb_listener srv; /* srv.closed: wait_closed */
  cb_co_fn handler;
  size_t frame_size;
  void *arg;
} cb_stream_server;

/* Listens and runs handler(frame) as a new task per connection; frame_size >=
 * sizeof(cb_stream_handler_frame). path != NULL: Unix socket (host, port unused). */
int cb_start_server(cb_loop *loop, cb_stream_server *ss, cb_co_fn handler, size_t frame_size, void *arg,
                    const char *host, int port);
int cb_start_unix_server(cb_loop *loop, cb_stream_server *ss, cb_co_fn handler, size_t frame_size, void *arg,
                         const char *path);
/* On a TCP socket the caller made listen (cb_create_server_fd: fd stays the
 * caller's). */
int cb_start_server_fd(cb_loop *loop, cb_stream_server *ss, cb_co_fn handler, size_t frame_size, void *arg, int fd);

#endif
