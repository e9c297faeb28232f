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
 * as stop, with the error reported.
 *
 * green-mn (cb__green_mn_serve): the same on a group of workers (mn.c): the acceptor
 * runs on one worker and places each connection's green thread on the least-loaded
 * worker (where an idle worker may steal it before it starts); the table and the
 * totals are already safe to share between OS threads (serve_util). */
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
  const char *name;      /* the model's, for messages */
  cb_green_sched *sched; /* M:1, or NULL */
  cb_green_group *group; /* M:N, or NULL */
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
  int rc = !c ? -ENOMEM
           : srv->group ? cb_green_group_spawn(srv->group, conn_thread, c, NULL)
                        : cb_green_spawn(srv->sched, conn_thread, c, NULL);
  if (rc == 0) return 0;
  free(c);
  cb_conn_table_remove(&srv->table, fd);
  close(fd);
  cb_report_error(srv->report, "%s: cannot spawn a connection's green thread: %s", srv->name, strerror(-rc));
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
    if (srv->rc == 0) cb_report_error(srv->report, "%s: accept: %s", srv->name, strerror(-r));
    srv->rc = r;
  }
  cb_conn_table_shutdown_all(&srv->table);
}

/* Serves on one scheduler (workers 0) or a group of workers. */
static int serve(const cb_serve_spec *spec, cb_run_report *report, unsigned workers) {
  const char *name = workers ? "green-mn" : "green";
  report->concurrency = spec->max_conns;
  report->created_kind = "green threads";
  if (!spec->workload->serve_conn) {
    cb_report_error(report, "workload %s has no connection handler for --model %s", spec->workload->name, name);
    return -ENOTSUP;
  }
  if (cb_green_hooks_check() != 0) {
    cb_report_error(report, "%s: the syscall hooks are not interposed (link the program with -rdynamic)", name);
    return -ENOSYS;
  }
  green_server srv = {.spec = spec, .report = report, .name = name};
  int rc = workers ? cb_green_group_new(workers, spec->stack_size, &srv.group)
                   : cb_green_sched_new(spec->stack_size, &srv.sched);
  if (rc != 0) {
    cb_report_error(report, "%s: cannot create the scheduler (stack size %zu): %s", name, spec->stack_size,
                    strerror(-rc));
    return rc;
  }
  rc = cb_conn_table_init(&srv.table, spec->max_conns);
  if (rc != 0) {
    cb_report_error(report, "%s: out of memory for %llu connections", name, (unsigned long long)spec->max_conns);
  } else {
    rc = workers ? cb_green_group_spawn(srv.group, acceptor, &srv, NULL) : cb_green_spawn(srv.sched, acceptor, &srv, NULL);
    if (rc != 0) {
      cb_report_error(report, "%s: cannot spawn the acceptor: %s", name, strerror(-rc));
    } else {
      cb_serve_ready(spec);
      rc = workers ? cb_green_group_run(srv.group) : cb_green_sched_run(srv.sched);
      if (rc == -EDEADLK)
        cb_report_error(report, "%s: every green thread is blocked and nothing can wake one", name);
    }
    report->serve.peak_open = srv.table.peak;
    cb_conn_table_free(&srv.table);
  }
  cb_green_stats st;
  if (workers) cb_green_group_stats(srv.group, &st);
  else cb_green_sched_stats(srv.sched, &st);
  report->created = st.created;
  if (workers) cb_green_group_free(srv.group);
  else cb_green_sched_free(srv.sched);
  return srv.rc != 0 ? srv.rc : rc;
}

/* SIGPIPE is ignored while serving: a peer gone mid-write ends that connection
 * (EPIPE), not the server. */
static int serve_ignoring_sigpipe(const cb_serve_spec *spec, cb_run_report *report, unsigned workers) {
  struct sigaction ign = {.sa_handler = SIG_IGN}, old;
  sigaction(SIGPIPE, &ign, &old);
  int rc = serve(spec, report, workers);
  sigaction(SIGPIPE, &old, NULL);
  return rc;
}

/* Contract: cb_model.serve (runtimes/runtime.h). */
int cb__green_serve(const cb_serve_spec *spec, cb_run_report *report) {
  return serve_ignoring_sigpipe(spec, report, 0);
}

int cb__green_mn_serve(const cb_serve_spec *spec, unsigned workers, cb_run_report *report) {
  return serve_ignoring_sigpipe(spec, report, workers);
}
