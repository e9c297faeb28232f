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
 * decides, e.g. cb_serve_pause and try again; EINTR/ECONNABORTED, and EAGAIN when
 * another unit took the connection first, are retried here). Several units may
 * wait on one listen_fd at once (a pool). */
int cb_serve_accept(const cb_serve_spec *spec, int *fd);
/* The same, and 2 when extra_fd (e.g. procs' epoll set of its children's pidfds)
 * is readable; stop_fd is looked at first, then extra_fd, then listen_fd. */
int cb_serve_accept_or(const cb_serve_spec *spec, int extra_fd, int *fd);

/* Waits ms milliseconds, or less when stop_fd becomes readable: 0 then, else 1.
 * For an accept that failed for want of descriptors: the connection waits in the
 * backlog until one is free. */
int cb_serve_pause(const cb_serve_spec *spec, int ms);

/* The open connections of one server process: bounded by max_conns, shut down
 * together at stop. Thread-safe. Removal is O(open connections). */
typedef struct cb_conn_table {
  pthread_mutex_t mu;
  int *fds;         /* open connections, unordered */
  uint64_t n, cap;  /* cap = max_conns */
  uint64_t peak;
  int stopping;
} cb_conn_table;

/* 0, -EINVAL when max_conns is 0, -ENOMEM. */
int cb_conn_table_init(cb_conn_table *t, uint64_t max_conns);
void cb_conn_table_free(cb_conn_table *t);
/* Adds fd: 0, or -EBUSY when max_conns are open or the table is stopping (the
 * caller closes fd and counts it refused). */
int cb_conn_table_add(cb_conn_table *t, int fd);
/* Removes fd (before the caller closes it, so that a shutdown never hits a
 * descriptor number already reused). */
void cb_conn_table_remove(cb_conn_table *t, int fd);
/* Marks the table stopping and shuts down (SHUT_RDWR) every open connection, so
 * that a unit blocked reading one returns. */
void cb_conn_table_shutdown_all(cb_conn_table *t);

/* A thread that waits for stop_fd and then shuts the table down, for a model whose
 * units block inside connections while nobody else watches stop_fd (sync's one
 * thread, a forked pool worker). It serves nothing. */
typedef struct cb_serve_watch {
  pthread_t tid;
  int stop_fd;
  cb_conn_table *table;
} cb_serve_watch;

/* 0 or a negative errno (pthread_create's). */
int cb_serve_watch_start(cb_serve_watch *w, int stop_fd, cb_conn_table *table);
/* Ends the watcher, whether or not stop_fd became readable, and joins it. */
void cb_serve_watch_end(cb_serve_watch *w);

/* Adds a connection's counts into totals (atomically: units may end at once, in
 * threads or in processes sharing totals through a MAP_SHARED mapping). */
void cb_serve_totals_add(cb_serve_totals *totals, const cb_serve_counts *c, int closed_idle);

#endif
