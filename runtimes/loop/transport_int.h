/* transport_int.h — what server.c and connect.c share with transport.c. */
#ifndef CB_LOOP_TRANSPORT_INT_H
#define CB_LOOP_TRANSPORT_INT_H

#include <sys/un.h>

#include "runtimes/loop/transport.h"

/* A transport whose uv handle is initialised (kind TCP or UNIX); NULL on failure. */
cb_transport *cb__transport_new(cb_loop *l, int kind);
/* The connection is up: attach the protocol, call connection_made, start reading. */
void cb__transport_made(cb_transport *t, const cb_protocol *proto, void *arg);

#endif
