/* cmd_bench.c — `concbench bench`: runs the plan cell by cell into
 * results/<run-id>/, with a live progress line, resumable, then writes the report.
 *
 * Ctrl-C (or SIGTERM) kills the running cell's process tree, keeps every finished
 * cell (they are in cells.jsonl already) and exits 130; the same command started
 * again continues with the first unfinished cell. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/bench/bench.h"
#include "harness/bench/stream.h"
#include "harness/bench/results.h"
#include "common/check.h"
#include "harness/cli/commands.h"
#include "harness/run/server_child.h"
#include "common/util.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) { stop_flag = sig; }

/* FNV-1a 64 of a file's bytes, as 16 hex digits: the binary's identity in keys. */
static void file_hash(const char *path, char out[17]) {
  uint64_t h = 1469598103934665603ULL;
  FILE *f = fopen(path, "rb");
  unsigned char buf[65536];
  size_t n;
  while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
    for (size_t k = 0; k < n; k++) h = (h ^ buf[k]) * 1099511628211ULL;
  if (f) fclose(f);
  snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static int make_dirs(const char *dir) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s", dir);
  for (char *p = path + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      mkdir(path, 0755);
      *p = '/';
    }
  if (mkdir(path, 0755) != 0 && errno != EEXIST) return -errno;
  static const char *const subs[] = {"cells", "hyperfine", "logs"};
  for (size_t k = 0; k < 3; k++) {
    char sub[PATH_MAX + 16];
    snprintf(sub, sizeof sub, "%s/%s", dir, subs[k]);
    if (mkdir(sub, 0755) != 0 && errno != EEXIST) return -errno;
  }
  return 0;
}

/* The options the run was planned with, for meta.json. */
static json_t *options_json(const cb_bench_opts *o) {
  json_t *j = json_object(), *models = json_array(), *workloads = json_array(), *tasks = json_array(),
         *cores = json_array(), *params = json_array();
  for (int k = 0; k < o->nmodels; k++) json_array_append_new(models, json_string(o->models[k]));
  for (int k = 0; k < o->nworkloads; k++) json_array_append_new(workloads, json_string(o->workloads[k]));
  for (int k = 0; k < o->ntasks; k++) json_array_append_new(tasks, json_integer(o->tasks[k]));
  for (int k = 0; k < o->ncores; k++) json_array_append_new(cores, json_integer(o->cores[k]));
  for (int k = 0; k < o->nparams; k++) json_array_append_new(params, json_string(o->params[k]));
  json_object_set_new(j, "profile", json_string(o->profile));
  json_object_set_new(j, "models", o->nmodels ? models : (json_decref(models), json_string("all")));
  json_object_set_new(j, "workloads", o->nworkloads ? workloads : (json_decref(workloads), json_string("all")));
  json_object_set_new(j, "tasks", tasks);
  json_object_set_new(j, "cores", cores);
  json_object_set_new(j, "cpu_tasks", json_integer(o->cpu_tasks));
  json_object_set_new(j, "concurrency", json_integer(o->concurrency));
  json_object_set_new(j, "params", params);
  json_t *stages = json_array();
  for (int k = 0; k < o->nstages; k++) json_array_append_new(stages, json_integer(o->stages[k]));
  json_object_set_new(j, "stages", stages);
  json_object_set_new(j, "stages_tasks", json_integer(cb_bench_stages_n(o)));
  json_object_set_new(j, "runs", json_integer(o->runs));
  json_object_set_new(j, "limit_s", json_real(o->limit_s));
  return j;
}

/* meta.json from scripts/meta.sh plus the bench options and the machine's memory
 * bandwidth (stream.h); prints the noisy-machine warnings it found. */
