/* resolve.h — awaitable name resolution through libuv's getaddrinfo (on its
 * thread pool).
 *
 *   cb_getaddrinfo(loop, &f->gai, "localhost", "80", NULL);
 *   CB_AWAIT(&f->gai.fut);          // result.p: struct addrinfo *, owned by gai
 *   ... cb_gai_free(&f->gai);
 *
 * Errors on fut are libuv's (UV_EAI_NONAME ...; the message says which).
 * Cancelling fut abandons the lookup (its memory is freed when it ends). */
#ifndef CB_LOOP_RESOLVE_H
#define CB_LOOP_RESOLVE_H

#include <netdb.h>

#include "runtimes/loop/future.h"

typedef struct cb_gai {
  cb_future fut;
  cb_handle on_done;
  struct cb__gai_req *req; /* in flight */
  struct addrinfo *res;
} cb_gai;

/* One malloc for the request. hints NULL: any family, stream sockets.
 * 0 or negative errno (fut untouched). */
int cb_getaddrinfo(cb_loop *loop, cb_gai *g, const char *host, const char *service,
                   const struct addrinfo *hints);
/* Frees the result (if any). */
void cb_gai_free(cb_gai *g);

#endif
