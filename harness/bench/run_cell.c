/* run_cell.c — one bench cell: a probe run, then hyperfine's timed runs, and the
 * cells.jsonl record with the cell's class (CB_CLASSES in harness/run/record.h).
 *
 * The probe is the warm-up and the classifier: a cell whose probe does not verify
 * is never timed. A cell is classed by how its process ended — the time limit, a
 * signal, or its exit code with the error_class of its JSON — never by what it
 * wrote on stderr (that only explains the class). Only ok carries times. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/bench/bench.h"
#include "common/check.h"
#include "harness/run/cell.h"

static void path_of(char *buf, size_t cap, const char *dir, const char *sub, const char *id, const char *ext) {
  snprintf(buf, cap, "%s/%s/%s%s", dir, sub, id, ext);
}

/* First line of a file (for error messages), "" when none. */
static void first_line(const char *path, char *buf, size_t cap) {
  buf[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f) return;
  if (fgets(buf, (int)cap, f)) buf[strcspn(buf, "\n")] = '\0';
  fclose(f);
}

/* The last JSON object line of a file, or NULL. */
static json_t *last_json_line(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  json_t *last = NULL;
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    json_t *o = json_loads(line, 0, NULL);
    if (json_is_object(o)) {
      json_decref(last);
      last = o;
    } else {
      json_decref(o);
    }
  }
  free(line);
  fclose(f);
  return last;
}

static json_t *base_record(const cb_bench_ctx *ctx, const cb_plan_cell *c) {
  json_t *r = json_object();
  json_object_set_new(r, "key", json_string(c->key));
  json_object_set_new(r, "id", json_string(c->id));
  json_object_set_new(r, "model", json_string(c->model->name));
  json_object_set_new(r, "workload", json_string(c->workload->name));
  json_object_set_new(r, "kind", json_string(cb_kind_name(c->workload->kind)));
  json_object_set_new(r, "params", cb_plan_params_json(c));
  json_object_set_new(r, "tasks", json_integer(c->tasks));
  json_object_set_new(r, "concurrency", json_integer(c->concurrency));
  json_object_set_new(r, "cores", json_integer(c->cores));
  json_object_set_new(r, "binary", json_string(ctx->binary));
  json_object_set_new(r, "host", json_string(ctx->host));
  json_object_set_new(r, "limit_s", json_real(ctx->opts->limit_s));
  char date[32];
  time_t now = time(NULL);
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  json_object_set_new(r, "finished", json_string(date));
  return r;
}

static void set_status(json_t *r, cb_class status, const char *error) {
  json_object_set_new(r, "status", json_string(cb_class_name(status)));
  json_object_set_new(r, "error", error && *error ? json_string(error) : json_null());
}

json_t *cb_bench_record_skip(const cb_bench_ctx *ctx, const cb_plan_cell *c, cb_class status, const char *why) {
  json_t *r = base_record(ctx, c);
  set_status(r, status, why);
  return r;
}

/* The argv of `concbench run` for the cell (pointers into c and bufs). */
static int run_argv(const cb_bench_ctx *ctx, const cb_plan_cell *c, char *argv[], char bufs[2][32]) {
  int n = 0;
  argv[n++] = (char *)ctx->concbench;
  argv[n++] = "run";
  argv[n++] = "--model", argv[n++] = (char *)c->model->name;
  argv[n++] = "--workload", argv[n++] = (char *)c->workload->name;
  snprintf(bufs[0], 32, "%lld", c->tasks);
  argv[n++] = "--tasks", argv[n++] = bufs[0];
  if (c->concurrency > 0) {
    snprintf(bufs[1], 32, "%lld", c->concurrency);
    argv[n++] = "--concurrency", argv[n++] = bufs[1];
  }
  for (int k = 0; k < c->noverrides; k++) argv[n++] = "--param", argv[n++] = (char *)c->overrides[k];
  if (c->workload->needs_server) argv[n++] = "--server", argv[n++] = (char *)ctx->server_url;
  argv[n] = NULL;
  return n;
}

/* Classifies a `concbench run` that did not verify, from how it ended and its JSON
 * (may be NULL); the first line of its stderr goes into the message. */
