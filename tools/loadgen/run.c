/* run.c — one run of bin/loadgen on one libuv loop (single-threaded): the phases
 * (loadgen_int.h), the reply accounting, timeouts and reopening, SIGINT/SIGTERM.
 *
 * Timeouts: every request and every connect after the CONNECT phase is appended
 * to run->timed when it starts; since they all have the same timeout, the list is
 * in deadline order and a housekeeping timer (every timeout/20, 1..50 ms) only
 * looks at its head. A connection closed after an error reopens after a pause
 * (run->retry, same order argument), after a timeout or the server's close of a
 * keep-alive connection at once. The CONNECT phase opens the N connections with at
 * most LG_MAX_PENDING_CONNECTS in progress, all within 2 × max(timeout, 1 s) plus
 * 1 ms per connection, or the run fails before any load. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/check.h"
#include "tools/loadgen/loadgen_int.h"

static double tv_s(struct timeval t) { return (double)t.tv_sec + t.tv_usec / 1e6; }

void cb__lg_vset_error(cb__lg_run *run, const char *fmt, va_list ap) {
  if (run->r->error[0]) return;
  vsnprintf(run->r->error, sizeof run->r->error, fmt, ap);
  for (char *p = run->r->error; *p; p++)
    if ((unsigned char)*p < 0x20) *p = ' ';
}

void cb__lg_set_error(cb__lg_run *run, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cb__lg_vset_error(run, fmt, ap);
  va_end(ap);
}

static void close_any(uv_handle_t *h, void *arg) {
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

/* Everything closes; uv_run returns once the close callbacks ran. */
static void finish(cb__lg_run *run) {
  if (run->phase == PH_DONE) return;
  run->phase = PH_DONE;
  uv_walk(&run->loop, close_any, NULL);
}

static void begin_window(cb__lg_run *run) {
  if (run->window_begun) return;
  run->window_begun = 1;
  getrusage(RUSAGE_SELF, &run->ru_start);
  run->r->connected = run->open_now;
}

void cb__lg_end_window(cb__lg_run *run, int64_t end) {
  if (run->phase != PH_RUN) return;
  if (end < run->w_end) run->w_end = end;
  if (run->w_end < run->w_start) run->w_start = run->w_end; /* ended during the warm-up */
  begin_window(run);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = tv_s(ru.ru_utime) - tv_s(run->ru_start.ru_utime) + tv_s(ru.ru_stime) - tv_s(run->ru_start.ru_stime);
  run->r->duration_s = (double)(run->w_end - run->w_start) / 1e9;
  run->r->generator_cpu = run->r->duration_s > 0 ? cpu / run->r->duration_s : 0;
  cb__lg_count_unsent(run, run->w_end);
  cb__lg_sched_stop(run);
  run->phase = PH_DRAIN;
  while (!cb__list_empty(&run->retry)) cb__list_pop_front(&run->retry);
  uv_timer_stop(&run->phase_timer);
  if (run->waiting == 0) finish(run);
}

void cb__lg_on_reply(cb__lg_run *run, cb__lg_conn *c, int ok, uint64_t digest, int64_t now) {
  cb_loadgen_result *r = run->r;
  const cb_loadgen_opts *o = run->o;
  CB_CHECK(c->state == LG_WAITING);
  cb__list_remove(&c->timed);
  c->state = LG_IDLE;
  run->waiting--;
  uint64_t tag = cb_mix64(((uint64_t)c->index << 40) ^ c->seq);
  uint64_t expect = o->proto == CB_LOADGEN_HTTP ? run->http_digest : (ok ? digest : cb_body_digest(c->check.seed, o->bytes));
  r->checksum += tag ^ digest;
  r->expected_checksum += tag ^ expect;
  r->total_checked++;
  if (!ok) {
    r->wrong++;
    cb__lg_set_error(run, "connection %" PRIu32 " request %" PRIu64 ": the reply's bytes differ from those expected",
                     c->index, c->seq);
  } else {
    r->total_ok++;
    int64_t origin = o->rate ? c->intended_ns : c->sent_ns;
    if (origin >= run->w_start && origin < run->w_end) {
      cb_lat_hist_record(&r->corrected, now - origin);
      cb_lat_hist_record(&r->uncorrected, now - c->sent_ns);
      if (run->phase == PH_RUN && now < run->w_end) {
        r->requests++;
        r->bytes += o->bytes;
      }
    }
  }
  if (run->phase == PH_DRAIN && run->waiting == 0) finish(run);
  else if (run->phase == PH_RUN && run->capped && run->waiting == 0) cb__lg_end_window(run, now);
}

