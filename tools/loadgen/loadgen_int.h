/* loadgen_int.h — what the files of bin/loadgen share: the run's context (one
 * struct, no globals) and the connection. Not for other components.
 *
 * A connection's states: NONE (no socket: before its first connect, or closed and
 * waiting to reopen), CONNECTING, IDLE (open, nothing in flight), WAITING (one
 * request in flight: never more, no pipelining), CLOSING (uv_close called).
 * The run's phases: CONNECT (open all N, nothing sent), RUN (warm-up, then the
 * measurement window [w_start, w_end)), DRAIN (no new request; replies in flight
 * awaited up to the timeout), DONE (every handle closing; uv_run returns). */
#ifndef CB_LOADGEN_INT_H
#define CB_LOADGEN_INT_H

#include <http_parser.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <uv.h>

#include "common/clock.h"
#include "common/list.h"
#include "tools/loadgen/loadgen.h"
#include "workloads/body.h"

enum { LG_NONE, LG_CONNECTING, LG_IDLE, LG_WAITING, LG_CLOSING };
enum { PH_CONNECT, PH_RUN, PH_DRAIN, PH_DONE };
enum { REOPEN_NO, REOPEN_NOW, REOPEN_LATER }; /* what a closing connection does next */

#define LG_MAX_PENDING_CONNECTS 512 /* connects in progress at once in the CONNECT phase */
#define LG_READ_BUF 65536
#define LG_ECHO_CHUNK 65536 /* an echo message is generated and written this much at a time */

struct cb__lg_run;

typedef struct cb__lg_conn {
  uv_tcp_t tcp;               /* tcp.data = this */
  uv_connect_t creq;
  struct cb__lg_run *run;
  cb_list timed;              /* in run->timed while CONNECTING (in RUN) or WAITING */
  cb_list retry;              /* in run->retry while NONE and waiting to reopen */
  int64_t since_ns;           /* the connect's or the request's start: its deadline is since + timeout */
  int64_t retry_at;
  int64_t intended_ns, sent_ns;
  uint64_t next_k;            /* the next request's sequence number on this connection */
  uint64_t seq;               /* the one in flight */
  uint64_t got;               /* body (http) or message (echo) bytes of the reply so far */
  uint64_t wr_off;            /* echo: bytes of the message generated for writing so far */
  cb_body_check check;
  http_parser parser;         /* parser.data = this */
  uint32_t index;
  uint8_t state, reopen, msg_done;
  uint8_t perr;               /* a problem an http_parser callback found (PERR_*), 0 if none */
  uint64_t perr_val;
} cb__lg_conn;

enum { PERR_STATUS = 1, PERR_LENGTH, PERR_BODY_LONG, PERR_BODY_SHORT };

typedef struct cb__lg_run {
  const cb_loadgen_opts *o;
  cb_loadgen_result *r;
  uv_loop_t loop;
  cb__lg_conn *conns;
  uv_timer_t phase_timer, house_timer;
  uv_signal_t sig_int, sig_term;
  uv_poll_t tick_poll;        /* open loop: the timerfd's readiness */
  int tick_fd;                /* the timerfd, -1 when closed loop */
  int phase, capped, window_begun;
  int64_t t0, w_start, w_end, connect_deadline;
  uint32_t connect_next, connect_pending, open_now;
  uint64_t waiting;           /* connections in WAITING */
  uint64_t cursor;            /* open loop: the next global request index the ticker visits */
  cb_list timed, retry;
  struct rusage ru_start;
  char *req;                  /* http: the request every connection sends */
  size_t req_len;
  unsigned char *msg;         /* echo: scratch for one chunk of a message */
  uint64_t http_digest;       /* http: digest of the expected body */
  http_parser_settings settings;
  char rbuf[LG_READ_BUF];
} cb__lg_run;

/* conn.c */
/* Opens c (state NONE) and starts its connect. 0, or a negative errno after the
 * failure was recorded (c is NONE again or CLOSING). */
int cb__lg_conn_open(cb__lg_run *run, cb__lg_conn *c, int64_t now);
/* Sends c's next request (c IDLE); intended is its intended time (its send time in
 * closed loop). */
void cb__lg_conn_send(cb__lg_run *run, cb__lg_conn *c, int64_t intended, int64_t now);
/* Closes c (any state but NONE and CLOSING) and then does `reopen`. */
void cb__lg_conn_close(cb__lg_run *run, cb__lg_conn *c, int reopen);
/* A failure on c: counted as a timeout (is_timeout) or an error, the first one's
 * text kept; c is closed and, in the RUN phase, reopened. */
void cb__lg_conn_fail(cb__lg_run *run, cb__lg_conn *c, int is_timeout, int err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Sets up the run's request bytes, parser settings and expected digest. 0 or -ENOMEM. */
int cb__lg_proto_init(cb__lg_run *run);
void cb__lg_proto_free(cb__lg_run *run);

/* schedule.c */
/* Open loop: the intended time of connection c's k-th request, t0 + (c + k×N)/R. */
int64_t cb__lg_intended(const cb__lg_run *run, uint32_t c, uint64_t k);
/* Sends c's next request if the schedule allows it now (IDLE, RUN phase, inside the
 * window, below --max-requests; in open loop only once its intended time came). */
void cb__lg_maybe_send(cb__lg_run *run, cb__lg_conn *c, int64_t now);
/* Open loop: starts / stops the ticker that sends each request at its intended time. */
int cb__lg_sched_start(cb__lg_run *run);
void cb__lg_sched_stop(cb__lg_run *run);
/* Open loop, at the window's end: requests intended inside the window and never
 * sent go into the corrected histogram at end - intended and are counted unsent. */
void cb__lg_count_unsent(cb__lg_run *run, int64_t end);

/* run.c */
/* c's reply is complete and was checked (ok: its bytes were right; digest: of the
 * bytes received): counts it and leaves c IDLE (the caller sends or closes next). */
void cb__lg_on_reply(cb__lg_run *run, cb__lg_conn *c, int ok, uint64_t digest, int64_t now);
/* c finished connecting (status 0) in the CONNECT phase or later. */
void cb__lg_on_connected(cb__lg_run *run, cb__lg_conn *c, int64_t now);
/* A connect resolved (either way) during the CONNECT phase: start more, or end it. */
void cb__lg_connect_resolved(cb__lg_run *run);
/* c's handle closed: reopen it if the run still goes on and c asked to. */
void cb__lg_on_closed(cb__lg_run *run, cb__lg_conn *c);
/* Records the run's first problem (one line). */
void cb__lg_set_error(cb__lg_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cb__lg_vset_error(cb__lg_run *run, const char *fmt, va_list ap);
/* Ends the window at `end` (early when capped or interrupted) and starts the drain. */
void cb__lg_end_window(cb__lg_run *run, int64_t end);

#endif
