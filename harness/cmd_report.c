/* cmd_report.c — `concbench report [RUN]`: from a bench run folder, writes
 * tables.md (a table per workload: a row per model), summary.csv, and the bar
 * chart (chart.png, chart.svg) drawn by scripts/bars.gp. A cell that did not
 * verify is listed with its reason and never gets a speed figure. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/commands.h"
#include "harness/results.h"
#include "harness/util.h"

static void params_text(json_t *params, char *buf, size_t cap) {
  const char *key;
  json_t *v;
  size_t used = 0;
  buf[0] = '\0';
  json_object_foreach(params, key, v) {
    if (json_is_integer(v))
      used += (size_t)snprintf(buf + used, cap - used, "%s%s=%lld", used ? " " : "", key, json_integer_value(v));
    else
      used += (size_t)snprintf(buf + used, cap - used, "%s%s=%s", used ? " " : "", key, json_string_value(v));
    if (used >= cap) break;
  }
}

static int workload_seen(const cb_run_results *r, size_t upto, const char *w) {
  for (size_t k = 0; k < upto; k++)
    if (strcmp(r->cells[k].workload, w) == 0) return 1;
  return 0;
}

static void write_tables(const cb_run_results *r, FILE *md, FILE *csv, FILE *dat) {
  fprintf(md, "# concbench results\n\n");
  if (r->meta) {
    fprintf(md, "Machine: %s, %lld cores, %s; git %s; %s.\n\n",
            json_string_value(json_object_get(r->meta, "cpu")),
            json_integer_value(json_object_get(r->meta, "cores")),
            json_string_value(json_object_get(r->meta, "kernel")),
            json_string_value(json_object_get(r->meta, "git")),
            json_string_value(json_object_get(r->meta, "date")));
  }
  fprintf(md, "Wall = the whole `concbench run` command timed by hyperfine (median of the runs, "
              "min–max beside it); job phase = the model's own timing of the jobs. Speedup is "
              "against `sync` with the same parameters; efficiency = ideal / median wall, where "
              "the ideal is sync time / min(cores, C) for CPU work and wait per job × ⌈N / C⌉ "
              "for IO work. A cell that did not verify gets no speed figure.\n\n");
  fprintf(csv, "workload,kind,model,tasks,concurrency,params,runs,verified,wall_median_s,wall_min_s,"
               "wall_max_s,wall_cv,job_wall_median_s,speedup_vs_sync,ideal_s,efficiency,cpu_s,"
               "tree_rss_kb,created,created_kind,error\n");
  for (size_t k = 0; k < r->ncells; k++) {
    const char *w = r->cells[k].workload;
    if (workload_seen(r, k, w)) continue;
    char ptext[256];
    params_text(r->cells[k].params, ptext, sizeof ptext);
    fprintf(md, "## %s (%s; %s; N = %lld)\n\n", w, r->cells[k].kind, ptext, r->cells[k].tasks);
    fprintf(md, "| model | C | wall median (s) | min–max (s) | CV | job phase (s) | speedup vs sync | "
                "ideal (s) | efficiency | CPU (s) | tree RSS (MiB) | created | verified |\n");
    fprintf(md, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
    for (size_t j = k; j < r->ncells; j++) {
      const cb_cell_summary *c = &r->cells[j];
      if (strcmp(c->workload, w) != 0) continue;
      params_text(c->params, ptext, sizeof ptext);
      if (!c->verified) {
        fprintf(md, "| %s | %lld | — | — | — | — | — | — | — | — | — | — | **%s**: %s |\n", c->model,
                c->concurrency, c->status, c->error);
        fprintf(csv, "%s,%s,%s,%lld,%lld,\"%s\",%d,false,,,,,,,,,,,,,\"%s\"\n", w, c->kind, c->model,
                c->tasks, c->concurrency, ptext, (int)c->wall.n, c->error);
        continue;
      }
      const cb_cell_summary *b = cb_results_baseline(r, c);
      double speedup = b && b->verified ? b->wall.median / c->wall.median : -1;
      double ideal = cb_results_ideal(r, c);
      double eff = ideal > 0 ? ideal / c->wall.median : -1;
      char sp[32] = "—", id[32] = "—", ef[32] = "—";
      if (speedup > 0) snprintf(sp, sizeof sp, "%.2f×", speedup);
      if (ideal > 0) snprintf(id, sizeof id, "%.3f", ideal);
      if (eff > 0) snprintf(ef, sizeof ef, "%.0f%%", eff * 100);
      char made[64] = "none";
      if (c->created > 0) snprintf(made, sizeof made, "%lld %s", c->created, c->created_kind);
      fprintf(md, "| %s | %lld | %.3f | %.3f–%.3f | %.1f%%%s | %.3f | %s | %s | %s | %.2f | %.1f | %s | yes |\n",
              c->model, c->concurrency, c->wall.median, c->wall.min, c->wall.max, c->wall.cv * 100,
              c->wall.cv > 0.05 ? " (noisy)" : "", c->job_wall.median, sp, id, ef, c->cpu_s,
              c->tree_rss_kb / 1024, made);
      fprintf(csv, "%s,%s,%s,%lld,%lld,\"%s\",%d,true,%.6f,%.6f,%.6f,%.4f,%.6f,%.4f,%.6f,%.4f,%.4f,%.0f,%lld,%s,\n",
              w, c->kind, c->model, c->tasks, c->concurrency, ptext, (int)c->wall.n, c->wall.median,
              c->wall.min, c->wall.max, c->wall.cv, c->job_wall.median, speedup, ideal, eff, c->cpu_s,
              c->tree_rss_kb, c->created, c->created_kind);
      fprintf(dat, "%s %s %.6f %.6f %.6f %.6f\n", w, c->model, c->wall.median, c->wall.min,
              c->wall.max, ideal);
    }
    fprintf(md, "\n");
  }
}

static FILE *open_out(const char *dir, const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) fprintf(stderr, "concbench report: cannot write %s: %s\n", path, strerror(errno));
  return f;
}

static int draw_chart(const char *dir) {
  char scripts[PATH_MAX], cmd[2 * PATH_MAX + 2048];
  cb_scripts_dir(scripts, sizeof scripts);
  int rc = 0;
  const char *terms[][2] = {{"pngcairo size 1200,600", "png"}, {"svg size 1200,600", "svg"}};
  for (int k = 0; k < 2 && rc == 0; k++) {
    snprintf(cmd, sizeof cmd, "gnuplot -e \"data='%s/chart.dat'; out='%s/chart.%s'; term='%s'\" '%s/bars.gp'",
             dir, dir, terms[k][1], terms[k][0], scripts);
    rc = system(cmd);
  }
  if (rc != 0) fprintf(stderr, "concbench report: gnuplot failed (%d)\n", rc);
  return rc == 0 ? 0 : -EIO;
}

int cb_cmd_report(int argc, char **argv) {
  const char *dir = argc > 0 ? argv[0] : "results/latest";
  if (argc > 1) {
    fprintf(stderr, "concbench report: takes one run folder, got %d arguments\n", argc);
    return 2;
  }
  if (access(dir, R_OK) != 0) {
    fprintf(stderr, "concbench report: run folder %s: %s\n", dir, strerror(errno));
    return 2;
  }
  cb_run_results r;
  if (cb_results_load(dir, &r) != 0) return 2;
  FILE *md = open_out(dir, "tables.md"), *csv = open_out(dir, "summary.csv"), *dat = open_out(dir, "chart.dat");
  int rc = md && csv && dat ? 0 : 1;
  if (rc == 0) write_tables(&r, md, csv, dat);
  if (md) fclose(md);
  if (csv) fclose(csv);
  if (dat) fclose(dat);
  if (rc == 0 && draw_chart(dir) != 0) rc = 1;
  cb_results_free(&r);
  if (rc == 0) printf("report: %s/tables.md, summary.csv, chart.png, chart.svg\n", dir);
  return rc;
}
