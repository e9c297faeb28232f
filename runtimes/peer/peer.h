/* peer.h — what the rest of concbench asks about the peers (runtimes/peer/README.md);
 * the list itself is cb_peer_all (runtime.h). */
#ifndef CB_PEER_H
#define CB_PEER_H

#include "runtimes/runtime.h"

/* The C model a peer does the same as — its Python original's C version
 * (py-threads: threads, py-procs: procs, py-gevent: green, py-asyncio and py-uvloop:
 * loop, py-sync: sync) or, for Go's goroutines, green — or NULL when m is not a peer. */
const char *cb_peer_counterpart(const cb_model *m);

#endif
