/* charts.c — the chart data of a run and the gnuplot calls that draw it.
 *   bars:    per workload at the size where most models verified, a bar per model (median wall, min–max)
 *            and the ideal; a model that failed there is labelled with its class;
 *   scaling: io/mixed/coord workloads, wall against N (log–log), the ideal, failures;
 *   memory:  tree RSS above the workload's leanest cell, per task, against N;
 *   cores:   cpu workloads, speedup over sync on one core against cores, linear ideal;
 *   map:     the winner of each mixed job shape (map.c);
 *   pipeline: workloads with a `stages` parameter: items/s against N and against stages,
 *            p99 item latency against N (their own chart, not scaling lines: wall
 *            against N is the same measurement the other way up);
 *   membw:   cells with a gb_per_s figure: GB/s against cores, with the run's STREAM
 *            figures (meta.json) as the ceiling.
 * The stages sweep's cells (results.h) are drawn only on the pipeline chart.
 * Data files are whitespace-separated, one row per cell, workload first.
 *
 * No shell sees a path or a name from the run folder: gnuplot is spawned with an
 * argument vector and gets the folder as data (`gnuplot -c STEM.gp DIR TERM EXT`,
 * the script `cd`s there and reads and writes fixed names), and the names written
 * into the data files — which the scripts hand to awk through gnuplot's shell escape —
 * keep only [A-Za-z0-9._:+-] (chart_names), whatever a cells.jsonl holds. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/bench/bench.h"
#include "harness/report/map.h"
#include "harness/report/palette.h"
#include "harness/report/peers.h"
#include "harness/report/report.h"
#include "common/util.h"

static FILE *open_dat(const char *dir, const char *stem, const char *suffix) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s%s.dat", dir, stem, suffix);
  FILE *f = fopen(path, "w");
  if (!f) fprintf(stderr, "concbench report: cannot write %s: %s\n", path, strerror(errno));
  return f;
}

typedef struct chart_names {
  char workload[sizeof ((cb_cell_summary *)0)->workload], model[sizeof ((cb_cell_summary *)0)->model],
      status[sizeof ((cb_cell_summary *)0)->status];
} chart_names;

void cb__keep_chars(char *out, const char *in, size_t cap, const char *keep, char repl) {
  size_t k = 0;
  for (; in[k] && k + 1 < cap; k++) {
    char ch = in[k];
    out[k] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || strchr(keep, ch)
                 ? ch
                 : repl;
  }
  out[k] = '\0';
}

void cb__safe_word(char *out, const char *in, size_t cap) { cb__keep_chars(out, in, cap, "._:+-", '_'); }

static chart_names names_of(const cb_cell_summary *c) {
  chart_names n;
  char model[sizeof n.model + 8];
  snprintf(model, sizeof model, "%s%s", c->model, cb__report_is_peer(c->model) ? ":peer" : ""); /* peers marked */
  cb__safe_word(n.workload, c->workload, sizeof n.workload);
  cb__safe_word(n.model, model, sizeof n.model);
  cb__safe_word(n.status, c->status, sizeof n.status);
  return n;
}

static int is_cpu(const cb_cell_summary *c) { return strcmp(c->kind, "cpu") == 0; }
/* Mixed cells are the map's job shapes (many parameter sets at one N): they are drawn
 * on the map, not as bars or scaling lines. */
static int is_map(const cb_cell_summary *c) { return strcmp(c->kind, "mixed") == 0; }

/* A workload with a `stages` parameter: drawn on the pipeline chart. */
static int is_staged(const cb_cell_summary *c) { return json_is_integer(json_object_get(c->params, "stages")); }

static int first_of_workload(const cb_run_results *r, size_t k) {
  for (size_t j = 0; j < k; j++)
    if (strcmp(r->cells[j].workload, r->cells[k].workload) == 0) return 0;
  return 1;
}

