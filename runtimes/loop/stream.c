/* stream.c — the stream protocol: buffering, the pending read, drain, and the
 * stream's lifetime (one reference for the owner, one for the connection). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/loop/stream.h"
#include "runtimes/loop/stream_int.h"

enum { OP_NONE, OP_READ, OP_EXACTLY, OP_UNTIL, OP_LINE };

static size_t avail(const cb_stream *s) { return s->end - s->start; }

static void complete(cb_stream *s, size_t n) {
  s->op = OP_NONE;
  s->taken = n;
  CB_CHECK(cb_future_set_result(&s->rd, (cb_val){.u = n}) == 0);
}

static void fail(cb_stream *s, int code, const char *msg) {
  s->op = OP_NONE;
  s->taken = 0;
  CB_CHECK(cb_future_set_error(&s->rd, code, msg) == 0);
}

/* EOF reached with the read unsatisfied. */
static void fail_eof(cb_stream *s) {
  if (s->err)
    fail(s, s->err, "connection lost");
  else
    fail(s, -ENODATA, "incomplete read: EOF before the expected data");
}

/* A read whose future was cancelled (its task was) is no longer pending; the
 * data it would have taken stays buffered, as in asyncio. */
static void drop_cancelled(cb_stream *s) {
  if (s->op != OP_NONE && cb_future_done(&s->rd)) s->op = OP_NONE;
}

/* Completes the pending read if the buffer (or EOF) decides it. O(new bytes)
 * for separators: the search resumes where the last one stopped. */
static void try_complete(cb_stream *s) {
  drop_cancelled(s);
  size_t n = avail(s);
  switch (s->op) {
  case OP_NONE:
    return;
  case OP_READ:
    if (n > 0 || s->want == 0)
      complete(s, n < s->want ? n : s->want);
    else if (s->eof)
      s->err ? fail(s, s->err, "connection lost") : complete(s, 0);
    return;
  case OP_EXACTLY:
    if (n >= s->want)
      complete(s, s->want);
    else if (s->eof)
      fail_eof(s);
    return;
  case OP_UNTIL:
  case OP_LINE: {
    size_t from = s->scanned > s->seplen - 1 ? s->scanned - (s->seplen - 1) : 0;
    const char *hit = n >= s->seplen ? memmem(s->buf + s->start + from, n - from, s->sep, s->seplen) : NULL;
    s->scanned = n;
    if (hit) {
      size_t len = (size_t)(hit - (s->buf + s->start)) + s->seplen;
      if (len <= s->limit) {
        complete(s, len);
        return;
      }
    } else if (n <= s->limit && !s->eof) {
      return; /* wait for more */
    }
    if (hit || n > s->limit) {
      if (s->op == OP_LINE) s->start = hit ? s->start + (size_t)(hit - (s->buf + s->start)) + s->seplen : s->end;
      fail(s, -EMSGSIZE, hit ? "separator found beyond the limit" : "separator not found within the limit");
    } else if (s->op == OP_LINE && !s->err) {
      complete(s, n); /* EOF: the rest, possibly nothing */
    } else {
      fail_eof(s);
    }
    return;
  }
  }
}

static void update_reading(cb_stream *s) {
  if (!s->t) return;
  drop_cancelled(s);
  if (!s->paused_reading && s->op == OP_NONE && avail(s) > 2 * s->limit) {
    s->paused_reading = 1;
    cb_transport_pause_reading(s->t);
  } else if (s->paused_reading && (s->op != OP_NONE || avail(s) <= s->limit)) {
    s->paused_reading = 0;
    cb_transport_resume_reading(s->t);
  }
}

static cb_future *arm(cb_stream *s, int op, size_t want) {
  drop_cancelled(s);
  CB_CHECK(s->op == OP_NONE); /* one read at a time */
  s->start += s->taken;
  s->taken = 0;
  s->scanned = 0;
  if (s->start == s->end) s->start = s->end = 0;
  cb_future_init(&s->rd, s->loop);
  s->op = (uint8_t)op;
  s->want = want;
  try_complete(s);
  update_reading(s);
  return &s->rd;
}

cb_future *cb_stream_read(cb_stream *s, size_t n) { return arm(s, OP_READ, n); }
cb_future *cb_stream_readexactly(cb_stream *s, size_t n) { return arm(s, OP_EXACTLY, n); }

