/* serve_util.h — the pieces every sync-world server model shares (sync, threads,
 * procs, green): the accept loop's wait and the table of open connections that
 * stop and the idle bound act on. Plain blocking calls, so under green they go
 * through the hooks and park the green thread.
 *
 * Contract of a server model: runtimes/runtime.h (cb_model.serve); the flow is in
 * docs/DESIGN.md "Servers". */
#ifndef CB_SERVE_UTIL_H
#define CB_SERVE_UTIL_H

#include <pthread.h>
#include <stdint.h>

#include "runtimes/runtime.h"

/* Waits until spec->listen_fd has a connection or spec->stop_fd is readable, then
 * accepts one. Returns 1 with *fd a blocking socket (CLOEXEC, TCP_NODELAY), 0 once
 * stop_fd is readable, or a negative errno (EMFILE and the like: the caller
 * decides; EINTR/ECONNABORTED are retried here). */
int cb_serve_accept(const cb_serve_spec *spec, int *fd);

/* The open connections of one server process: bounded by max_conns, shut down
 * together at stop. Thread-safe. */
typedef struct cb_conn_table {
  pthread_mutex_t mu;
  int *fds;         /* open connections, unordered */
  uint64_t n, cap;  /* cap = max_conns */
  uint64_t peak;
  int stopping;
} cb_conn_table;

int cb_conn_table_init(cb_conn_table *t, uint64_t max_conns);
void cb_conn_table_free(cb_conn_table *t);
/* Adds fd: 0, or -EBUSY when max_conns are open or the table is stopping (the
 * caller closes fd and counts it refused). */
int cb_conn_table_add(cb_conn_table *t, int fd);
/* Removes fd (before the caller closes it). */
void cb_conn_table_remove(cb_conn_table *t, int fd);
/* Marks the table stopping and shuts down (SHUT_RDWR) every open connection, so
 * that a unit blocked reading one returns. */
void cb_conn_table_shutdown_all(cb_conn_table *t);

/* Adds a connection's counts into totals (atomically: units may end at once). */
void cb_serve_totals_add(cb_serve_totals *totals, const cb_serve_counts *c, int closed_idle);

#endif