static int verified_at(const cb_run_results *r, const char *w, long long n, int cores) {
  int count = 0;
  for (size_t k = 0; k < r->ncells; k++)
    count += r->cells[k].verified && strcmp(r->cells[k].workload, w) == 0 && r->cells[k].tasks == n &&
             r->cells[k].cores == cores && !cb_results_stages_cell(r, &r->cells[k]);
  return count;
}

/* Models tried (supported) at a workload's size. */
static int tried_at(const cb_run_results *r, const char *w, long long n, int cores) {
  int count = 0;
  for (size_t k = 0; k < r->ncells; k++)
    count += strcmp(r->cells[k].workload, w) == 0 && r->cells[k].tasks == n && r->cells[k].cores == cores &&
             strcmp(r->cells[k].status, cb_class_name(CB_CLASS_UNSUPPORTED)) != 0 &&
             !cb_results_stages_cell(r, &r->cells[k]);
  return count;
}

/* The size a workload's bar panel shows, its headline size: the largest (N, then
 * cores) where at least half of the models tried verified; when no size has that
 * many, the one where the most verified, the largest among those. */
static void panel_size(const cb_run_results *r, const char *w, long long *n, int *cores) {
  int best = -1, majority = 0;
  *n = 0, *cores = 0;
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (strcmp(c->workload, w) != 0 || cb_results_stages_cell(r, c)) continue;
    int v = verified_at(r, w, c->tasks, c->cores), most = v > 0 && 2 * v >= tried_at(r, w, c->tasks, c->cores);
    int larger = c->tasks > *n || (c->tasks == *n && c->cores > *cores);
    if (most > majority || (most == majority && (most ? larger : v > best || (v == best && larger))))
      best = v, majority = most, *n = c->tasks, *cores = c->cores;
  }
}

/* Panels (distinct workloads) a chart has, cpu ones or the others. */
static int panels(const cb_run_results *r, int cpu, int all) {
  int n = 0;
  for (size_t k = 0; k < r->ncells; k++)
    n += first_of_workload(r, k) && !is_map(&r->cells[k]) && (all || is_cpu(&r->cells[k]) == cpu);
  return n;
}

static int write_bars(const cb_run_results *r, FILE *f) {
  int rows = 0;
  for (size_t k = 0; k < r->ncells; k++) {
    if (!first_of_workload(r, k) || is_map(&r->cells[k])) continue;
    long long n;
    int cores;
    panel_size(r, r->cells[k].workload, &n, &cores);
    for (size_t j = k; j < r->ncells; j++) {
      const cb_cell_summary *c = &r->cells[j];
      if (strcmp(c->workload, r->cells[k].workload) != 0 || c->tasks != n || c->cores != cores) continue;
      if (strcmp(c->status, cb_class_name(CB_CLASS_UNSUPPORTED)) == 0 || cb_results_stages_cell(r, c)) continue;
      chart_names nm = names_of(c);
      int too_slow = strcmp(c->status, "skipped") == 0 && strstr(c->error, "predicted") != NULL;
      double ideal = c->verified ? cb_results_ideal(r, c) : -1;
      fprintf(f, "%s(N=%lld,cores=%d) %s %.6f %.6f %.6f %.6f %s\n", nm.workload, n, cores, nm.model,
              c->verified ? c->wall.median : 0, c->verified ? c->wall.min : 0, c->verified ? c->wall.max : 0, ideal,
              c->verified ? "ok" : too_slow ? "over-limit" : nm.status);
      rows++;
    }
  }
  return rows;
}

/* Returns the scaling rows; *mem_rows counts the memory rows, which are only the
 * cells above their workload's leanest (a zero has no place on the log axis, and a
 * panel of zeros would stop gnuplot: "all points y value undefined"). */