static int write_meta(const char *dir, const char *bin_dir, const cb_bench_opts *o) {
  char scripts[PATH_MAX], script[PATH_MAX + 16], path[PATH_MAX + 16], pid[24];
  cb_scripts_dir(scripts, sizeof scripts);
  snprintf(script, sizeof script, "%s/meta.sh", scripts);
  snprintf(path, sizeof path, "%s/meta.json", dir);
  snprintf(pid, sizeof pid, "%d", (int)getpid());
  char *const argv[] = {"sh", script, (char *)bin_dir, (char *)o->profile, pid, NULL};
  static volatile sig_atomic_t never;
  cb_proc_result p;
  if (cb_proc_run(argv, path, NULL, 0, 60, &never, &p) != 0 || !p.exited || p.code != 0) {
    fprintf(stderr, "concbench bench: %s/meta.sh failed\n", scripts);
    return -EIO;
  }
  json_t *meta = json_load_file(path, 0, NULL);
  if (!meta) {
    fprintf(stderr, "concbench bench: meta.sh wrote no valid JSON to %s\n", path);
    return -EIO;
  }
  size_t k;
  json_t *w;
  json_array_foreach(json_object_get(meta, "warnings"), k, w)
    fprintf(stderr, "bench: WARNING: %s\n", json_string_value(w));
  json_object_set_new(meta, "bench", options_json(o));
  cb_stream_figures sf; /* the membw workload's ceiling, measured before any cell */
  char why[256];
  if (cb_stream_measure(&sf, why, sizeof why) == 0) {
    json_object_set_new(meta, CB_STREAM_META_KEY, cb_stream_json(&sf));
    fprintf(stderr, "bench: memory bandwidth (STREAM triad): 1 thread %.1f GB/s, %d threads %.1f GB/s\n", sf.threads_1,
            sf.cores, sf.threads_all);
  } else {
    fprintf(stderr, "bench: WARNING: no memory bandwidth figure (STREAM triad): %s\n", why);
  }
  int rc = json_dump_file(meta, path, JSON_INDENT(1)) == 0 ? 0 : -EIO;
  json_decref(meta);
  return rc;
}

/* One bench per run folder at a time: an exclusive flock on the folder itself,
 * held until exit (the descriptor is never closed). */
static int lock_run(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
    fprintf(stderr, "concbench bench: --run-id: %s is in use by another bench (or cannot be locked: %s)\n", dir,
            strerror(errno));
    if (fd >= 0) close(fd);
    return -EBUSY;
  }
  return 0;
}

/* CPU seconds the whole machine spent busy (from /proc/stat) and that this bench
 * spent itself (its own and its reaped children's), so that the end of a run can
 * tell how much CPU other work took. The load average cannot: the bench's own
 * cells (10,000 threads) raise it. */
typedef struct cpu_sample {
  double machine_busy_s, own_s;
  int64_t at_ns;
} cpu_sample;

static void sample_cpu(cpu_sample *c) {
  *c = (cpu_sample){.at_ns = cb_now_ns()};
  unsigned long long v[8] = {0};
  FILE *f = fopen("/proc/stat", "r");
  if (f) {
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &v[6], &v[7]) == 8)
      c->machine_busy_s = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
    fclose(f);
  }
  struct rusage self, kids;
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &kids);
  c->own_s = (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec + kids.ru_stime.tv_sec) +
             (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec + kids.ru_stime.tv_usec) / 1e6;
}

/* Adds the load average at the end and the share of the machine's CPU that other
 * work took during the run to meta.json, with a warning when that share was high. */
static void note_end_load(const char *meta_path, const cpu_sample *start) {
  json_t *meta = json_load_file(meta_path, 0, NULL);
  FILE *f = fopen("/proc/loadavg", "r");
  double l1 = 0, l5 = 0, l15 = 0;
  if (!meta || !f || fscanf(f, "%lf %lf %lf", &l1, &l5, &l15) != 3) {
    if (f) fclose(f);
    json_decref(meta);
    return;
  }
  fclose(f);
  char text[64];
  snprintf(text, sizeof text, "%.2f %.2f %.2f", l1, l5, l15);
  json_object_set_new(meta, "loadavg_end", json_string(text));
  cpu_sample end;
  sample_cpu(&end);
  long long cores = json_integer_value(json_object_get(meta, "cores"));
  double wall = (end.at_ns - start->at_ns) / 1e9;
  double other = (end.machine_busy_s - start->machine_busy_s) - (end.own_s - start->own_s);
  double share = cores > 0 && wall > 0 ? other / (wall * (double)cores) : 0;
  if (share < 0) share = 0;
  json_object_set_new(meta, "other_cpu_share", json_real(share));
  if (share > 0.10) {
    char warn[160];
    snprintf(warn, sizeof warn, "other work took %.0f%% of the machine's CPU during the run: timings are noisy",
             share * 100);
    fprintf(stderr, "bench: WARNING: %s\n", warn);
    json_array_append_new(json_object_get(meta, "warnings"), json_string(warn));
  }
  json_dump_file(meta, meta_path, JSON_INDENT(1));
  json_decref(meta);
}

static int same_series(json_t *rec, const cb_plan_cell *c, json_t *params) {
  return strcmp(json_string_value(json_object_get(rec, "model")), c->model->name) == 0 &&
         strcmp(json_string_value(json_object_get(rec, "workload")), c->workload->name) == 0 &&
         json_integer_value(json_object_get(rec, "concurrency")) == c->concurrency &&
         json_integer_value(json_object_get(rec, "cores")) == c->cores &&
         json_equal(json_object_get(rec, "params"), params);
}

