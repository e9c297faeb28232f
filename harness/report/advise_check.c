/* advise_check.c — see advise_check.h. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "harness/bench/bench.h"
#include "harness/report/advise_check.h"

/* The grid's corners and middle: cpu_us × io_ms. */
static const double default_shapes[][2] = {{100, 10}, {1000, 10}, {1000, 1}, {10000, 10}, {1000, 100}, {0, 10}, {10000, 0}};

void cb_check_default_shapes(cb_check_opts *o) {
  o->nshapes = 0;
  for (size_t k = 0; k < sizeof default_shapes / sizeof *default_shapes; k++) {
    o->cpu_us[o->nshapes] = default_shapes[k][0];
    o->io_ms[o->nshapes++] = default_shapes[k][1];
  }
}

int cb_check_parse_shapes(const char *list, cb_check_opts *o) {
  int n = 0;
  const char *p = list;
  while (*p) {
    char *end;
    double c = strtod(p, &end);
    if (end == p || *end != ':' || !(c >= 0 && c <= 1e7)) return -EINVAL;
    p = end + 1;
    double w = strtod(p, &end);
    if (end == p || (*end && *end != ',') || !(w >= 0 && w <= 1e5) || (c == 0 && w == 0)) return -EINVAL;
    if (n == CB_CHECK_MAX_SHAPES) return -EINVAL;
    o->cpu_us[n] = c;
    o->io_ms[n++] = w;
    p = *end ? end + 1 : end;
    if (*end && !*p) return -EINVAL;
  }
  if (n == 0) return -EINVAL;
  o->nshapes = n;
  return 0;
}

long long cb_check_rounds(const cb_check_opts *o, double cpu_us, double io_ms) {
  if (o->rounds > 0) return o->rounds;
  double per_round = (double)o->n * (cpu_us / 1e6 + io_ms / 1e3);
  double budget = o->budget_s > 0 ? o->budget_s : 3;
  long long r = per_round > 0 ? (long long)floor(budget / per_round) : 10;
  return r < 1 ? 1 : r > 10 ? 10 : r;
}