static int write_scaling(const cb_run_results *r, FILE *f, FILE *ideal, FILE *fail, FILE *mem, int *mem_rows) {
  int rows = 0;
  *mem_rows = 0;
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (is_cpu(c) || is_map(c) || strcmp(c->status, cb_class_name(CB_CLASS_UNSUPPORTED)) == 0 ||
        cb_results_stages_cell(r, c))
      continue;
    chart_names nm = names_of(c);
    if (c->verified) {
      if (!is_staged(c)) fprintf(f, "%s %s %lld %.6f\n", nm.workload, nm.model, c->tasks, c->job_wall.median);
      double lean = c->tree_rss_kb; /* the leanest verified cell of the workload: a bare process */
      for (size_t j = 0; j < r->ncells; j++)
        if (r->cells[j].verified && strcmp(r->cells[j].workload, c->workload) == 0 && !cb_results_stages_cell(r, &r->cells[j]))
          lean = fmin(lean, r->cells[j].tree_rss_kb);
      double per_task = (c->tree_rss_kb - lean) / (double)c->tasks;
      if (per_task >= 0.0005) { /* not 0.000 as printed */
        fprintf(mem, "%s %s %lld %.3f\n", nm.workload, nm.model, c->tasks, per_task);
        (*mem_rows)++;
      }
      rows += !is_staged(c);
    } else if (!is_staged(c)) {
      double top = 0;
      int below = 0; /* failures already marked at this N: stacked upwards, not on top of each other */
      for (size_t j = 0; j < r->ncells; j++) {
        const cb_cell_summary *e = &r->cells[j];
        if (e->verified && strcmp(e->workload, c->workload) == 0) top = fmax(top, e->job_wall.median);
        below += j < k && !e->verified && strcmp(e->status, cb_class_name(CB_CLASS_UNSUPPORTED)) != 0 &&
                 strcmp(e->workload, c->workload) == 0 && e->tasks == c->tasks;
      }
      int too_slow = strcmp(c->status, "skipped") == 0 && strstr(c->error, "predicted") != NULL;
      fprintf(fail, "%s %s:%s %lld %.6f\n", nm.workload, nm.model, too_slow ? "over-limit" : nm.status, c->tasks,
              (top > 0 ? top * 2 : 1) * pow(2.2, below));
    }
    if (is_staged(c)) continue;
    int first_at_n = 1;
    for (size_t j = 0; j < k; j++)
      if (strcmp(r->cells[j].workload, c->workload) == 0 && r->cells[j].tasks == c->tasks) first_at_n = 0;
    if (!first_at_n) continue;
    double best = -1; /* the ideal of the most concurrent model at this N */
    for (size_t j = k; j < r->ncells; j++) {
      const cb_cell_summary *e = &r->cells[j];
      if (strcmp(e->workload, c->workload) != 0 || e->tasks != c->tasks) continue;
      double i = e->verified ? cb_results_ideal(r, e) : -1;
      if (i > 0 && (best < 0 || i < best)) best = i;
    }
    if (best > 0) fprintf(ideal, "%s %lld %.6f\n", nm.workload, c->tasks, best);
  }
  return rows;
}

static int write_cores(const cb_run_results *r, FILE *f) {
  int rows = 0;
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (!is_cpu(c) || !c->verified) continue;
    const cb_cell_summary *base = NULL; /* sync on the fewest cores */
    for (size_t j = 0; j < r->ncells; j++) {
      const cb_cell_summary *b = &r->cells[j];
      if (b->verified && cb_results_is_baseline(b) && strcmp(b->workload, c->workload) == 0 &&
          b->tasks == c->tasks && json_equal(b->params, c->params) && (!base || b->cores < base->cores))
        base = b;
    }
    if (!base) continue;
    chart_names nm = names_of(c);
    fprintf(f, "%s %s %d %.4f %lld\n", nm.workload, nm.model, c->cores, base->wall.median / c->wall.median,
            c->eff_concurrency);
    rows++;
  }
  return rows;
}

/* gnuplot's hypertext labels call gnuplot_svg.js, which a chart inlined in a page
 * does not have: each becomes the SVG's own tooltip, a <title> (no script). */
