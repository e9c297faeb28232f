/* serve.c — the `green` model as a server: a green thread per connection.
 *
 * One acceptor green thread waits in cb_serve_accept (poll on the listening socket
 * and the stop fd, then accept4: hooked calls, so it parks while nothing comes),
 * adds each connection to the open-connection table (beyond max_conns: closed at
 * once and counted refused) and spawns a green thread that runs the workload's
 * unchanged sync-world serve_conn on it. Every read and write of serve_conn parks
 * its green thread instead of blocking the scheduler.
 *
 * Idle bound: serve_conn sets SO_RCVTIMEO on its socket, which the setsockopt hook
 * notes and the read hooks honour (hooks.c): an idle connection's read ends with
 * EAGAIN after idle_ms, as under the OS-thread models, and serve_conn returns
 * -ETIMEDOUT (counted closed_idle). accepted counts every connection accepted,
 * refused ones included.
 *
 * Stop: once stop_fd is readable, cb_serve_accept returns 0; the acceptor marks the
 * table stopping and shuts down every open connection (SHUT_RDWR), which wakes each
 * connection's parked read or write; every green thread returns, and with none
 * left cb_green_sched_run returns. Out of descriptors (EMFILE...) the acceptor
 * pauses 10 ms and tries again; any other accept error ends serving the same way
 * as stop, with the error reported. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtimes/green/green_int.h"
#include "runtimes/serve/serve_util.h"

typedef struct green_server {
  const cb_serve_spec *spec;
  cb_run_report *report;
  cb_green_sched *sched;
  cb_conn_table table;
  int rc; /* the first failure: the acceptor's error */
} green_server;

/* One connection's green thread: what it needs besides the server (freed by it). */
typedef struct green_conn {
  green_server *srv;
  int fd;
} green_conn;

static void conn_thread(void *p) {
  green_conn *c = p;
  green_server *srv = c->srv;
  int fd = c->fd;
  free(c);
  cb_serve_counts counts = {0};
  int rc = srv->spec->workload->serve_conn(srv->spec->env, fd, srv->spec->idle_ms, &counts);
  cb_conn_table_remove(&srv->table, fd);
  close(fd);
  cb_serve_totals_add(&srv->report->serve, &counts, rc == -ETIMEDOUT);
}

/* Serves fd (in the table) in a green thread of its own; closes fd when that
 * cannot be made. */
static int spawn_conn(green_server *srv, int fd) {
  green_conn *c = malloc(sizeof *c);
  if (c) *c = (green_conn){.srv = srv, .fd = fd};
  int rc = c ? cb_green_spawn(srv->sched, conn_thread, c, NULL) : -ENOMEM;
  if (rc == 0) return 0;
  free(c);
  cb_conn_table_remove(&srv->table, fd);
  close(fd);
  cb_report_error(srv->report, "green: cannot spawn a connection's green thread: %s", strerror(-rc));
  return rc;
}

/* Accepts until stop (or a failure), then shuts every open connection down. Out of
 * descriptors, it pauses 10 ms (the connection waits in the backlog). */
static void acceptor(void *p) {
  green_server *srv = p;
  cb_serve_totals *t = &srv->report->serve;
  int fd, r;
  for (;;) {
    r = cb_serve_accept(srv->spec, &fd);
    if (r == -EMFILE || r == -ENFILE || r == -ENOBUFS || r == -ENOMEM) {
      if (cb_serve_pause(srv->spec, 10) == 0) break;
      continue;
    }
    if (r != 1) break;
    t->accepted++;
    if (cb_conn_table_add(&srv->table, fd) != 0) {
      close(fd);
      t->refused++;
    } else if ((r = spawn_conn(srv, fd)) != 0) {
      break;
    }
  }
  if (r < 0) {
    if (srv->rc == 0) cb_report_error(srv->report, "green: accept: %s", strerror(-r));
    srv->rc = r;
  }
  cb_conn_table_shutdown_all(&srv->table);
}

static int serve(const cb_serve_spec *spec, cb_run_report *report) {
  report->concurrency = spec->max_conns;
  report->created_kind = "green threads";
  if (!spec->workload->serve_conn) {
    cb_report_error(report, "workload %s has no connection handler for --model green", spec->workload->name);
    return -ENOTSUP;
  }
  if (cb_green_hooks_check() != 0) {
    cb_report_error(report, "green: the syscall hooks are not interposed (link the program with -rdynamic)");
    return -ENOSYS;
  }
  green_server srv = {.spec = spec, .report = report};
  int rc = cb_green_sched_new(spec->stack_size, &srv.sched);
  if (rc != 0) {
    cb_report_error(report, "green: cannot create the scheduler (stack size %zu): %s", spec->stack_size,
                    strerror(-rc));
    return rc;
  }
  rc = cb_conn_table_init(&srv.table, spec->max_conns);
  if (rc != 0) {
    cb_report_error(report, "green: out of memory for %llu connections", (unsigned long long)spec->max_conns);
    cb_green_sched_free(srv.sched);
    return rc;
  }
  rc = cb_green_spawn(srv.sched, acceptor, &srv, NULL);
  if (rc != 0) {
    cb_report_error(report, "green: cannot spawn the acceptor: %s", strerror(-rc));
  } else {
    cb_serve_ready(spec);
    rc = cb_green_sched_run(srv.sched);
    if (rc == -EDEADLK) cb_report_error(report, "green: every green thread is blocked and nothing can wake one");
  }
  cb_green_stats st;
  cb_green_sched_stats(srv.sched, &st);
  report->created = st.created;
  report->serve.peak_open = srv.table.peak;
  cb_green_sched_free(srv.sched);
  cb_conn_table_free(&srv.table);
  return srv.rc != 0 ? srv.rc : rc;
}

/* Contract: cb_model.serve (runtimes/runtime.h). SIGPIPE is ignored meanwhile: a
 * peer gone mid-write ends that connection (EPIPE), not the server. */
int cb__green_serve(const cb_serve_spec *spec, cb_run_report *report) {
  struct sigaction ign = {.sa_handler = SIG_IGN}, old;
  sigaction(SIGPIPE, &ign, &old);
  int rc = serve(spec, report);
  sigaction(SIGPIPE, &old, NULL);
  return rc;
}