typedef struct row {
  char model[32];
  int predicted;        /* usable prediction */
  double pred_s, add_s; /* overlap model, additive model */
  cb_advise_terms terms;
  char pnote[256];
  char pfrom[96];       /* what P rests on */
  double kernel_us;     /* the kernel cell's cpu_us P rests on, 0: the cpu workloads */
  int measured;         /* verified, a figure */
  double meas_s;
  char status[32];      /* ok, or the class / what went wrong */
  char why[256];
} row;

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static double median(double *v, size_t n) {
  if (n == 0) return NAN;
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The first line of a file (what went wrong, from stderr), printable. */
static void first_line(const char *path, char *out, size_t cap) {
  out[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f) return;
  if (fgets(out, (int)cap, f)) {
    out[strcspn(out, "\n")] = '\0';
    for (char *c = out; *c; c++)
      if ((unsigned char)*c < 0x20) *c = '?';
  }
  fclose(f);
}

/* One measured run of the mixed cell: 1 with *wall_s, 0 with status and why. */
static int measure_once(const cb_check_opts *o, const char *model, double cpu_us, double io_ms, long long rounds,
                        const char *dir, double *wall_s, char *status, size_t scap, char *why, size_t wcap) {
  char n[32], p_rounds[48], p_cpu[48], p_io[48], p_kind[64], out_path[600], err_path[600];
  snprintf(n, sizeof n, "%lld", o->n);
  snprintf(p_rounds, sizeof p_rounds, "rounds=%lld", rounds);
  snprintf(p_cpu, sizeof p_cpu, "cpu_us=%.0f", cpu_us);
  snprintf(p_io, sizeof p_io, "io_ms=%.0f", io_ms);
  snprintf(out_path, sizeof out_path, "%s/out.json", dir);
  snprintf(err_path, sizeof err_path, "%s/err.txt", dir);
  char *argv[20] = {(char *)o->concbench, "run", "--model", (char *)model, "--workload", (char *)o->workload,
                    "--tasks", n, "--param", p_rounds, "--param", p_cpu, "--param", p_io};
  int argc = 14;
  if (o->io) {
    snprintf(p_kind, sizeof p_kind, "io=%s", o->io);
    argv[argc++] = "--param";
    argv[argc++] = p_kind;
  }
  argv[argc] = NULL;
  static volatile sig_atomic_t never = 0;
  cb_proc_result pr;
  int rc = cb_proc_run(argv, out_path, err_path, 0, o->limit_s, &never, &pr);
  if (rc != 0) {
    snprintf(status, scap, "bad_exit");
    snprintf(why, wcap, "cannot start %s: %s", o->concbench, strerror(-rc));
    return 0;
  }
  if (pr.timed_out) {
    snprintf(status, scap, "timeout");
    snprintf(why, wcap, "over the limit of %.0f s (--limit)", o->limit_s);
    return 0;
  }
  json_t *rec = json_load_file(out_path, 0, NULL);
  json_t *wall = rec ? json_object_get(rec, "wall_s") : NULL;
  if (pr.exited && pr.code == 0 && rec && json_is_true(json_object_get(rec, "verified")) && json_is_number(wall)) {
    *wall_s = json_number_value(wall);
    json_decref(rec);
    return 1;
  }
  const char *cls = rec ? json_string_value(json_object_get(rec, "error_class")) : NULL;
  const char *err = rec ? json_string_value(json_object_get(rec, "error")) : NULL;
  if (cls && strcmp(cls, "ok") != 0) snprintf(status, scap, "%s", cls);
  else if (pr.exited) snprintf(status, scap, "exit %d", pr.code);
  else snprintf(status, scap, "signal %d", pr.code);
  if (err) snprintf(why, wcap, "%s", err);
  else first_line(err_path, why, wcap);
  json_decref(rec);
  return 0;
}

/* Measures a row: the median of the verified runs; a run that fails makes the cell
 * a failure (no figure), as the bench files it. */
static void measure(const cb_check_opts *o, row *w, double cpu_us, double io_ms, long long rounds, const char *dir) {
  double v[16];
  size_t nv = 0;
  int runs = o->runs > 0 ? (o->runs < 16 ? o->runs : 16) : 1;
  for (int k = 0; k < runs; k++) {
    double t;
    if (!measure_once(o, w->model, cpu_us, io_ms, rounds, dir, &t, w->status, sizeof w->status, w->why, sizeof w->why))
      return;
    v[nv++] = t;
  }
  w->measured = 1;
  w->meas_s = median(v, nv);
  snprintf(w->status, sizeof w->status, "ok");
}

/* The run's own cell of the check's workload for a model at a shape (N = o->n, the
 * most cores it has), or NULL; model NULL: any model's (for the rounds). */
static const cb_cell_summary *run_cell(const cb_run_results *r, const cb_check_opts *o, const char *model,
                                       double cpu_us, double io_ms) {
  const cb_cell_summary *best = NULL;
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (strcmp(c->workload, o->workload) != 0 || c->tasks != o->n || (model && strcmp(c->model, model) != 0)) continue;
    json_t *cu = json_object_get(c->params, "cpu_us"), *io = json_object_get(c->params, "io_ms");
    if (!json_is_number(cu) || !json_is_number(io) || json_number_value(cu) != cpu_us || json_number_value(io) != io_ms)
      continue;
    json_t *kind = json_object_get(c->params, "io");
    if (o->io && (!json_is_string(kind) || strcmp(json_string_value(kind), o->io) != 0)) continue; /* --io: that wait */
    if (!best || c->cores > best->cores) best = c;
  }
  return best;
}