static int native_tooltips(const char *path) {
  static const char head[] = "<g onmousemove=\"gnuplot_svg.showHypertext(evt,'", mid[] = "')\" onmouseout=\"gnuplot_svg.hideHypertext()\"><title> </title>";
  FILE *f = fopen(path, "r");
  if (!f) return -EIO;
  char *text = NULL;
  size_t cap = 0;
  ssize_t len = getdelim(&text, &cap, '\0', f);
  fclose(f);
  if (len < 0) return free(text), -EIO;
  if (!(f = fopen(path, "w"))) return free(text), -EIO;
  for (char *p = text;;) {
    char *h = strstr(p, head), *m = h ? strstr(h, mid) : NULL;
    if (!m) {
      fputs(p, f);
      break;
    }
    fprintf(f, "%.*s<g><title>%.*s</title>", (int)(h - p), p, (int)(m - h - (sizeof head - 1)), h + sizeof head - 1);
    p = m + sizeof mid - 1;
  }
  free(text);
  return fclose(f) == 0 ? 0 : -EIO;
}

/* Draws scripts/STEM.gp into STEM.png and STEM.svg, rows of panels high, titled
 * with the question it answers (gnuplot -c STEM.gp DIR TERM EXT TITLE). */
static int draw(const char *dir, const char *stem, int rows, const char *title) {
  char scripts[PATH_MAX], script[PATH_MAX + 32];
  cb_scripts_dir(scripts, sizeof scripts);
  snprintf(script, sizeof script, "%s/%s.gp", scripts, stem);
  /* the SVG at the width report.html gives it, so its text is drawn at its size */
  static const char *const terms[][2] = {{"pngcairo size 1400,%d", "png"}, {"svg size 1200,%d dynamic", "svg"}};
  for (int k = 0; k < 2; k++) {
    char term[64];
    snprintf(term, sizeof term, terms[k][0], 160 + 400 * (rows > 0 ? rows : 1));
    char *const argv[] = {"gnuplot", "-c", script, (char *)dir, term, (char *)terms[k][1], (char *)title, NULL};
    static volatile sig_atomic_t never;
    cb_proc_result p;
    if (cb_proc_run(argv, NULL, NULL, 0, 120, &never, &p) != 0 || !p.exited || p.code != 0) {
      fprintf(stderr, "concbench report: gnuplot %s failed (%s %d)\n", script, p.exited ? "exit" : "signal", p.code);
      return -EIO;
    }
  }
  char svg[PATH_MAX];
  snprintf(svg, sizeof svg, "%s/%s.svg", dir, stem);
  if (native_tooltips(svg) != 0) {
    fprintf(stderr, "concbench report: cannot rewrite %s\n", svg);
    return -EIO;
  }
  return 0;
}

/* The one line under every chart's title: the machine (meta.json). */
static void caption(const cb_run_results *r, char *out, size_t cap) {
  json_t *m = r->meta;
  const char *cpu = json_string_value(json_object_get(m, "cpu")), *date = json_string_value(json_object_get(m, "date")),
             *kernel = json_string_value(json_object_get(m, "kernel"));
  if (!m) snprintf(out, cap, "machine unknown (no meta.json)");
  else snprintf(out, cap, "%s, %lld cores, %s; run of %.10s", cpu ? cpu : "CPU unknown",
                json_integer_value(json_object_get(m, "cores")), kernel ? kernel : "kernel unknown", date ? date : "?");
}