/* The map's cells: a model that gave out at a smaller shape (cpu_us and io_ms both
 * no larger, same N, cores and other parameters) gives out at this one too. */
static cb_class grid_skip(json_t *store, const cb_plan_cell *c, char *why, size_t cap) {
  int kc = cb_param_index(c->workload, "cpu_us"), ki = cb_param_index(c->workload, "io_ms");
  if (c->workload->kind != CB_KIND_MIXED || kc < 0 || ki < 0) return CB_CLASS_OK;
  json_t *mine = cb_plan_params_json(c), *rec;
  const char *key;
  cb_class out = CB_CLASS_OK;
  json_object_foreach(store, key, rec) {
    json_t *p = json_object_get(rec, "params");
    const char *status = json_string_value(json_object_get(rec, "status"));
    long long cpu = json_integer_value(json_object_get(p, "cpu_us")), io = json_integer_value(json_object_get(p, "io_ms"));
    if (!status || strcmp(status, "ok") == 0 || strcmp(status, cb_class_name(CB_CLASS_UNSUPPORTED)) == 0 ||
        strcmp(json_string_value(json_object_get(rec, "model")), c->model->name) != 0 ||
        strcmp(json_string_value(json_object_get(rec, "workload")), c->workload->name) != 0 ||
        json_integer_value(json_object_get(rec, "tasks")) != c->tasks ||
        json_integer_value(json_object_get(rec, "cores")) != c->cores ||
        json_integer_value(json_object_get(rec, "concurrency")) != c->concurrency || cpu > c->params.v[kc] ||
        io > c->params.v[ki] || (cpu == c->params.v[kc] && io == c->params.v[ki]))
      continue;
    json_t *a = json_deep_copy(p), *b = json_deep_copy(mine); /* the rest of the parameters must agree */
    json_object_del(a, "cpu_us"), json_object_del(a, "io_ms"), json_object_del(b, "cpu_us"), json_object_del(b, "io_ms");
    int same = json_equal(a, b);
    json_decref(a), json_decref(b);
    if (!same) continue;
    snprintf(why, cap, "gave out at the smaller shape cpu_us=%lld io_ms=%lld (%s)", cpu, io, status);
    out = CB_CLASS_SKIPPED;
    break;
  }
  json_decref(mine);
  return out;
}

/* Why a cell need not run, from the same series at the largest smaller N:
 * unsupported = the model has no version of the workload; skipped = it gave out
 * there, or its time scaled linearly to this N exceeds the limit; ok = run it. */
static cb_class skip_reason(json_t *store, const cb_plan_cell *c, double limit_s, char *why, size_t cap) {
  json_t *params = cb_plan_params_json(c), *best = NULL, *rec;
  const char *key;
  long long best_n = 0;
  json_object_foreach(store, key, rec) {
    long long n = json_integer_value(json_object_get(rec, "tasks"));
    if (n < c->tasks && n > best_n && same_series(rec, c, params)) best = rec, best_n = n;
  }
  json_decref(params);
  if (!best) return grid_skip(store, c, why, cap);
  const char *status = json_string_value(json_object_get(best, "status"));
  if (strcmp(status, cb_class_name(CB_CLASS_UNSUPPORTED)) == 0) {
    snprintf(why, cap, "%s", json_string_value(json_object_get(best, "error")));
    return CB_CLASS_UNSUPPORTED;
  }
  if (strcmp(status, cb_class_name(CB_CLASS_SKIPPED)) == 0) {
    snprintf(why, cap, "as at N=%lld: %s", best_n, json_string_value(json_object_get(best, "error")));
    return CB_CLASS_SKIPPED;
  }
  if (strcmp(status, cb_class_name(CB_CLASS_OK)) != 0) {
    snprintf(why, cap, "the model gave out at N=%lld (%s)", best_n, status);
    return CB_CLASS_SKIPPED;
  }
  if (c->workload->kind == CB_KIND_SERVER) return CB_CLASS_OK; /* a server's time is its window, whatever N */
  double predicted = cb_stats_median_json(json_object_get(best, "times")) * (double)c->tasks / (double)best_n;
  if (predicted > limit_s) {
    snprintf(why, cap, "predicted %.1f s from N=%lld (linear), over the %.1f s limit", predicted, best_n, limit_s);
    return CB_CLASS_SKIPPED;
  }
  return CB_CLASS_OK;
}