cb_future *cb_stream_readuntil(cb_stream *s, const char *sep, size_t seplen) {
  CB_CHECK(seplen >= 1 && seplen <= sizeof s->sep);
  memcpy(s->sep, sep, seplen);
  s->seplen = seplen;
  return arm(s, OP_UNTIL, 0);
}

cb_future *cb_stream_readline(cb_stream *s) {
  s->sep[0] = '\n';
  s->seplen = 1;
  return arm(s, OP_LINE, 0);
}

int cb_stream_at_eof(const cb_stream *s) { return s->eof && avail(s) == s->taken; }
void cb_stream_set_limit(cb_stream *s, size_t limit) { s->limit = limit ? limit : CB_STREAM_LIMIT_DEFAULT; }

/* ---- the protocol ---- */
static void on_data(cb_transport *t, void *arg, const char *data, size_t len) {
  cb_stream *s = arg;
  if (s->end + len > s->cap) {
    if (s->start > 0) { /* slide unread (and taken) bytes to the front */
      memmove(s->buf, s->buf + s->start, s->end - s->start);
      s->end -= s->start;
      s->start = 0;
    }
    if (s->end + len > s->cap) {
      size_t cap = s->cap ? s->cap : 16384;
      while (cap < s->end + len) cap *= 2;
      char *b = realloc(s->buf, cap);
      if (!b) {
        cb_transport_abort(t, -ENOMEM);
        return;
      }
      s->buf = b;
      s->cap = cap;
    }
  }
  memcpy(s->buf + s->end, data, len);
  s->end += len;
  try_complete(s);
  update_reading(s);
}

static int on_eof(cb_transport *t, void *arg) {
  cb_stream *s = arg;
  s->eof = 1;
  try_complete(s);
  return 1; /* stay open for writing, as asyncio's stream protocol does */
}

static void wake_drain(cb_stream *s) {
  if (cb_future_done(&s->drain)) return;
  if (s->t)
    cb_future_set_result(&s->drain, (cb_val){.u = 0});
  else
    cb_future_set_error(&s->drain, s->err ? s->err : -EPIPE, "connection lost");
}

static void on_lost(cb_transport *t, void *arg, int err) {
  cb_stream *s = arg;
  s->t = NULL;
  s->err = err;
  s->eof = 1;
  try_complete(s);
  wake_drain(s);
  cb_future_set_result(&s->closed, (cb_val){.i = err});
  cb_stream_release(s);
}

static void on_pause(cb_transport *t, void *arg) { ((cb_stream *)arg)->write_paused = 1; }

static void on_resume(cb_transport *t, void *arg) {
  cb_stream *s = arg;
  s->write_paused = 0;
  wake_drain(s);
}

static void on_made(cb_transport *t, void *arg) { ((cb_stream *)arg)->t = t; }

const cb_protocol cb__stream_protocol = {
    .connection_made = on_made,
    .data_received = on_data,
    .eof_received = on_eof,
    .connection_lost = on_lost,
    .pause_writing = on_pause,
    .resume_writing = on_resume,
};

cb_stream *cb__stream_new(cb_loop *l) {
  cb_stream *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->loop = l;
  s->limit = CB_STREAM_LIMIT_DEFAULT;
  s->refs = 2; /* the owner's and the connection's */
  cb_future_init(&s->rd, l);
  cb_future_init(&s->drain, l);
  s->drain.state = CB_FUT_FINISHED;
  cb_future_init(&s->closed, l);
  return s;
}

/* ---- writer ---- */
int cb_stream_write(cb_stream *s, const void *data, size_t len) {
  if (!s->t) return s->err ? s->err : -EPIPE;
  return cb_transport_write(s->t, data, len);
}

cb_future *cb_stream_drain(cb_stream *s) {
  if (cb_future_done(&s->drain)) {
    cb_future_init(&s->drain, s->loop);
    if (!s->t || !s->write_paused) wake_drain(s);
  }
  return &s->drain;
}

void cb_stream_write_eof(cb_stream *s) {
  if (s->t) cb_transport_write_eof(s->t);
}

void cb_stream_close(cb_stream *s) {
  if (s->t) cb_transport_close(s->t);
}

int cb_stream_peername(cb_stream *s, struct sockaddr_storage *ss) {
  return s->t ? cb_transport_peername(s->t, ss) : -ENOTCONN;
}

void cb_stream_release(cb_stream *s) {
  CB_CHECK(s->refs > 0);
  if (--s->refs > 0) {
    if (s->t) cb_transport_close(s->t); /* the owner is gone: finish the connection */
    return;
  }
  free(s->buf);
  free(s);
}