/* --against-run: the row's figure is the run's own cell, not a run now. */
static void from_run(const cb_run_results *r, const cb_check_opts *o, row *w, double cpu_us, double io_ms) {
  const cb_cell_summary *c = run_cell(r, o, w->model, cpu_us, io_ms);
  if (!c) {
    snprintf(w->status, sizeof w->status, "not in run");
    snprintf(w->why, sizeof w->why, "the run has no %s cell of this model at this shape and N", o->workload);
    return;
  }
  if (!c->verified) {
    snprintf(w->status, sizeof w->status, "%.31s", c->status);
    snprintf(w->why, sizeof w->why, "%.255s", c->error[0] ? c->error : "the run's cell did not verify");
    return;
  }
  w->measured = 1;
  w->meas_s = c->job_wall.median;
  snprintf(w->status, sizeof w->status, "ok");
}

/* The 1-minute load average, or -1. */
static double loadavg(void) {
  double l = -1;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf", &l) != 1) l = -1;
    fclose(f);
  }
  return l;
}

static int has_job_cells(const cb_run_results *r, const char *model) {
  for (size_t k = 0; k < r->ncells; k++)
    if (strcmp(r->cells[k].model, model) == 0 && (!strcmp(r->cells[k].kind, "cpu") || !strcmp(r->cells[k].kind, "io")))
      return 1;
  return 0;
}

static int wanted(const cb_check_opts *o, const char *model) {
  if (o->nmodels == 0) return 1;
  for (int k = 0; k < o->nmodels; k++)
    if (strcmp(o->models[k], model) == 0) return 1;
  return 0;
}

/* The predicted best (by the overlap model, or the additive one) among rows. */
static int predicted_best(const row *rows, int nrows, int additive) {
  int best = -1;
  for (int k = 0; k < nrows; k++) {
    if (!rows[k].predicted) continue;
    double x = additive ? rows[k].add_s : rows[k].pred_s;
    if (best < 0 || x < (additive ? rows[best].add_s : rows[best].pred_s)) best = k;
  }
  return best;
}

static int measured_best(const row *rows, int nrows) {
  int best = -1;
  for (int k = 0; k < nrows; k++)
    if (rows[k].measured && (best < 0 || rows[k].meas_s < rows[best].meas_s)) best = k;
  return best;
}

/* 1 when the predicted best is the measured best or within 10% of it. */
static int best_holds(const row *rows, int pb, int mb) {
  return pb >= 0 && mb >= 0 && rows[pb].measured && rows[pb].meas_s <= 1.10 * rows[mb].meas_s;
}

static double err_of(double pred, double meas) { return (pred - meas) / meas; }

static void print_err(FILE *out, const row *w, double pred) {
  if (w->predicted && w->measured) fprintf(out, " %+8.1f%%", 100 * err_of(pred, w->meas_s));
  else fprintf(out, " %9s", "—");
}

