/* schedule.c — when requests go out.
 *
 * Closed loop: a connection sends its next request as soon as it is idle (its
 * reply came), while the window lasts.
 *
 * Open loop (wrk2's model, with one exact schedule instead of per-thread rates):
 * global request i is intended at t0 + i/R and belongs to connection i mod N as
 * its (i div N)-th request, so connection c's k-th request is intended at
 * t0 + (c + k×N)/R: the offered rate spread evenly over the connections. A
 * connection sends a request at its intended time if it is idle then, or at once
 * when the previous reply arrives late; its corrected latency runs from the
 * intended time, so a server stall is charged to every request that should have
 * gone out during it, not only to the one that was in flight (coordinated
 * omission). The ticker is a timerfd (nanosecond deadlines, where libuv timers
 * have milliseconds) armed at the next global intended time, but never sooner than
 * LG_TICK_GAP_NS after the time it was last armed for: when it fires, every request due by now
 * is offered to its connection. Above 1/LG_TICK_GAP_NS requests/s (20,000/s) they
 * go out in small batches, up to 50 µs late, which the corrected latency shows;
 * waking for each one costs a wake-up and two timerfd calls per request, which at
 * 50,000/s took a whole core here (0.98 against 0.93 with the gap) and queued the
 * requests behind the generator itself (p50 corrected 108 µs against 37 µs). */
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "tools/loadgen/loadgen_int.h"

#define LG_TICK_GAP_NS 50000

static int64_t intended_global(const cb__lg_run *run, uint64_t i) {
  return run->t0 + (int64_t)((unsigned __int128)i * 1000000000u / run->o->rate);
}

int64_t cb__lg_intended(const cb__lg_run *run, uint32_t c, uint64_t k) {
  return intended_global(run, (uint64_t)c + k * run->o->connections);
}

void cb__lg_maybe_send(cb__lg_run *run, cb__lg_conn *c, int64_t now) {
  if (run->phase != PH_RUN || c->state != LG_IDLE || run->capped || now >= run->w_end) return;
  if (run->o->rate == 0) {
    cb__lg_conn_send(run, c, now, now);
    return;
  }
  int64_t due = cb__lg_intended(run, c->index, c->next_k);
  if (due <= now && due < run->w_end) cb__lg_conn_send(run, c, due, now);
}

static void arm(cb__lg_run *run, int64_t at) {
  struct itimerspec its = {.it_value = {.tv_sec = at / 1000000000, .tv_nsec = at % 1000000000}};
  if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1; /* 0 would disarm */
  timerfd_settime(run->tick_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Offers every request due by now to its connection, then arms the ticker for the
 * next one (none after the window). */
static void dispatch(cb__lg_run *run) {
  int64_t now = cb_now_ns();
  uint32_t n = run->o->connections;
  while (run->phase == PH_RUN && !run->capped) {
    int64_t due = intended_global(run, run->cursor);
    if (due >= run->w_end) return;
    if (due > now) {
      int64_t soonest = run->tick_at + LG_TICK_GAP_NS;
      run->tick_at = due < soonest ? soonest : due;
      arm(run, run->tick_at);
      return;
    }
    cb__lg_maybe_send(run, &run->conns[run->cursor % n], now);
    run->cursor++;
  }
}

static void on_tick(uv_poll_t *p, int status, int events) {
  cb__lg_run *run = p->data;
  uint64_t expirations;
  if (read(run->tick_fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN) return;
  dispatch(run);
}

int cb__lg_sched_start(cb__lg_run *run) {
  if (run->o->rate == 0) {
    for (uint32_t i = 0; i < run->o->connections; i++) cb__lg_maybe_send(run, &run->conns[i], cb_now_ns());
    return 0;
  }
  prctl(PR_SET_TIMERSLACK, 1UL); /* wake at the deadline, not up to 50 µs after it */
  run->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (run->tick_fd < 0) return -errno;
  int rc = uv_poll_init(&run->loop, &run->tick_poll, run->tick_fd);
  if (rc != 0) {
    close(run->tick_fd);
    run->tick_fd = -1;
    return rc;
  }
  run->tick_poll.data = run;
  uv_poll_start(&run->tick_poll, UV_READABLE, on_tick);
  dispatch(run);
  return 0;
}

void cb__lg_sched_stop(cb__lg_run *run) {
  if (run->tick_fd >= 0 && !uv_is_closing((uv_handle_t *)&run->tick_poll)) uv_poll_stop(&run->tick_poll);
}

void cb__lg_count_unsent(cb__lg_run *run, int64_t end) {
  if (run->o->rate == 0 || run->capped) return;
  for (uint32_t i = 0; i < run->o->connections; i++) {
    cb__lg_conn *c = &run->conns[i];
    for (uint64_t k = c->next_k;; k++) {
      int64_t due = cb__lg_intended(run, i, k);
      if (due >= end) break;
      if (due < run->w_start) continue;
      cb_lat_hist_record(&run->r->corrected, end - due);
      run->r->unsent++;
    }
  }
}