static void classify(json_t *r, const cb_proc_result *p, json_t *out, const char *err_path, double limit_s) {
  char msg[512], raw[400];
  first_line(err_path, raw, sizeof raw);
  const char *line = strncmp(raw, "concbench run: ", 15) == 0 ? raw + 15 : raw;
  const char *jerr = json_string_value(json_object_get(out, "error"));
  cb_class cls = p->timed_out ? CB_CLASS_TIMEOUT
                 : !p->exited  ? CB_CLASS_CRASH
                               : cb_class_of_run(p->code, json_string_value(json_object_get(out, "error_class")));
  switch (cls) {
  case CB_CLASS_TIMEOUT:
    snprintf(msg, sizeof msg, "killed with its process tree at the %.1f s limit", limit_s);
    break;
  case CB_CLASS_CRASH:
    snprintf(msg, sizeof msg, "killed by signal %d (%s)", p->code, strsignal(p->code));
    break;
  case CB_CLASS_JOB_FAILED:
  case CB_CLASS_WRONG_RESULT:
  case CB_CLASS_RESOURCE_LIMIT:
    snprintf(msg, sizeof msg, "%s", jerr ? jerr : line);
    break;
  case CB_CLASS_UNSUPPORTED:
  case CB_CLASS_INTERRUPTED:
    snprintf(msg, sizeof msg, "%s", line);
    break;
  default: /* usage, or an exit code no class has: the bench made a bad command */
    cls = CB_CLASS_BAD_EXIT;
    snprintf(msg, sizeof msg, "exit %d: %s", p->code, line[0] ? line : "(no message)");
  }
  set_status(r, cls, msg);
}

/* Joins argv into one command line for hyperfine -N, which splits it as a POSIX
 * shell would but runs no shell: an argument with anything but [A-Za-z0-9_./=:,+-]
 * goes in single quotes, each ' in it as '\''. 0, or -ENAMETOOLONG. */
