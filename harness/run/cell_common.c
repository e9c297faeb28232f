/* cell_common.c — what both kinds of cell share: the process guard, the record's
 * common figures and printing it. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/check.h"
#include "common/child.h"
#include "harness/run/cell_int.h"

double cb__tv_s(struct timeval t) { return (double)t.tv_sec + t.tv_usec / 1e6; }

json_t *cb__params_json(const cb_workload *w, const cb_params *p) {
  json_t *o = json_object();
  for (int k = 0; k < w->nparams; k++)
    json_object_set_new(o, w->params[k].name, w->params[k].choices
                                                   ? json_string(w->params[k].choices[p->v[k]])
                                                   : json_integer(p->v[k]));
  return o;
}

json_t *cb__hex64(uint64_t x) {
  char b[24];
  snprintf(b, sizeof b, "%016" PRIx64, x);
  return json_string(b);
}

void cb__cell_emit(const cb_cell *cell, json_t *o) {
  char *line = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
  CB_CHECK(line != NULL);
  printf("%s\n", line);
  fflush(stdout);
  if (cell->out && (fprintf(cell->out, "%s\n", line) < 0 || fclose(cell->out) != 0))
    fprintf(stderr, "concbench run: --out: cannot append to %s: %s\n", cell->out_path, strerror(errno));
  free(line);
}

/* The process the cell runs in: forked workers inherit the handler below, and only
 * this one speaks. */
static pid_t run_pid;

/* SIGINT, SIGTERM or SIGHUP: a model's run cannot be interrupted cooperatively, so
 * end here (async-signal-safe calls only). Every child process (delayd, forked
 * workers) asked for SIGKILL at its parent's death (common/child.h), so the kernel
 * ends them as this process exits, as it would after a SIGKILL. */
static void on_stop_signal(int sig) {
  if (getpid() == run_pid) {
    const char *name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
    const char *part[] = {"concbench run: stopped by ", name, " before the run ended: no record\n"};
    for (int k = 0; k < 3; k++)
      if (write(STDERR_FILENO, part[k], strlen(part[k])) < 0) break;
  }
  _exit(CB_EXIT_INTERRUPTED);
}

/* Catches the signals that ask a run to stop (one ignored by whoever started us, as
 * nohup does, stays ignored). Under a bench (CB_ENV_UNDER_BENCH) a run that does not
 * lead its process group was started by hyperfine, which leads the group the bench
 * made for the cell: it asks to die with hyperfine (hyperfine dies with the bench),
 * and ends now if hyperfine is already gone. */
void cb__cell_guard(void) {
  run_pid = getpid();
  struct sigaction sa = {.sa_handler = on_stop_signal}, old;
  sigfillset(&sa.sa_mask);
  const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
  for (int k = 0; k < 3; k++)
    if (sigaction(sigs[k], NULL, &old) == 0 && old.sa_handler != SIG_IGN) sigaction(sigs[k], &sa, NULL);
  if (getenv(CB_ENV_UNDER_BENCH) && getpgrp() != run_pid && cb_die_with_parent(getpgrp()) != 0) {
    fprintf(stderr, "concbench run: hyperfine, which started this run, is gone\n");
    _exit(CB_EXIT_INTERRUPTED);
  }
}
