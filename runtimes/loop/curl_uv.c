/* curl_uv.c — see curl_uv.h. The socket and timer callbacks curl calls only
 * (re)arm libuv watchers; all curl work happens in libuv callbacks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/check.h"
#include "runtimes/loop/curl_uv.h"

/* What we watch for one socket curl uses. */
typedef struct sock_ctx {
  uv_poll_t poll;
  cb_list node; /* in cb_curl_uv.socks while open */
  cb_curl_uv *c;
  curl_socket_t fd;
  int events; /* what the uv_poll watches now */
  int wanted; /* curl watches this socket (not parked in its cache) */
} sock_ctx;

static sock_ctx *ctx_of(cb_curl_uv *c, curl_socket_t fd) {
  return fd >= 0 && (size_t)fd < c->nbyfd ? c->byfd[fd] : NULL;
}

static int remember(cb_curl_uv *c, sock_ctx *s) {
  size_t fd = (size_t)s->fd;
  if (fd >= c->nbyfd) {
    size_t n = c->nbyfd ? c->nbyfd : 64;
    while (n <= fd) n *= 2;
    sock_ctx **t = realloc(c->byfd, n * sizeof *t);
    if (!t) return -1;
    memset(t + c->nbyfd, 0, (n - c->nbyfd) * sizeof *t);
    c->byfd = t;
    c->nbyfd = n;
  }
  c->byfd[fd] = s;
  return 0;
}

static int remember_fresh(cb_curl_uv *c, curl_socket_t fd) {
  if (c->nfresh == c->fresh_cap) {
    size_t n = c->fresh_cap ? 2 * c->fresh_cap : 64;
    curl_socket_t *t = realloc(c->fresh, n * sizeof *t);
    if (!t) return -1;
    c->fresh = t;
    c->fresh_cap = n;
  }
  c->fresh[c->nfresh++] = fd;
  return 0;
}

static void one_closed(cb_curl_uv *c) {
  CB_CHECK(c->pending_closes > 0);
  if (--c->pending_closes == 0 && c->on_closed) c->on_closed(c);
}

static void timer_closed(uv_handle_t *h) { one_closed(h->data); }

static void poll_closed(uv_handle_t *h) {
  sock_ctx *s = h->data;
  cb_curl_uv *c = s->c;
  free(s);
  one_closed(c);
}

static void sock_close(sock_ctx *s) {
  cb__list_remove(&s->node);
  s->c->byfd[s->fd] = NULL;
  s->c->pending_closes++;
  uv_close((uv_handle_t *)&s->poll, poll_closed);
}

/* Delivers every finished transfer to its owner. */
static void drain_done(cb_curl_uv *c) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(c->multi, &left))) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL *easy = msg->easy_handle;
    CURLcode result = msg->data.result;
    cb_curl_xfer *x = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
    CB_CHECK(x && x->easy == easy && x->active);
    CB_CHECK(curl_multi_remove_handle(c->multi, easy) == CURLM_OK);
    x->active = 0;
    c->in_flight--;
    x->done(x, result);
  }
}

/* One curl_multi_socket_action, then the fresh sockets it opened are offered
 * to curl as writable (see curl_uv.h), then finished transfers are delivered. */
static void act(cb_curl_uv *c, curl_socket_t fd, int flags) {
  int running;
  curl_multi_socket_action(c->multi, fd, flags, &running); /* may close sockets */
  for (size_t k = 0; k < c->nfresh; k++) { /* in connect order; the list may grow */
    curl_socket_t f = c->fresh[k];
    sock_ctx *s = ctx_of(c, f);
    if (s && s->wanted && (s->events & UV_WRITABLE)) curl_multi_socket_action(c->multi, f, CURL_CSELECT_OUT, &running);
  }
  c->nfresh = 0;
  drain_done(c);
}

static void on_poll(uv_poll_t *p, int status, int events) {
  sock_ctx *s = p->data;
  cb_curl_uv *c = s->c;
  if (!s->wanted) { /* a parked connection woke (peer closed?): curl will see it on reuse */
    uv_poll_stop(&s->poll);
    s->events = 0;
    return;
  }
  int flags = 0;
  if (status < 0) flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  act(c, s->fd, flags);
}

static void on_timer(uv_timer_t *t) { act(t->data, CURL_SOCKET_TIMEOUT, 0); }

/* CURLMOPT_TIMERFUNCTION: -1 stops the timer; 0 means "as soon as possible",
 * which must not be inline (curl forbids re-entering socket_action here). */