static int join_argv(char *const argv[], char *buf, size_t cap) {
  size_t used = 0;
  for (int k = 0; argv[k]; k++) {
    const char *a = argv[k];
    int plain = *a && a[strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./=:,+-")] == '\0';
    if (k && used < cap) buf[used++] = ' ';
    if (!plain && used < cap) buf[used++] = '\'';
    for (; *a && used < cap; a++) {
      if (*a == '\'' && !plain) {
        used += (size_t)snprintf(buf + used, cap - used, "'\\''");
        continue;
      }
      buf[used++] = *a;
    }
    if (!plain && used < cap) buf[used++] = '\'';
  }
  if (used >= cap) return -ENAMETOOLONG;
  buf[used] = '\0';
  return 0;
}

/* The timed runs. 0 = done (status set in r), 1 = interrupted. */
static int timed_runs(const cb_bench_ctx *ctx, const cb_plan_cell *c, char *argv[], int argc, json_t *r) {
  char cells[1024], export[1024], log[1024], cmd[8192], runs[16];
  path_of(cells, sizeof cells, ctx->dir, "cells", c->id, ".jsonl");
  path_of(export, sizeof export, ctx->dir, "hyperfine", c->id, ".json");
  path_of(log, sizeof log, ctx->dir, "logs", c->id, ".hyperfine.log");
  remove(cells);
  remove(export);
  argv[argc] = "--out", argv[argc + 1] = cells, argv[argc + 2] = NULL;
  int joined = join_argv(argv, cmd, sizeof cmd);
  argv[argc] = NULL;
  if (joined != 0) {
    set_status(r, CB_CLASS_BAD_EXIT, "the cell's command line is too long for hyperfine");
    return 0;
  }
  int nruns = c->workload->kind == CB_KIND_SERVER ? ctx->opts->server_runs
              : c->grid_kv[0][0]                   ? ctx->opts->grid_runs
                                                   : ctx->opts->runs;
  snprintf(runs, sizeof runs, "%d", nruns);
  char *hf[] = {"hyperfine", "-N", "--style", "basic", "--warmup", "0", "--runs", runs, "--export-json", export,
                "--command-name", (char *)c->id, cmd, NULL};
  cb_proc_result p;
  double limit = ctx->opts->limit_s * nruns + 10; /* all timed runs together */
  setenv(CB_ENV_UNDER_BENCH, "1", 1); /* each run dies with hyperfine, which dies with us */
  if (cb_proc_run(hf, log, log, c->cores, limit, ctx->stop, &p) != 0) {
    set_status(r, CB_CLASS_BAD_EXIT, "cannot run hyperfine");
    return 0;
  }
  if (p.interrupted) return 1;
  /* Every timed run's cell JSON, whatever happened. */
  json_t *lines = json_array();
  FILE *f = fopen(cells, "r");
  char *line = NULL;
  size_t cap = 0;
  int verified = 0;
  size_t lineno = 0, damaged = 0; /* the first line that is not a run's record */
  while (f && getline(&line, &cap, f) > 0) {
    lineno++;
    json_t *o = json_loads(line, 0, NULL);
    if (!json_is_object(o)) {
      json_decref(o);
      if (!damaged) damaged = lineno;
      continue;
    }
    verified += json_is_true(json_object_get(o, "verified"));
    json_array_append_new(lines, o);
  }
  free(line);
  if (f) fclose(f);
  json_object_set_new(r, "runs", lines);
  json_t *hx = json_load_file(export, 0, NULL);
  json_t *res = json_array_get(json_object_get(hx, "results"), 0);
  json_t *times = json_object_get(res, "times");
  if (p.timed_out || !p.exited || p.code != 0) {
    json_t *last = json_array_get(lines, json_array_size(lines) - 1);
    const char *cls = json_string_value(json_object_get(last, "error_class"));
    if (p.timed_out || !cls || strcmp(cls, cb_class_name(CB_CLASS_OK)) == 0) {
      classify(r, &p, NULL, log, limit);
      if (!p.timed_out) {
        char msg[600];
        snprintf(msg, sizeof msg, "a timed run failed after the probe passed (hyperfine exit %d); see logs/%s.hyperfine.log",
                 p.code, c->id);
        set_status(r, CB_CLASS_BAD_EXIT, msg);
      }
    } else { /* the failed run's own class, as if the probe had ended so */
      int k = cb_class_find(cls);
      cb_proc_result as_run = {.exited = 1, .code = k >= 0 && cb_classes[k].exit >= 0 ? cb_classes[k].exit : CB_EXIT_FAILED};
      classify(r, &as_run, last, log, limit);
    }
  } else if (damaged || !json_is_array(times) || (int)json_array_size(times) != nruns || verified != nruns) {
    char msg[400], where[256] = "";
    if (damaged) /* a run's record cut short or damaged: named, never dropped silently */
      snprintf(where, sizeof where, "cells/%s.jsonl:%zu: not a run's record (cut short or damaged); ", c->id, damaged);
    snprintf(msg, sizeof msg, "%shyperfine finished but %d of %d runs verified, %zu times exported", where, verified,
             nruns, json_array_size(times));
    set_status(r, CB_CLASS_BAD_EXIT, msg);
  } else {
    set_status(r, CB_CLASS_OK, NULL);
    json_object_set(r, "times", times);
    json_object_set(r, "hyperfine_user_s", json_object_get(res, "user"));
    json_object_set(r, "hyperfine_system_s", json_object_get(res, "system"));
  }
  json_decref(hx);
  return 0;
}

json_t *cb_bench_run_cell(const cb_bench_ctx *ctx, const cb_plan_cell *c) {
  char *argv[96], bufs[2][32], out[1024], err[1024];
  int argc = run_argv(ctx, c, argv, bufs);
  CB_CHECK(argc + 3 < (int)(sizeof argv / sizeof *argv));
  path_of(out, sizeof out, ctx->dir, "logs", c->id, ".probe.out");
  path_of(err, sizeof err, ctx->dir, "logs", c->id, ".probe.err");
  json_t *r = base_record(ctx, c);
  cb_proc_result p;
  if (cb_proc_run(argv, out, err, c->cores, ctx->opts->limit_s, ctx->stop, &p) != 0) {
    set_status(r, CB_CLASS_BAD_EXIT, "cannot start concbench run");
    return r;
  }
  if (p.interrupted) {
    json_decref(r);
    return NULL;
  }
  json_t *probe = last_json_line(out);
  json_object_set_new(r, "probe", probe ? probe : json_null());
  json_object_set_new(r, "probe_s", json_real(p.elapsed_s));
  int ok = !p.timed_out && p.exited && p.code == 0 && json_is_true(json_object_get(probe, "verified"));
  if (!ok) {
    if (!p.timed_out && p.exited && p.code == 0) set_status(r, CB_CLASS_BAD_EXIT, "exit 0 without a verified JSON line");
    else classify(r, &p, probe, err, ctx->opts->limit_s);
    return r;
  }
  if (timed_runs(ctx, c, argv, argc, r) != 0) {
    json_decref(r);
    return NULL;
  }
  return r;
}