int cb_advise_check(const cb_check_opts *o, FILE *out) {
  cb_run_results r;
  if (cb_results_load(o->run, o->load_flags, &r) != 0) return CB_EXIT_USAGE;
  char dir[] = "/tmp/concbench-advise-check-XXXXXX";
  if (!mkdtemp(dir)) {
    fprintf(stderr, "concbench advise: cannot make a temporary folder: %s\n", strerror(errno));
    cb_results_free(&r);
    return CB_EXIT_RESOURCE;
  }
  json_t *doc = json_object(), *jshapes = json_array();
  json_object_set_new(doc, "run", json_string(o->run));
  json_object_set_new(doc, "workload", json_string(o->workload));
  json_object_set_new(doc, "tasks", json_integer(o->n));
  json_object_set_new(doc, "io", o->io ? json_string(o->io) : json_null());
  json_object_set_new(doc, "shapes", jshapes);
  double errs[CB_CHECK_MAX_SHAPES * CB_CHECK_MAX_MODELS], adds[CB_CHECK_MAX_SHAPES * CB_CHECK_MAX_MODELS];
  size_t nerr = 0, nadd = 0;
  int holds = 0, holds_add = 0, failures = 0;
  double load0 = loadavg();
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  json_object_set_new(doc, "load_start", json_real(load0));
  json_object_set_new(doc, "cpus", json_integer(cpus));
  if (!o->json)
    fprintf(out, "advise --check: %lld jobs of %s per cell, predicted from %s, measured %s (job phase, s)\n"
                 "error = (predicted - measured) / measured; overlap: the model advise ranks by; additive: the earlier one\n",
            o->n, o->workload, o->run, o->against_run ? "by the run's own cells at each shape (--against-run)" : "now");
  json_object_set_new(doc, "against_run", json_boolean(o->against_run));
  if (!o->json && !o->against_run && load0 > 0.5 * (double)cpus)
    fprintf(out, "warning: load average %.2f on %ld CPUs at start: other work is running, the measured times "
                 "are not this model's alone (and the run's cells may have been taken under another load)\n",
            load0, cpus);
  for (int s = 0; s < o->nshapes; s++) {
    long long rounds = cb_check_rounds(o, o->cpu_us[s], o->io_ms[s]);
    if (o->against_run) { /* the run's cells' rounds, so that the prediction is of them */
      const cb_cell_summary *any = run_cell(&r, o, NULL, o->cpu_us[s], o->io_ms[s]);
      json_t *jr = any ? json_object_get(any->params, "rounds") : NULL;
      if (json_is_integer(jr) && json_integer_value(jr) > 0) rounds = json_integer_value(jr);
    }
    cb_job_shape shape = {
        .cpu_ms = o->cpu_us[s] / 1000.0, .io_ms = o->io_ms[s], .rounds = rounds, .n = o->n, .kernel = o->workload};
    cb_advice adv[CB_CHECK_MAX_MODELS * 2];
    size_t na = cb_advise_shape(&r, &shape, adv, sizeof adv / sizeof *adv);
    row rows[CB_CHECK_MAX_MODELS];
    int nrows = 0;
    for (size_t k = 0; k < na && nrows < CB_CHECK_MAX_MODELS; k++) {
      if (!has_job_cells(&r, adv[k].model) || !wanted(o, adv[k].model)) continue;
      row *w = &rows[nrows++];
      memset(w, 0, sizeof *w);
      snprintf(w->model, sizeof w->model, "%.31s", adv[k].model);
      w->predicted = adv[k].usable;
      w->pred_s = adv[k].predicted_s;
      w->add_s = adv[k].additive_s;
      w->terms = adv[k].terms;
      snprintf(w->pnote, sizeof w->pnote, "%.255s", adv[k].note);
      snprintf(w->pfrom, sizeof w->pfrom, "%.95s", adv[k].capacity_from);
      w->kernel_us = adv[k].kernel_cpu_us;
    }
    /* measured back to back, the order rotating from one shape to the next (as the
     * bench does), so that no model always runs first or last */
    for (int j = 0; j < nrows; j++) {
      row *w = &rows[(j + s) % nrows];
      if (o->against_run) from_run(&r, o, w, o->cpu_us[s], o->io_ms[s]);
      else measure(o, w, o->cpu_us[s], o->io_ms[s], rounds, dir);
      if (!w->measured) failures++;
      if (w->predicted && w->measured) {
        errs[nerr++] = fabs(err_of(w->pred_s, w->meas_s));
        adds[nadd++] = fabs(err_of(w->add_s, w->meas_s));
      }
    }
    int pb = predicted_best(rows, nrows, 0), pba = predicted_best(rows, nrows, 1), mb = measured_best(rows, nrows);
    int ok = best_holds(rows, pb, mb), ok_add = best_holds(rows, pba, mb);
    holds += ok;
    holds_add += ok_add;
    /* what the predictions rest on: P from the kernel's pure-CPU cell, or from the
     * cpu workloads; a shape with no wait at that cell's cpu_us predicts itself */
    char from[256] = "";
    int self = 0;
    for (int k = 0; k < nrows; k++) {
      if (!rows[k].predicted || !rows[k].pfrom[0] || strstr(from, rows[k].pfrom)) continue;
      size_t used = strlen(from);
      snprintf(from + used, sizeof from - used, "%s%s", used ? " / " : "from ", rows[k].pfrom);
      self |= rows[k].kernel_us > 0 && o->io_ms[s] == 0 && o->cpu_us[s] == rows[k].kernel_us;
    }
    if (!from[0]) snprintf(from, sizeof from, "not needed (no CPU)");
    json_t *js = json_object(), *jm = json_array();
    json_object_set_new(js, "capacity_from", json_string(from));
    json_object_set_new(js, "predicts_its_own_cell", json_boolean(self));
    json_object_set_new(js, "cpu_us", json_real(o->cpu_us[s]));
    json_object_set_new(js, "io_ms", json_real(o->io_ms[s]));
    json_object_set_new(js, "rounds", json_integer(rounds));
    json_object_set_new(js, "models", jm);
    json_object_set_new(js, "predicted_best", pb >= 0 ? json_string(rows[pb].model) : json_null());
    json_object_set_new(js, "predicted_best_additive", pba >= 0 ? json_string(rows[pba].model) : json_null());
    json_object_set_new(js, "measured_best", mb >= 0 ? json_string(rows[mb].model) : json_null());
    json_object_set_new(js, "best_holds", json_boolean(ok));
    json_object_set_new(js, "best_holds_additive", json_boolean(ok_add));
    json_array_append_new(jshapes, js);
    if (!o->json) {
      fprintf(out, "\nshape: %.0f us of CPU then %g ms of waiting, %lld rounds, N=%lld\n", o->cpu_us[s], o->io_ms[s],
              rounds, o->n);
      fprintf(out, "%-10s %13s %13s %9s %13s %9s  %s\n", "model", "predicted (s)", "measured (s)", "error",
              "additive (s)", "error", "terms: P capacity, W concurrency, O overhead/round");
    }
    for (int k = 0; k < nrows; k++) {
      row *w = &rows[k];
      json_t *j = json_object();
      json_object_set_new(j, "model", json_string(w->model));
      json_object_set_new(j, "predicted_s", w->predicted ? json_real(w->pred_s) : json_null());
      json_object_set_new(j, "additive_s", w->predicted ? json_real(w->add_s) : json_null());
      json_object_set_new(j, "measured_s", w->measured ? json_real(w->meas_s) : json_null());
      json_object_set_new(j, "error", w->predicted && w->measured ? json_real(err_of(w->pred_s, w->meas_s)) : json_null());
      json_object_set_new(j, "error_additive", w->predicted && w->measured ? json_real(err_of(w->add_s, w->meas_s)) : json_null());
      json_object_set_new(j, "status", json_string(w->status));
      json_object_set_new(j, "why", w->measured ? json_null() : json_string(w->why));
      json_object_set_new(j, "note", w->pnote[0] ? json_string(w->pnote) : json_null());
      json_object_set_new(j, "capacity", json_real(w->terms.capacity));
      json_object_set_new(j, "capacity_from", w->pfrom[0] ? json_string(w->pfrom) : json_null());
      json_object_set_new(j, "concurrency", json_real(w->terms.concurrency));
      json_object_set_new(j, "overhead_s", json_real(w->terms.overhead_s));
      json_array_append_new(jm, j);
      if (o->json) continue;
      fprintf(out, "%-10s", w->model);
      if (w->predicted) fprintf(out, " %13.4f", w->pred_s);
      else fprintf(out, " %13s", "not usable");
      if (w->measured) fprintf(out, " %13.4f", w->meas_s);
      else fprintf(out, " %13s", "FAILED");
      print_err(out, w, w->pred_s);
      if (w->predicted) fprintf(out, " %13.4f", w->add_s);
      else fprintf(out, " %13s", "—");
      print_err(out, w, w->add_s);
      if (w->predicted)
        fprintf(out, "  P %.2f, W %.0f, O %.4f s", w->terms.capacity, w->terms.concurrency, w->terms.overhead_s);
      if (!w->measured) fprintf(out, "  measured: %s: %s", w->status, w->why);
      if (!w->predicted) fprintf(out, "  predicted: %s", w->pnote);
      fputc('\n', out);
    }
    if (!o->json) {
      fprintf(out, "built from: P %s", from);
      if (self) fprintf(out, " (this shape is that cell's own: its P is not an independent prediction)");
      fprintf(out, "; W and O: the io workloads at N=%lld\n", o->n);
      fprintf(out, "predicted best: %s", pb >= 0 ? rows[pb].model : "none");
      fprintf(out, "; measured best: %s", mb >= 0 ? rows[mb].model : "none (no run verified)");
      if (pb >= 0 && mb >= 0 && rows[pb].measured && pb != mb)
        fprintf(out, " (%s measured %.2f× of it)", rows[pb].model, rows[pb].meas_s / rows[mb].meas_s);
      fprintf(out, ": %s", ok ? "holds" : "MISSED");
      fprintf(out, "   [additive: %s, %s]\n", pba >= 0 ? rows[pba].model : "none", ok_add ? "holds" : "missed");
    }
  }
  double med = median(errs, nerr), med_add = median(adds, nadd), load1 = loadavg();
  json_object_set_new(doc, "load_end", json_real(load1));
  json_object_set_new(doc, "shapes_checked", json_integer(o->nshapes));
  json_object_set_new(doc, "best_holds_shapes", json_integer(holds));
  json_object_set_new(doc, "best_holds_shapes_additive", json_integer(holds_add));
  json_object_set_new(doc, "median_abs_error", nerr ? json_real(med) : json_null());
  json_object_set_new(doc, "median_abs_error_additive", nadd ? json_real(med_add) : json_null());
  json_object_set_new(doc, "failed_runs", json_integer(failures));
  int met = holds == o->nshapes && nerr > 0 && med <= 0.25;
  json_object_set_new(doc, "target_best", json_boolean(holds == o->nshapes));
  json_object_set_new(doc, "target_error", json_boolean(nerr > 0 && med <= 0.25));
  json_object_set_new(doc, "targets_met", json_boolean(met));
  if (o->json) {
    json_dumpf(doc, out, JSON_INDENT(1) | JSON_REAL_PRECISION(6));
    fputc('\n', out);
  } else {
    fprintf(out, "\nsummary: predicted best is the measured best or within 10%% of it in %d of %d shapes: %s "
                 "[additive: %d of %d]\n",
            holds, o->nshapes, holds == o->nshapes ? "target met" : "target MISSED", holds_add, o->nshapes);
    if (nerr)
      fprintf(out, "summary: median absolute prediction error %.1f%% over %zu cells (target <= 25%%): %s "
                   "[additive: %.1f%%]\n",
              100 * med, nerr, med <= 0.25 ? "target met" : "target MISSED", 100 * med_add);
    else fprintf(out, "summary: median absolute prediction error: no cell both predicted and measured\n");
    if (failures) fprintf(out, "summary: %d measured cell%s failed (no figure)\n", failures, failures == 1 ? "" : "s");
    fprintf(out, "summary: %s (exit %d)\n", met ? "both targets met" : "a target missed", met ? CB_EXIT_OK : CB_EXIT_FAILED);
  }
  json_decref(doc);
  char path[600];
  snprintf(path, sizeof path, "%s/out.json", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/err.txt", dir);
  unlink(path);
  rmdir(dir);
  cb_results_free(&r);
  return met ? CB_EXIT_OK : CB_EXIT_FAILED;
}