int cb__report_charts(const cb_run_results *r, const cb_run_results *servers, const cb__palette *pal, const char *dir,
                      cb__chart *charts, int *ncharts) {
  char cap[256];
  caption(r->meta ? r : servers, cap, sizeof cap);
  if (cb__palette_write_gp(pal, dir, cap) != 0) return -EIO;
  static cb_map map; /* the map (map.c): the winner of each mixed job shape */
  cb_map_build(r, &map);
  FILE *mapf = open_dat(dir, "map", "");
  int nmap = mapf ? cb_map_data(&map, mapf) : 0;
  if (mapf) fclose(mapf);
  FILE *hockey = open_dat(dir, "hockey", "");
  int nh = hockey ? cb__report_hockey_data(servers, hockey) : 0;
  if (hockey) fclose(hockey);
  FILE *bars = open_dat(dir, "bars", ""), *sc = open_dat(dir, "scaling", ""), *si = open_dat(dir, "scaling", "_ideal"),
       *sf = open_dat(dir, "scaling", "_fail"), *mem = open_dat(dir, "memory", ""), *cores = open_dat(dir, "cores", "");
  int ok = hockey && bars && sc && si && sf && mem && cores;
  int nb = 0, ns = 0, nmem = 0, nc = 0;
  if (ok) {
    nb = write_bars(r, bars);
    ns = write_scaling(r, sc, si, sf, mem, &nmem);
    nc = write_cores(r, cores);
  }
  FILE *all[] = {bars, sc, si, sf, mem, cores};
  for (size_t k = 0; k < 6; k++)
    if (all[k]) fclose(all[k]);
  if (!ok) return -EIO;
  FILE *pl = open_dat(dir, "pipeline", ""), *ps = open_dat(dir, "pipeline", "_stages"), *mb = open_dat(dir, "membw", ""),
       *mc = open_dat(dir, "membw", "_ceiling");
  int npl = pl && ps ? cb__report_pipeline_data(r, pl, ps) : 0, nmb = mb && mc ? cb__report_membw_data(r, mb, mc) : 0;
  FILE *more[] = {pl, ps, mb, mc};
  for (size_t k = 0; k < 4; k++)
    if (more[k]) fclose(more[k]);
  if (!pl || !ps || !mb || !mc) return -EIO;
  int np = panels(r, 0, 0), npw = 0, nmw = 0; /* workloads on the pipeline and membw charts */
  for (size_t k = 0; k < r->ncells; k++) {
    if (!first_of_workload(r, k)) continue;
    npw += is_staged(&r->cells[k]);
    int fig = 0;
    for (size_t j = k; j < r->ncells && !fig; j++)
      fig = strcmp(r->cells[j].workload, r->cells[k].workload) == 0 && !isnan(cb_results_figure(&r->cells[j], "gb_per_s"));
    nmw += fig;
  }
  const struct { const char *stem, *title; int rows, height; } want[] = {
      {"bars", "Which model is fastest at each workload's headline size? Median wall time, log scale", nb,
       (panels(r, 0, 1) + 3) / 4},
      {"scaling", "How does wall time grow with the number of tasks N?", ns, (np + 2) / 3},
      {"memory", "How much memory does each task add?", nmem, (np + 2) / 3},
      {"cores", "How much faster does CPU work get with more cores?", nc, (panels(r, 1, 0) + 2) / 3},
      {"map", "Which model wins each mix of CPU and waiting?", nmap, 2},
      {"hockey", "At what load does each server's p99 latency turn up?", nh, (panels(servers, 0, 1) + 1) / 2},
      {"pipeline", "How many items per second do pipelines move, and how fast?", npl, npw},
      {"membw", "How close does each model get to the memory bandwidth ceiling?", nmb, (nmw + 1) / 2},
  };
  _Static_assert(sizeof want / sizeof *want <= CB_REPORT_MAX_CHARTS, "charts beyond CB_REPORT_MAX_CHARTS");
  *ncharts = 0;
  for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
    if (want[k].rows == 0) continue;
    if (draw(dir, want[k].stem, want[k].height, want[k].title) != 0) return -EIO;
    cb__chart *c = &charts[(*ncharts)++];
    snprintf(c->stem, sizeof c->stem, "%s", want[k].stem);
    snprintf(c->title, sizeof c->title, "%s", want[k].title);
  }
  return 0;
}