/* Estimated seconds for the cells still to run: a cell whose series ran at a
 * smaller N takes that time scaled linearly to its N (an upper bound for concurrent
 * models), times (runs + 1), or nothing when that exceeds the limit (it will be
 * skipped); any other cell the mean so far (per_cell). Cost: O(cells × records). */
static double eta_s(json_t *store, const cb_plan_cell *plan, size_t from, size_t n, int runs, double limit_s,
                    double per_cell) {
  double total = 0;
  for (size_t k = from; k < n; k++) {
    const cb_plan_cell *c = &plan[k];
    if (json_object_get(store, c->key)) continue;
    if (c->workload->kind == CB_KIND_SERVER) {
      total += per_cell;
      continue;
    }
    json_t *params = cb_plan_params_json(c), *rec, *best = NULL;
    const char *key;
    long long best_n = 0;
    json_object_foreach(store, key, rec) {
      long long m = json_integer_value(json_object_get(rec, "tasks"));
      if (m < c->tasks && m > best_n && same_series(rec, c, params) && json_object_get(rec, "times")) best = rec, best_n = m;
    }
    json_decref(params);
    double run = best ? cb_stats_median_json(json_object_get(best, "times")) * (double)c->tasks / (double)best_n : -1;
    if (run > limit_s) continue; /* it will be skipped */
    total += run < 0 || run * (runs + 1) < per_cell ? per_cell : run * (runs + 1);
  }
  return total;
}

static void fmt_dur(double s, char *buf, size_t cap) {
  long t = (long)(s + 0.5);
  if (t >= 60) snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
  else snprintf(buf, cap, "%lds", t);
}

static void progress(size_t k, size_t n, const cb_plan_cell *c, double elapsed, double eta, const char *result) {
  int tty = isatty(STDERR_FILENO);
  if (!tty && !result) return; /* a log gets one line per finished cell */
  char el[32], et[32] = "?";
  fmt_dur(elapsed, el, sizeof el);
  if (eta >= 0) fmt_dur(eta, et, sizeof et);
  fprintf(stderr, "%s[%zu/%zu] %-8s %-8s N=%-6lld cores=%d%s%s  elapsed %s, ETA %s%s%s%s", tty ? "\r\033[K" : "", k,
          n, c->workload->name, c->model->name, c->tasks, c->cores, c->stages_kv[0] ? " " : "", c->stages_kv, el, et,
          result ? "  -> " : "",
          result ? result : "", tty && !result ? "" : "\n");
  fflush(stderr);
}

static int needs_server(const cb_plan_cell *plan, size_t n, json_t *store) {
  for (size_t k = 0; k < n; k++)
    if (plan[k].workload->needs_server && !json_object_get(store, plan[k].key)) return 1;
  return 0;
}

/* A server cell's median req/s over its timed runs. */
static double median_req_per_s(json_t *rec) {
  json_t *runs = json_object_get(rec, "runs"), *per = json_array();
  size_t k;
  json_t *run;
  json_array_foreach(runs, k, run) json_array_append(per, json_object_get(run, "req_per_s"));
  double m = cb_stats_median_json(per);
  json_decref(per);
  return m;
}

typedef struct bench_progress {
  int64_t t0;
  size_t ran;
} bench_progress;

/* Runs the cells of plan not yet in store, appending each record. 0, or 1 when the
 * store cannot be written; stops early when stop_flag is set. */
static int run_plan(const cb_bench_ctx *ctx, const cb_plan_cell *plan, size_t n, json_t *store, const char *store_path,
                    bench_progress *bp) {
  const cb_bench_opts *o = ctx->opts;
  for (size_t k = 0; k < n && !stop_flag; k++) {
    const cb_plan_cell *c = &plan[k];
    if (json_object_get(store, c->key)) continue;
    double elapsed = (cb_now_ns() - bp->t0) / 1e9;
    progress(k + 1, n, c, elapsed, bp->ran ? eta_s(store, plan, k, n, o->runs, o->limit_s, elapsed / (double)bp->ran) : -1,
             NULL);
    char why[256];
    cb_class skip = skip_reason(store, c, o->limit_s, why, sizeof why);
    json_t *rec = skip != CB_CLASS_OK ? cb_bench_record_skip(ctx, c, skip, why) : cb_bench_run_cell(ctx, c);
    if (!rec) break; /* interrupted: the cell is not recorded and runs again next time */
    if (cb_store_append(store_path, rec) != 0) {
      fprintf(stderr, "\nconcbench bench: cannot append to %s: %s\n", store_path, strerror(errno));
      json_decref(rec);
      return 1;
    }
    json_object_set_new(store, c->key, rec);
    bp->ran++;
    char result[320];
    const char *status = json_string_value(json_object_get(rec, "status"));
    if (strcmp(status, cb_class_name(CB_CLASS_OK)) == 0 && c->workload->kind == CB_KIND_SERVER)
      snprintf(result, sizeof result, "ok, median %.0f req/s", median_req_per_s(rec));
    else if (strcmp(status, cb_class_name(CB_CLASS_OK)) == 0)
      snprintf(result, sizeof result, "ok, median %.4f s", cb_stats_median_json(json_object_get(rec, "times")));
    else
      snprintf(result, sizeof result, "%s: %.250s", status, json_string_value(json_object_get(rec, "error")));
    elapsed = (cb_now_ns() - bp->t0) / 1e9;
    progress(k + 1, n, c, elapsed, eta_s(store, plan, k + 1, n, o->runs, o->limit_s, elapsed / (double)bp->ran), result);
  }
  return 0;
}

