/* serve_thread.h — test helper: a model's serve (cb_model.serve) in a thread of this
 * process, on a listening socket at 127.0.0.1:<any port>, with its stop and ready
 * pipes; and the small blocking-client calls the server tests share. */
#ifndef CB_TEST_SERVE_THREAD_H
#define CB_TEST_SERVE_THREAD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/run/cell.h"

typedef struct serve_thread {
  const cb_model *model;
  cb_params params;
  cb_job_env env;
  cb_serve_spec spec;
  cb_run_report report; /* serve's totals and error, once it returned */
  int rc;               /* serve's return, once it returned */
  int port;             /* the listening port */
  int stop_wr, ready_rd;
  pthread_t tid;
} serve_thread;

/* Serves w (its defaults, then "name=value" overrides, NULL-ended or NULL; prepared
 * here) with m in a new thread, listen backlog 4096, and returns at once: it does
 * not wait for the model to serve (serve_thread_ready). Also ignores SIGPIPE and
 * raises this process's fd limit. server_url may be NULL. Aborts the test on a
 * failed setup. */
void serve_thread_start(serve_thread *st, const cb_model *m, const cb_workload *w, const char *const overrides[],
                        const char *server_url, uint64_t conc, uint64_t max_conns, int64_t idle_ms);

/* 1 once the model said it serves, 0 if serve returned first (rc, report.error). */
int serve_thread_ready(serve_thread *st);

/* Waits for serve to return and releases what serve_thread_start made. Asserts
 * nothing about rc. */
void serve_thread_end(serve_thread *st);

/* Writes the stop byte, then serve_thread_end (the suite's timeout catches a hang). */
void serve_thread_stop(serve_thread *st);

/* A blocking connection to 127.0.0.1:port (aborts the test if refused). */
int loopback_connect(int port);

/* Sends all n bytes (aborts the test on an error). */
void send_all(int fd, const void *buf, size_t n);

/* Reads exactly n bytes; returns how many came before EOF or an error. */
size_t recv_all(int fd, void *buf, size_t n);

#endif
