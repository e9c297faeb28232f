/* peers.h — the report's view of the peers (internal, cb__): see peers.c. */
#ifndef CB_REPORT_PEERS_H
#define CB_REPORT_PEERS_H

#include "harness/report/report.h"

/* 1 when the model named is a peer (cb_model.peer): its rows are marked "(peer)". */
int cb__report_is_peer(const char *model);

/* The model's name as the tables show it: "py-asyncio (peer)" for a peer, else the
 * name; into buf (cap bytes), returned. */
const char *cb__report_label(const char *model, char *buf, size_t cap);

/* The side-by-side section (each peer's cell beside its C counterpart's), when the
 * run has peer cells; nothing otherwise. */
void cb__report_peers(const cb_run_results *r, cb__doc *d);

#endif
