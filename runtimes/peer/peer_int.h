/* peer_int.h — what the peer runtime's files share (runtimes/peer/README.md).
 *
 * A peer is a program in another language that runs a whole cell: the table in
 * peers.c says which program, in which style, needing which packages; peer.c
 * starts it with an argument vector and reads its answer. */
#ifndef CB_PEER_INT_H
#define CB_PEER_INT_H

#include <stddef.h>

#include "runtimes/peer/peer.h"
#include "runtimes/runtime.h"

typedef enum { CB_PEER_PYTHON, CB_PEER_GO } cb_peer_lang;

/* A Python module the peer imports and the Debian package that installs it for
 * /usr/bin/python3. */
typedef struct cb_peer_module {
  const char *module, *package;
} cb_peer_module;

typedef struct cb_peer {
  cb_peer_lang lang;
  const char *style;            /* the program's first argument */
  const char *workloads;        /* the workloads it has a version of, space-separated */
  int sequential;               /* 1: one job at a time (its concurrency is 1) */
  const cb_peer_module *modules; /* NULL-terminated (module NULL); NULL: none */
  const char *counterpart;      /* the C model doing what it does (cb_peer_counterpart) */
} cb_peer;

/* Runs the cell's jobs in peer p: see cb_model.run and cb_model.peer. */
int cb__peer_run(const cb_peer *p, const cb_run_spec *spec, cb_run_report *report);

/* 0 when p can run here, else -ENOENT with what is missing in why. When it can,
 * argv0 (cap bytes) receives the program to exec and script (cap bytes) the
 * script it runs ("" for none). */
int cb__peer_locate(const cb_peer *p, char *argv0, char *script, size_t cap, char *why, size_t why_cap);

#endif
