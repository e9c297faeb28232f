/* serve.c — the threads model as a server (cb_model.serve, runtimes/runtime.h).
 *
 * C = 0: the calling thread accepts and starts a detached thread per connection,
 * which serves it and ends (at most max_conns at once; one more is accepted and
 * closed, counted refused). A thread that cannot be created refuses its connection
 * the same way (counted refused; the server goes on: a server at its limit turns
 * connections away, it does not stop serving the others).
 * C > 0: a pool of C threads, each accepting on the shared listening socket and
 * serving one connection at a time (the others wait in the backlog). A pool that
 * cannot be created whole is the model giving out: -EAGAIN, error set.
 * At stop: no more accepts (the pool's accepts watch a pipe the calling thread
 * closes), every open connection is shut down, every thread has ended before
 * serve returns. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtimes/runtime.h"
#include "runtimes/serve/serve_util.h"

typedef struct tserve {
  cb_serve_spec spec; /* the pool's accepts watch `quit` instead of the cell's stop_fd */
  cb_run_report *report;
  cb_conn_table table;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  uint64_t live; /* connection threads not yet ended (C = 0) */
} tserve;

typedef struct conn_arg {
  tserve *ts;
  int fd;
} conn_arg;

/* Serves one accepted connection and closes it. */
static void serve_one(tserve *ts, int fd) {
  cb_serve_counts c = {0};
  int end = ts->spec.workload->serve_conn(ts->spec.env, fd, ts->spec.idle_ms, &c);
  cb_conn_table_remove(&ts->table, fd);
  close(fd);
  cb_serve_totals_add(&ts->report->serve, &c, end == -ETIMEDOUT);
}

/* Table full or stopping, or no thread for it: the connection is closed at once. */
static void refuse(tserve *ts, int fd) {
  __atomic_fetch_add(&ts->report->serve.refused, 1, __ATOMIC_RELAXED);
  close(fd);
}

/* An accept that failed with rc: 1 to try again (after a pause at the descriptor
 * limit), 0 when stop came during the pause, else rc (reported). */
static int accept_failed(tserve *ts, int rc) {
  if (rc == -EMFILE || rc == -ENFILE || rc == -ENOBUFS || rc == -ENOMEM) return cb_serve_pause(&ts->spec, 10);
  cb_report_error(ts->report, "threads: accept failed: %s", strerror(-rc));
  return rc;
}

static void *conn_main(void *arg) {
  conn_arg *a = arg;
  tserve *ts = a->ts;
  serve_one(ts, a->fd);
  free(a);
  pthread_mutex_lock(&ts->mu);
  if (--ts->live == 0) pthread_cond_signal(&ts->cv);
  pthread_mutex_unlock(&ts->mu);
  return NULL;
}

static int per_connection(tserve *ts) {
  const cb_serve_spec *spec = &ts->spec;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  cb_serve_ready(spec);
  int result = 0;
  for (;;) {
    int fd, rc = cb_serve_accept(spec, &fd);
    if (rc == 0) break;
    if (rc < 0) {
      result = accept_failed(ts, rc);
      if (result > 0) continue;
      break;
    }
    ts->report->serve.accepted++;
    conn_arg *a = malloc(sizeof *a);
    if (!a || cb_conn_table_add(&ts->table, fd) != 0) {
      free(a);
      refuse(ts, fd);
      continue;
    }
    *a = (conn_arg){.ts = ts, .fd = fd};
    pthread_mutex_lock(&ts->mu);
    ts->live++;
    pthread_mutex_unlock(&ts->mu);
    pthread_t tid;
    if (pthread_create(&tid, &attr, conn_main, a) != 0) {
      pthread_mutex_lock(&ts->mu);
      ts->live--;
      pthread_mutex_unlock(&ts->mu);
      free(a);
      cb_conn_table_remove(&ts->table, fd);
      refuse(ts, fd);
      continue;
    }
    ts->report->created++;
  }
  pthread_attr_destroy(&attr);
  cb_conn_table_shutdown_all(&ts->table);
  pthread_mutex_lock(&ts->mu);
  while (ts->live > 0) pthread_cond_wait(&ts->cv, &ts->mu);
  pthread_mutex_unlock(&ts->mu);
  return result;
}

static void *pool_main(void *arg) {
  tserve *ts = arg;
  for (;;) {
    int fd, rc = cb_serve_accept(&ts->spec, &fd);
    if (rc == 0) return NULL;
    if (rc < 0) {
      if (accept_failed(ts, rc) > 0) continue;
      return NULL; /* the others go on; the error is in the report */
    }
    __atomic_fetch_add(&ts->report->serve.accepted, 1, __ATOMIC_RELAXED);
    if (cb_conn_table_add(&ts->table, fd) != 0) {
      refuse(ts, fd);
      continue;
    }
    serve_one(ts, fd);
  }
}

static int pool(tserve *ts, int stop_fd, uint64_t n) {
  int quit[2];
  pthread_t *tids = calloc(n, sizeof *tids);
  if (!tids || pipe2(quit, O_CLOEXEC) != 0) {
    free(tids);
    cb_report_error(ts->report, "threads: cannot set up a pool of %llu: %s", (unsigned long long)n, strerror(errno));
    return -ENOMEM;
  }
  ts->spec.stop_fd = quit[0];
  uint64_t made = 0;
  int rc = 0;
  for (; made < n; made++) {
    rc = -pthread_create(&tids[made], NULL, pool_main, ts);
    if (rc != 0) {
      cb_report_error(ts->report, "threads: pthread_create failed for worker %llu of %llu: %s",
                      (unsigned long long)made + 1, (unsigned long long)n, strerror(-rc));
      break;
    }
  }
  ts->report->created = made;
  if (rc == 0) {
    cb_serve_ready(&ts->spec);
    struct pollfd pf = {.fd = stop_fd, .events = POLLIN};
    while (poll(&pf, 1, -1) < 0 && errno == EINTR) {
    }
  }
  close(quit[1]); /* the workers' accepts see EOF */
  cb_conn_table_shutdown_all(&ts->table);
  for (uint64_t k = 0; k < made; k++) pthread_join(tids[k], NULL);
  close(quit[0]);
  free(tids);
  return rc;
}

int cb__threads_serve(const cb_serve_spec *spec, cb_run_report *report) {
  if (!spec->workload->serve_conn) return -ENOTSUP;
  int per_conn = spec->concurrency == 0;
  report->concurrency = per_conn ? spec->max_conns : spec->concurrency;
  report->created_kind = "threads";
  /* a pool serves C at once: its table bounds nothing below max_conns */
  uint64_t cap = per_conn || spec->concurrency > spec->max_conns ? spec->max_conns : spec->concurrency;
  tserve ts = {.spec = *spec, .report = report};
  int rc = cb_conn_table_init(&ts.table, cap);
  if (rc != 0) {
    cb_report_error(report, "threads: cannot set up the connection table: %s", strerror(-rc));
    return rc;
  }
  pthread_mutex_init(&ts.mu, NULL);
  pthread_cond_init(&ts.cv, NULL);
  rc = per_conn ? per_connection(&ts) : pool(&ts, spec->stop_fd, spec->concurrency);
  report->serve.peak_open = ts.table.peak;
  pthread_cond_destroy(&ts.cv);
  pthread_mutex_destroy(&ts.mu);
  cb_conn_table_free(&ts.table);
  return rc;
}
