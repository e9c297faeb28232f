/* resolve.c — see resolve.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/loop/io_int.h"
#include "runtimes/loop/resolve.h"

typedef struct cb__gai_req {
  uv_getaddrinfo_t req;
  cb_gai *owner; /* NULL once abandoned */
} gai_req;

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  gai_req *r = cb__container_of(req, gai_req, req);
  cb_gai *g = r->owner;
  free(r);
  if (!g) {
    uv_freeaddrinfo(res);
    return;
  }
  g->req = NULL;
  if (status < 0) {
    uv_freeaddrinfo(res);
    cb_future_set_error(&g->fut, status, uv_strerror(status));
  } else {
    g->res = res;
    cb_future_set_result(&g->fut, (cb_val){.p = res});
  }
}

static void fut_done(void *arg) {
  cb_gai *g = arg;
  if (!g->req) return;
  g->req->owner = NULL; /* cancelled: the lookup ends unobserved */
  uv_cancel((uv_req_t *)&g->req->req);
  g->req = NULL;
}

int cb_getaddrinfo(cb_loop *l, cb_gai *g, const char *host, const char *service,
                   const struct addrinfo *hints) {
  struct addrinfo def = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  gai_req *r = malloc(sizeof *r);
  if (!r) return -ENOMEM;
  memset(g, 0, sizeof *g);
  cb_future_init(&g->fut, l);
  r->owner = g;
  int rc = uv_getaddrinfo(&l->uv, &r->req, on_resolved, host, service, hints ? hints : &def);
  if (rc) {
    free(r);
    return rc;
  }
  g->req = r;
  cb_future_add_done_callback(&g->fut, &g->on_done, fut_done, g);
  return 0;
}

void cb_gai_free(cb_gai *g) {
  if (g->req) {
    g->req->owner = NULL;
    uv_cancel((uv_req_t *)&g->req->req);
    g->req = NULL;
  }
  cb_handle_cancel(g->fut.loop, &g->on_done);
  uv_freeaddrinfo(g->res);
  g->res = NULL;
}