void cb__lg_on_connected(cb__lg_run *run, cb__lg_conn *c, int64_t now) { cb__lg_maybe_send(run, c, now); }

void cb__lg_on_closed(cb__lg_run *run, cb__lg_conn *c) {
  if (run->phase == PH_DRAIN && run->waiting == 0) finish(run);
  if (run->phase == PH_RUN && run->capped && run->waiting == 0) cb__lg_end_window(run, cb_now_ns()); /* the last one failed */
  if (run->phase != PH_RUN || c->reopen == REOPEN_NO) return;
  int64_t now = cb_now_ns();
  if (c->reopen == REOPEN_LATER) {
    int64_t pause = run->o->timeout_ns < 100000000 ? run->o->timeout_ns : 100000000;
    c->retry_at = now + pause;
    cb__list_push_back(&run->retry, &c->retry);
    return;
  }
  run->r->reconnects++;
  cb__lg_conn_open(run, c, now);
}

/* ---- the CONNECT phase ---- */
static void start_run(cb__lg_run *run);

static void connect_more(cb__lg_run *run) {
  const cb_loadgen_opts *o = run->o;
  while (run->phase == PH_CONNECT && run->connect_next < o->connections && run->connect_pending < LG_MAX_PENDING_CONNECTS &&
         !run->r->out_of_resources) {
    cb__lg_conn *c = &run->conns[run->connect_next++];
    if (cb__lg_conn_open(run, c, cb_now_ns()) == 0) run->connect_pending++;
  }
}

void cb__lg_connect_resolved(cb__lg_run *run) {
  run->connect_pending--;
  if (run->phase != PH_CONNECT) return;
  connect_more(run);
  if (run->connect_pending > 0) return;
  if (run->open_now == run->o->connections) {
    start_run(run);
    return;
  }
  run->r->connected = run->open_now;
  cb__lg_set_error(run, "only %" PRIu32 " of %" PRIu32 " connections could be opened", run->open_now, run->o->connections);
  finish(run);
}

/* ---- timers and signals ---- */
static void on_phase_timer(uv_timer_t *t);

/* Arms the phase timer for absolute time `at` (ns), never early: libuv's timers
 * count whole milliseconds from a truncated clock, so the callback re-checks. */
static void phase_at(cb__lg_run *run, int64_t at) {
  int64_t left = at - cb_now_ns();
  uint64_t ms = left <= 0 ? 0 : (uint64_t)((left + 999999) / 1000000);
  uv_timer_start(&run->phase_timer, on_phase_timer, ms, 0);
}

static void on_phase_timer(uv_timer_t *t) {
  cb__lg_run *run = t->data;
  int64_t now = cb_now_ns();
  if (run->phase == PH_CONNECT) {
    if (now < run->connect_deadline) return phase_at(run, run->connect_deadline);
    run->r->connected = run->open_now;
    run->r->errors++;
    cb__lg_set_error(run, "only %" PRIu32 " of %" PRIu32 " connections were open after %.1f s", run->open_now,
                     run->o->connections, (double)(run->connect_deadline - run->t0) / 1e9);
    finish(run);
  } else if (run->phase == PH_RUN) {
    if (!run->window_begun) {
      if (now < run->w_start) return phase_at(run, run->w_start);
      begin_window(run);
    }
    if (now < run->w_end) return phase_at(run, run->w_end);
    cb__lg_end_window(run, run->w_end);
  }
}

static void on_house(uv_timer_t *t) {
  cb__lg_run *run = t->data;
  int64_t now = cb_now_ns(), timeout = run->o->timeout_ns;
  while (!cb__list_empty(&run->timed)) {
    cb__lg_conn *c = cb__container_of(run->timed.next, cb__lg_conn, timed);
    if (c->since_ns + timeout > now) break;
    if (c->state == LG_WAITING)
      cb__lg_conn_fail(run, c, 1, -ETIMEDOUT, "connection %" PRIu32 " request %" PRIu64 ": no whole reply after %" PRId64 " ms",
                       c->index, c->seq, timeout / 1000000);
    else
      cb__lg_conn_fail(run, c, 0, -ETIMEDOUT, "connection %" PRIu32 ": connect timed out after %" PRId64 " ms", c->index,
                       timeout / 1000000);
  }
  while (run->phase == PH_RUN && !cb__list_empty(&run->retry)) {
    cb__lg_conn *c = cb__container_of(run->retry.next, cb__lg_conn, retry);
    if (c->retry_at > now) break;
    cb__list_remove(&c->retry);
    run->r->reconnects++;
    cb__lg_conn_open(run, c, now);
  }
}