int cb_cmd_bench(int argc, char **argv) {
  cb_bench_opts o;
  if (cb_bench_parse(argc, argv, &o) != 0) return 2;
  char self[PATH_MAX], bin_dir[PATH_MAX], binary[17], host[128] = "unknown", dir[PATH_MAX], store_path[PATH_MAX + 16];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  CB_CHECK(len > 0);
  self[len] = '\0';
  snprintf(bin_dir, sizeof bin_dir, "%s", self);
  *strrchr(bin_dir, '/') = '\0';
  file_hash(self, binary);
  gethostname(host, sizeof host - 1);
  snprintf(dir, sizeof dir, "%s/%s", o.results_dir, o.run_id);
  if (make_dirs(dir) != 0) {
    fprintf(stderr, "concbench bench: --results: cannot create %s: %s\n", dir, strerror(errno));
    return 2;
  }
  if (lock_run(dir) != 0) return 2;
  snprintf(store_path, sizeof store_path, "%s/cells.jsonl", dir);
  if (o.fresh) remove(store_path);
  json_t *store = cb_store_load(store_path);
  if (!store) return 1;
  char meta_path[PATH_MAX + 16];
  snprintf(meta_path, sizeof meta_path, "%s/meta.json", dir);
  if ((o.fresh || access(meta_path, R_OK) != 0) && write_meta(dir, bin_dir, &o) != 0) return 1;

  size_t n;
  cb_plan_cell *plan = cb_bench_plan(&o, binary, host, &n);
  size_t todo = 0;
  for (size_t k = 0; k < n; k++) todo += !json_object_get(store, plan[k].key);
  fprintf(stderr, "bench: profile %s, %zu cells (%zu already done) -> %s\n", o.profile, n, n - todo, dir);

  cb_server server = {0};
  char err[256];
  if (needs_server(plan, n, store) && cb_server_start(&server, err, sizeof err) != 0) {
    fprintf(stderr, "concbench bench: %s\n", err);
    return 1;
  }
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  cb_bench_ctx ctx = {.opts = &o, .dir = dir, .concbench = self, .server_url = server.url,
                      .binary = binary, .host = host, .stop = &stop_flag};
  cpu_sample cpu_start;
  sample_cpu(&cpu_start);
  bench_progress bp = {.t0 = cb_now_ns()};
  int rc = run_plan(&ctx, plan, n, store, store_path, &bp);
  /* Open loop: offered rates from the closed-loop cells just measured. */
  size_t nopen = 0;
  cb_plan_cell *open = rc == 0 && !stop_flag ? cb_bench_plan_open(&o, plan, n, store, binary, host, &nopen) : NULL;
  if (nopen > 0) {
    fprintf(stderr, "bench: open loop, %zu cells at %d offered rates\n", nopen, o.nloads);
    rc = run_plan(&ctx, open, nopen, store, store_path, &bp);
  }
  free(open);
  size_t ran = bp.ran;
  cb_server_stop(&server);
  note_end_load(meta_path, &cpu_start);
  json_decref(store);
  free(plan);
  if (stop_flag) {
    fprintf(stderr, "\nbench: interrupted; %zu finished cells are kept in %s; run the same command again to continue\n",
            ran, store_path);
    return CB_EXIT_INTERRUPTED;
  }
  if (rc != 0) return rc;
  char latest[PATH_MAX + 16];
  snprintf(latest, sizeof latest, "%s/latest", o.results_dir);
  remove(latest);
  if (symlink(o.run_id, latest) != 0) fprintf(stderr, "bench: cannot link %s: %s\n", latest, strerror(errno));
  char *rargv[] = {dir, NULL};
  return cb_cmd_report(1, rargv);
}