static int timer_cb(CURLM *m, long timeout_ms, void *userp) {
  cb_curl_uv *c = userp;
  if (timeout_ms < 0)
    uv_timer_stop(&c->timer);
  else
    CB_CHECK(uv_timer_start(&c->timer, on_timer, (uint64_t)timeout_ms, 0) == 0);
  return 0;
}

/* CURLOPT_CLOSESOCKETFUNCTION: curl closes a socket (it may have sat unwatched
 * in the connection cache): drop its context first. */
static int close_cb(void *clientp, curl_socket_t fd) {
  sock_ctx *s = ctx_of(clientp, fd);
  if (s) {
    uv_poll_stop(&s->poll);
    sock_close(s);
  }
  return close(fd);
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for `what`. REMOVE parks the context
 * without touching the poll: a reused connection usually wants the same
 * events again, and re-arming a libuv poll costs two epoll_ctl calls. A parked
 * socket that becomes ready is stopped in on_poll; close_cb ends the context. */
static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
  cb_curl_uv *c = userp;
  sock_ctx *s = ctx_of(c, fd);
  if (what == CURL_POLL_REMOVE) {
    if (s) s->wanted = 0;
    return 0;
  }
  if (!s) {
    s = malloc(sizeof *s);
    if (!s) return -1;
    s->c = c;
    s->fd = fd;
    s->events = 0;
    s->node.next = NULL;
    if (remember(c, s) != 0 || uv_poll_init_socket(c->uv, &s->poll, fd) != 0) {
      if (ctx_of(c, fd) == s) c->byfd[fd] = NULL;
      free(s);
      return -1;
    }
    s->poll.data = s;
    cb__list_push_back(&c->socks, &s->node);
    if (what == CURL_POLL_OUT && remember_fresh(c, fd) != 0) return -1;
  }
  int events = 0;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= UV_READABLE;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= UV_WRITABLE;
  s->wanted = 1;
  if (events == s->events) return 0;
  if (uv_poll_start(&s->poll, events, on_poll) != 0) return -1;
  s->events = events;
  return 0;
}

int cb_curl_uv_init(cb_curl_uv *c, uv_loop_t *uv) {
  *c = (cb_curl_uv){.uv = uv, .data = c->data};
  cb__list_init(&c->socks);
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return -ENOMEM;
  c->multi = curl_multi_init();
  if (!c->multi) {
    curl_global_cleanup();
    return -ENOMEM;
  }
  int rc = uv_timer_init(uv, &c->timer);
  if (rc) {
    curl_multi_cleanup(c->multi);
    curl_global_cleanup();
    return rc;
  }
  c->timer.data = c;
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
  curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
  /* curl's default cache is 4 × the handles in the multi: as transfers end it
   * shrinks and closes connections that running jobs are about to reuse. */
  curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)CB_CURL_MAX_IDLE_CONNS);
  return 0;
}

int cb_curl_uv_start(cb_curl_uv *c, cb_curl_xfer *x) {
  CB_CHECK(!x->active && x->easy && x->done);
  curl_easy_setopt(x->easy, CURLOPT_PRIVATE, (char *)x);
  curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(x->easy, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
  curl_easy_setopt(x->easy, CURLOPT_CLOSESOCKETDATA, c);
  CURLMcode mc = curl_multi_add_handle(c->multi, x->easy);
  if (mc != CURLM_OK) return mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
  x->active = 1;
  c->in_flight++;
  return 0; /* curl asked for a 0 ms timeout: the transfer begins on the next tick */
}

void cb_curl_uv_abort(cb_curl_uv *c, cb_curl_xfer *x) {
  if (!x->active) return;
  CB_CHECK(curl_multi_remove_handle(c->multi, x->easy) == CURLM_OK);
  x->active = 0;
  c->in_flight--;
}

void cb_curl_uv_close(cb_curl_uv *c, void (*on_closed)(cb_curl_uv *c)) {
  c->on_closed = on_closed;
  curl_multi_cleanup(c->multi); /* closes cached connections through close_cb */
  c->multi = NULL;
  while (!cb__list_empty(&c->socks)) {
    sock_ctx *s = cb__container_of(c->socks.next, sock_ctx, node);
    uv_poll_stop(&s->poll);
    sock_close(s);
  }
  free(c->byfd);
  c->byfd = NULL;
  c->nbyfd = 0;
  free(c->fresh);
  c->fresh = NULL;
  c->nfresh = c->fresh_cap = 0;
  c->pending_closes++;
  uv_close((uv_handle_t *)&c->timer, timer_closed);
  curl_global_cleanup();
}
