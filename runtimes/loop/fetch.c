/* fetch.c — see fetch.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/loop/fetch.h"
#include "runtimes/loop/io_int.h"

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata) {
  cb_fetch *f = userdata;
  size_t n = size * nmemb;
  if (f->sink) {
    if (f->sink(f->sink_arg, data, n) == 0) return n;
    f->write_err = -ECANCELED;
    return 0;
  }
  if (f->len + n + 1 > f->cap) {
    size_t cap = f->cap ? f->cap : 4096;
    while (cap < f->len + n + 1) cap *= 2;
    char *b = realloc(f->body, cap);
    if (!b) {
      f->write_err = -ENOMEM;
      return 0;
    }
    f->body = b;
    f->cap = cap;
  }
  memcpy(f->body + f->len, data, n);
  f->len += n;
  f->body[f->len] = 0;
  return n;
}

static int map_error(CURLcode rc) {
  switch (rc) {
  case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
  case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
  case CURLE_PARTIAL_FILE:
  case CURLE_GOT_NOTHING:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR: return -EPIPE;
  case CURLE_OUT_OF_MEMORY: return -ENOMEM;
  default: return -EIO;
  }
}

static void xfer_done(cb_curl_xfer *x, CURLcode rc) {
  cb_fetch *f = x->arg;
  if (rc == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    cb_future_set_result(&f->fut, (cb_val){.i = status});
  } else if (rc == CURLE_WRITE_ERROR && f->write_err) {
    cb_future_set_error(&f->fut, f->write_err, f->write_err == -ENOMEM ? "out of memory for the body" : "body sink aborted the transfer");
  } else {
    cb_future_set_error(&f->fut, map_error(rc), curl_easy_strerror(rc));
  }
}

/* First done callback of fut: when fut was cancelled, the transfer must stop
 * before the awaiting task resumes (its frame may die right after). */
static void fut_done(void *arg) {
  cb_fetch *f = arg;
  if (f->xfer.active) cb_curl_uv_abort(f->drv, &f->xfer);
}

int cb_fetch_init(cb_fetch *f, cb_loop *loop) {
  memset(f, 0, sizeof *f);
  f->loop = loop;
  cb_future_init(&f->fut, loop);
  int err = 0;
  f->drv = cb__io_curl(loop, &err);
  if (!f->drv) return err;
  f->xfer.easy = curl_easy_init();
  if (!f->xfer.easy) return -ENOMEM;
  f->xfer.done = xfer_done;
  f->xfer.arg = f;
  curl_easy_setopt(f->xfer.easy, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(f->xfer.easy, CURLOPT_WRITEDATA, f);
  curl_easy_setopt(f->xfer.easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  return 0;
}

int cb_fetch_start(cb_fetch *f, const char *url, cb_fetch_sink sink, void *sink_arg) {
  CB_CHECK(f->xfer.easy && !f->xfer.active && !cb__list_linked(&f->on_done.node));
  if (curl_easy_setopt(f->xfer.easy, CURLOPT_URL, url) != CURLE_OK) return -ENOMEM;
  f->sink = sink;
  f->sink_arg = sink_arg;
  f->len = 0;
  f->write_err = 0;
  if (f->body) f->body[0] = 0;
  cb_future_init(&f->fut, f->loop);
  int rc = cb_curl_uv_start(f->drv, &f->xfer);
  if (rc) return rc;
  cb_future_add_done_callback(&f->fut, &f->on_done, fut_done, f);
  return 0;
}

void cb_fetch_free(cb_fetch *f) {
  if (f->xfer.active) cb_curl_uv_abort(f->drv, &f->xfer);
  cb_handle_cancel(f->loop, &f->on_done);
  if (f->xfer.easy) curl_easy_cleanup(f->xfer.easy);
  f->xfer.easy = NULL;
  free(f->body);
  f->body = NULL;
  f->len = f->cap = 0;
}