static void on_signal(uv_signal_t *s, int signum) {
  cb__lg_run *run = s->data;
  run->r->interrupted = 1;
  cb__lg_set_error(run, "interrupted by %s", signum == SIGINT ? "SIGINT" : "SIGTERM");
  if (run->phase == PH_CONNECT) run->r->connected = run->open_now;
  cb__lg_end_window(run, cb_now_ns());
  finish(run);
}

static void start_run(cb__lg_run *run) {
  const cb_loadgen_opts *o = run->o;
  run->phase = PH_RUN;
  run->t0 = cb_now_ns();
  run->w_start = run->t0 + o->warmup_ns;
  run->w_end = run->w_start + o->duration_ns;
  if (o->warmup_ns == 0) begin_window(run);
  phase_at(run, run->window_begun ? run->w_end : run->w_start);
  int rc = cb__lg_sched_start(run);
  if (rc != 0) {
    run->r->errors++;
    cb__lg_set_error(run, "the open-loop ticker could not start: %s", uv_strerror(rc));
    cb__lg_end_window(run, run->t0);
    finish(run);
  }
}

int cb_loadgen_run(const cb_loadgen_opts *o, cb_loadgen_result *r) {
  memset(r, 0, sizeof *r);
  cb_lat_hist_init(&r->corrected);
  cb_lat_hist_init(&r->uncorrected);
  cb__lg_run *run = calloc(1, sizeof *run);
  cb__lg_conn *conns = calloc(o->connections, sizeof *conns);
  if (!run || !conns) {
    free(run);
    free(conns);
    r->out_of_resources = 1;
    snprintf(r->error, sizeof r->error, "out of memory for %" PRIu32 " connections", o->connections);
    return -ENOMEM;
  }
  run->o = o;
  run->r = r;
  run->conns = conns;
  run->tick_fd = -1;
  cb__list_init(&run->timed);
  cb__list_init(&run->retry);
  for (uint32_t i = 0; i < o->connections; i++) {
    conns[i].run = run;
    conns[i].index = i;
  }
  if (cb__lg_proto_init(run) != 0) {
    r->out_of_resources = 1;
    snprintf(r->error, sizeof r->error, "out of memory for %" PRIu64 "-byte messages", o->bytes);
  } else {
    CB_CHECK(uv_loop_init(&run->loop) == 0);
    CB_CHECK(uv_timer_init(&run->loop, &run->phase_timer) == 0);
    CB_CHECK(uv_timer_init(&run->loop, &run->house_timer) == 0);
    CB_CHECK(uv_signal_init(&run->loop, &run->sig_int) == 0);
    CB_CHECK(uv_signal_init(&run->loop, &run->sig_term) == 0);
    run->phase_timer.data = run->house_timer.data = run->sig_int.data = run->sig_term.data = run;
    uv_signal_start(&run->sig_int, on_signal, SIGINT);
    uv_signal_start(&run->sig_term, on_signal, SIGTERM);
    int64_t tick_ms = o->timeout_ns / 20000000;
    tick_ms = tick_ms < 1 ? 1 : tick_ms > 50 ? 50 : tick_ms;
    uv_timer_start(&run->house_timer, on_house, (uint64_t)tick_ms, (uint64_t)tick_ms);
    int64_t per = o->timeout_ns > 1000000000 ? o->timeout_ns : 1000000000;
    run->t0 = cb_now_ns();
    run->connect_deadline = run->t0 + 2 * per + (int64_t)o->connections * 1000000; /* + 1 ms per connection */
    run->phase = PH_CONNECT;
    phase_at(run, run->connect_deadline);
    connect_more(run);
    if (run->connect_pending == 0) { /* every connect failed at once */
      run->connect_pending = 1;
      cb__lg_connect_resolved(run);
    }
    uv_run(&run->loop, UV_RUN_DEFAULT);
    CB_CHECK(uv_loop_close(&run->loop) == 0);
    if (run->tick_fd >= 0) close(run->tick_fd);
  }
  cb__lg_proto_free(run);
  free(conns);
  free(run);
  return 0;
}

int cb_loadgen_verified(const cb_loadgen_result *r) {
  return r->total_ok > 0 && r->errors == 0 && r->timeouts == 0 && r->wrong == 0 && r->total_checked == r->total_sent &&
         !r->interrupted && !r->out_of_resources;
}
