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
 * have milliseconds); when it fires, every request due by now is offered to its
 * connection. Up to LG_ONE_SHOT_RATE requests/s it is armed at each next intended
 * time (exact); above, it fires every LG_TICK_GAP_NS from the start, armed once, so
 * a request goes out at most 50 µs after its intended time, which the corrected
 * latency shows. On this VM a timerfd_settime costs about 20 µs (an interrupt
 * enable that traps to the hypervisor) and a wake-up about as much: re-arming at
 * each tick took 42% of the generator's core at 80,000 requests/s, and the 50 µs
 * ticker alone costs a third of a core, too much to pay at a few hundred
 * requests/s. */
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "tools/loadgen/loadgen_int.h"

#define LG_TICK_GAP_NS 50000
#define LG_ONE_SHOT_RATE 10000

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

static int one_shot(const cb__lg_run *run) { return run->o->rate <= LG_ONE_SHOT_RATE; }

static void arm(cb__lg_run *run, int64_t at, int64_t every) {
  struct itimerspec its = {.it_value = {.tv_sec = at / 1000000000, .tv_nsec = at % 1000000000},
                           .it_interval = {.tv_nsec = every}};
  if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1; /* 0 would disarm */
  timerfd_settime(run->tick_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Offers every request due by now to its connection (then, one-shot, arms the
 * ticker for the next); after the window the ticker stops. */
static void dispatch(cb__lg_run *run) {
  int64_t now = cb_now_ns();
  uint32_t n = run->o->connections;
  while (run->phase == PH_RUN && !run->capped) {
    int64_t due = intended_global(run, run->cursor);
    if (due >= run->w_end) {
      cb__lg_sched_stop(run);
      return;
    }
    if (due > now) {
      if (one_shot(run)) arm(run, due, 0);
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
  if (!one_shot(run)) arm(run, cb_now_ns() + LG_TICK_GAP_NS, LG_TICK_GAP_NS);
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
