/* tables.c — the report's text: the "which model for which workload"
 * summary, then a table per workload with a row per model × size, into tables.md
 * and report.html (one document, doc.h) and summary.csv. A cell that did
 * not verify shows its class and reason and never a speed figure. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness/report/advise.h"
#include "harness/report/map.h"
#include "harness/report/peers.h"
#include "harness/report/report.h"

#define NOISY_CV 0.05

void cb__params_text(json_t *params, char *buf, size_t cap) {
  const char *key;
  json_t *v;
  size_t used = 0;
  buf[0] = '\0';
  json_object_foreach(params, key, v) {
    if (used >= cap) break;
    if (json_is_integer(v))
      used += (size_t)snprintf(buf + used, cap - used, "%s%s=%lld", used ? " " : "", key, json_integer_value(v));
    else
      used += (size_t)snprintf(buf + used, cap - used, "%s%s=%s", used ? " " : "", key, json_string_value(v));
  }
}

static int first_of_workload(const cb_run_results *r, size_t k) {
  for (size_t j = 0; j < k; j++)
    if (strcmp(r->cells[j].workload, r->cells[k].workload) == 0) return 0;
  return 1;
}

static const char *jstr(json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "?";
}

static void machine(const cb_run_results *r, cb__doc *d) {
  json_t *m = r->meta;
  if (!m) {
    cb__doc_para(d, "No meta.json in this run: the machine is unknown.");
    return;
  }
  cb__doc_para(d, "Machine: %s, %lld cores, governor %s; %s; %s; %s (%s). libuv %s, libcurl %s, GMP %s, %s, %s. "
               "git %s, profile %s, started %s with load average %s.",
               jstr(m, "cpu"), json_integer_value(json_object_get(m, "cores")), jstr(m, "governor"), jstr(m, "kernel"),
               jstr(m, "libc"), jstr(m, "compiler"), jstr(m, "cflags"), jstr(m, "libuv"), jstr(m, "libcurl"),
               jstr(m, "gmp"), jstr(m, "hyperfine"), jstr(m, "gnuplot"), jstr(m, "git"), jstr(m, "profile"),
               jstr(m, "date"), jstr(m, "loadavg"));
}

/* What may make the run's timings untrustworthy (meta.json's warnings): at the top. */
static void warnings(json_t *m, cb__doc *d) {
  size_t k;
  json_t *w;
  json_array_foreach(json_object_get(m, "warnings"), k, w) cb__doc_list_item(d, "**Warning:** %s", json_string_value(w));
  cb__doc_list_end(d);
}

/* Whether the group of c (workload, N, cores) holds cells of more than one
 * parameter set (the map's job shapes): no one best model to name for it. */
static int shapes_group(const cb_run_results *r, const cb_cell_summary *c) {
  for (size_t j = 0; j < r->ncells; j++) {
    const cb_cell_summary *e = &r->cells[j];
    if (strcmp(e->workload, c->workload) == 0 && e->tasks == c->tasks && e->cores == c->cores &&
        !cb_results_stages_cell(r, e) && !json_equal(e->params, c->params))
      return 1;
  }
  return 0;
}

/* Measured: at each workload × size, the fastest verified model and the rest (the
 * stages sweep's cells are not sizes: pipeline chart and table only; a group of
 * several job shapes is the map's, named after the table). */
static void summary(const cb_run_results *r, cb__doc *d) {
  cb__doc_heading(d, 2, "Which model for which workload");
  cb__doc_para(d, "Measured, per workload and size: the model with the lowest median wall time, the runner-up and "
                  "how far behind it is, and the models that gave out (no speed figure for those).");
  static const char *const head[] = {"workload", "kind", "N", "cores", "best", "runner-up", "behind", "gave out"};
  cb__doc_table(d, head, "llrrllrl", 8);
  char shaped[128] = "";
  size_t nshaped = 0;
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (cb_results_stages_cell(r, c)) continue;
    int first = 1;
    for (size_t j = 0; j < k; j++)
      if (strcmp(r->cells[j].workload, c->workload) == 0 && r->cells[j].tasks == c->tasks &&
          r->cells[j].cores == c->cores && !cb_results_stages_cell(r, &r->cells[j]))
        first = 0;
    if (!first) continue;
    if (shapes_group(r, c)) {
      if (!strstr(shaped, c->workload) && nshaped < sizeof shaped)
        nshaped += (size_t)snprintf(shaped + nshaped, sizeof shaped - nshaped, "%s%s", nshaped ? ", " : "", c->workload);
      continue;
    }
    const cb_cell_summary *best = NULL, *second = NULL;
    char failed[256] = "", lab[48], lab_best[48], lab_second[48];
    size_t used = 0;
    for (size_t j = k; j < r->ncells; j++) {
      const cb_cell_summary *e = &r->cells[j];
      if (strcmp(e->workload, c->workload) != 0 || e->tasks != c->tasks || e->cores != c->cores ||
          cb_results_stages_cell(r, e))
        continue;
      if (!e->verified) {
        int too_slow = strcmp(e->status, "skipped") == 0 && strstr(e->error, "predicted") != NULL;
        if (strcmp(e->status, cb_class_name(CB_CLASS_UNSUPPORTED)) != 0 && used < sizeof failed)
          used += (size_t)snprintf(failed + used, sizeof failed - used, "%s%s (%s)", used ? ", " : "",
                                   cb__report_label(e->model, lab, sizeof lab),
                                   too_slow ? "skipped: too slow for the limit"
                                   : strcmp(e->status, "skipped") == 0 ? "skipped: gave out at a smaller N"
                                                                       : e->status);
      } else if (!best || e->wall.median < best->wall.median) {
        second = best, best = e;
      } else if (!second || e->wall.median < second->wall.median) {
        second = e;
      }
    }
    char n[32], cores[16], behind[64] = "—";
    snprintf(n, sizeof n, "%lld", c->tasks);
    snprintf(cores, sizeof cores, "%d", c->cores);
    if (best && second) {
      double ratio = second->wall.median / best->wall.median;
      double noise = fmax(best->wall.cv, second->wall.cv);
      snprintf(behind, sizeof behind, "%.2f×%s", ratio, ratio - 1 < 2 * noise ? " (within noise)" : "");
    }
    const char *row[] = {c->workload, c->kind, n, cores,
                         best ? cb__report_label(best->model, lab_best, sizeof lab_best) : "none verified",
                         second ? cb__report_label(second->model, lab_second, sizeof lab_second) : "—", behind,
                         failed[0] ? failed : "—"};
    cb__doc_row(d, row, 8);
  }
  cb__doc_table_end(d);
  if (shaped[0])
    cb__doc_para(d, "Not in this table: %s, whose cells are job shapes at one size; the map below names each "
                    "shape's best model.", shaped);
}

/* Predicted, for typical jobs, by the same ranking `concbench advise` prints. */
static void advice(const cb_run_results *r, cb__doc *d) {
  static const struct { const char *what; double cpu, io; long long n; } jobs[] = {
      {"compute-bound: 10 ms of CPU, no wait", 10, 0, 100},
      {"wait-bound: 100 ms of waiting, no CPU", 0, 100, 1000},
      {"mixed: 5 ms of CPU and 50 ms of waiting", 5, 50, 100},
  };
  cb__doc_heading(d, 3, "Advice for typical jobs (concbench advise)");
  static const char *const head[] = {"job", "N", "best", "predicted (s)", "then", "not usable", "note"};
  cb__doc_table(d, head, "lrlrlll", 7);
  for (size_t k = 0; k < sizeof jobs / sizeof *jobs; k++) {
    cb_advice a[32];
    size_t na = cb_advise(r, jobs[k].cpu, jobs[k].io, jobs[k].n, a, 32);
    char n[32], pred[32] = "—", then[256] = "", bad[256] = "";
    size_t ut = 0, ub = 0;
    snprintf(n, sizeof n, "%lld", jobs[k].n);
    for (size_t j = 0; j < na; j++) {
      if (!a[j].usable)
        ub += (size_t)snprintf(bad + ub, sizeof bad - ub, "%s%s", ub ? ", " : "", a[j].model);
      else if (j > 0 && ut < sizeof then)
        ut += (size_t)snprintf(then + ut, sizeof then - ut, "%s%s %.2f×", ut ? ", " : "", a[j].model, a[j].behind);
    }
    int ok = na > 0 && a[0].usable;
    if (ok) snprintf(pred, sizeof pred, "%.3f", a[0].predicted_s);
    const char *row[] = {jobs[k].what, n, ok ? a[0].model : "none", pred, then[0] ? then : "—",
                         bad[0] ? bad : "—", ok && a[0].extrapolated ? "extrapolated beyond the measured sizes" : ""};
    cb__doc_row(d, row, 7);
  }
  cb__doc_table_end(d);
}

static void csv_header(FILE *csv) {
  fprintf(csv, "workload,kind,model,tasks,concurrency,cores,params,status,runs,wall_median_s,wall_min_s,wall_max_s,"
               "wall_cv,noisy,job_wall_median_s,last_start_median_s,speedup_vs_sync,ideal_s,efficiency,cpu_s,tree_rss_kb,"
               "rss_per_task_kb,created,created_kind,per_op,error\n");
}

static void csv_quote(FILE *csv, const char *s) {
  fputc('"', csv);
  for (; *s; s++) {
    if (*s == '"') fputc('"', csv);
    fputc(*s, csv);
  }
  fputc('"', csv);
}

static void workload_table(const cb_run_results *r, size_t first, cb__doc *d, FILE *csv) {
  const cb_cell_summary *h = &r->cells[first];
  char ptext[256], title[400];
  cb__params_text(h->params, ptext, sizeof ptext);
  snprintf(title, sizeof title, "%s (%s; %s)", h->workload, h->kind, ptext);
  cb__doc_details(d, 2, title); /* folded in the HTML: the answer is above */
  static const char *const head[] = {"model", "N", "cores", "C", "wall median (s)", "min–max (s)", "CV",
                                     "last job began (s)", "speedup vs sync", "ideal (s)", "efficiency", "CPU user+sys (s)",
                                     "tree RSS (MiB)", "RSS per task (KiB)", "created", "per operation", "verified"};
  cb__doc_table(d, head, "lrrrrrrrrrrrrrlll", 17);
  for (size_t k = first; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (strcmp(c->workload, h->workload) != 0) continue;
    char n[24], cores[16], conc[24], med[32] = "—", mm[48] = "—", cv[32] = "—", sp[32] = "—", id[32] = "—",
         ef[32] = "—", began[32] = "—", cpu[32] = "—", rss[32] = "—", slope[32] = "—", made[64] = "—", ver[600];
    snprintf(n, sizeof n, "%lld", c->tasks);
    snprintf(cores, sizeof cores, "%d", c->cores);
    snprintf(conc, sizeof conc, "%lld", c->eff_concurrency);
    cb__params_text(c->params, ptext, sizeof ptext);
    double speedup = -1, ideal = -1, eff = -1;
    if (c->verified) {
      const cb_cell_summary *b = cb_results_baseline(r, c);
      if (b && b->verified) speedup = b->wall.median / c->wall.median;
      ideal = cb_results_ideal(r, c);
      if (ideal > 0) eff = ideal / c->job_wall.median;
      snprintf(med, sizeof med, "%.4f", c->wall.median);
      snprintf(mm, sizeof mm, "%.4f–%.4f", c->wall.min, c->wall.max);
      snprintf(cv, sizeof cv, "%.1f%%%s", c->wall.cv * 100, c->wall.cv > NOISY_CV ? " **noisy**" : "");
      if (!isnan(c->last_start_s)) snprintf(began, sizeof began, "%.4f", c->last_start_s);
      if (speedup > 0) snprintf(sp, sizeof sp, "%.2f×", speedup);
      if (ideal > 0) snprintf(id, sizeof id, "%.4f", ideal);
      if (eff > 0) snprintf(ef, sizeof ef, "%.0f%%", eff * 100);
      snprintf(cpu, sizeof cpu, "%.3f", c->cpu_s);
      snprintf(rss, sizeof rss, "%.1f", c->tree_rss_kb / 1024);
      if (!isnan(c->rss_per_task_kb)) snprintf(slope, sizeof slope, "%.1f", c->rss_per_task_kb);
      snprintf(made, sizeof made, c->created > 0 ? "%lld %s" : "none", c->created, c->created_kind);
      snprintf(ver, sizeof ver, "yes");
    } else {
      snprintf(ver, sizeof ver, "**%s**: %s", c->status, c->error);
    }
    char model[64]; /* a cell of the stages sweep is told from the N sweep's by its stages */
    json_t *st = json_object_get(c->params, "stages");
    if (cb_results_stages_cell(r, c)) snprintf(model, sizeof model, "%s (stages=%lld)", c->model, json_integer_value(st));
    else cb__report_label(c->model, model, sizeof model);
    const char *row[] = {model, n, cores, conc, med, mm, cv, began, sp, id, ef, cpu, rss, slope, made,
                         c->per_op[0] ? c->per_op : "—", ver};
    if (strcmp(c->status, cb_class_name(CB_CLASS_UNSUPPORTED)) != 0) cb__doc_row(d, row, 17); /* listed under the table */
    fprintf(csv, "%s,%s,%s,%lld,%lld,%d,", c->workload, c->kind, c->model, c->tasks, c->eff_concurrency, c->cores);
    csv_quote(csv, ptext);
    fprintf(csv, ",%s,%zu,", c->status, c->wall.n);
    if (c->verified) {
      fprintf(csv, "%.6f,%.6f,%.6f,%.4f,%s,%.6f,", c->wall.median, c->wall.min, c->wall.max, c->wall.cv,
              c->wall.cv > NOISY_CV ? "true" : "false", c->job_wall.median);
      if (!isnan(c->last_start_s)) fprintf(csv, "%.6f", c->last_start_s);
      fputc(',', csv);
      if (speedup > 0) fprintf(csv, "%.4f", speedup);
      fputc(',', csv);
      if (ideal > 0) fprintf(csv, "%.6f", ideal);
      fputc(',', csv);
      if (eff > 0) fprintf(csv, "%.4f", eff);
      fprintf(csv, ",%.4f,%.0f,", c->cpu_s, c->tree_rss_kb);
      if (!isnan(c->rss_per_task_kb)) fprintf(csv, "%.2f", c->rss_per_task_kb);
      fprintf(csv, ",%lld,%s,", c->created, c->created_kind);
      csv_quote(csv, c->per_op);
      fprintf(csv, ",\n");
    } else {
      fprintf(csv, ",,,,,,,,,,,,,,,,");
      csv_quote(csv, c->error);
      fputc('\n', csv);
    }
  }
  cb__doc_table_end(d);
  char none[256] = "";
  size_t used = 0;
  for (size_t k = first; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (strcmp(c->workload, h->workload) != 0 || strcmp(c->status, cb_class_name(CB_CLASS_UNSUPPORTED)) != 0 || used >= sizeof none) continue;
    int seen = 0;
    for (size_t j = first; j < k; j++)
      seen |= strcmp(r->cells[j].workload, h->workload) == 0 && strcmp(r->cells[j].model, c->model) == 0 &&
              strcmp(r->cells[j].status, cb_class_name(CB_CLASS_UNSUPPORTED)) == 0;
    if (!seen) used += (size_t)snprintf(none + used, sizeof none - used, "%s%s", used ? ", " : "", c->model);
  }
  if (none[0]) cb__doc_para(d, "No version of %s for: %s.", h->workload, none);
  cb__doc_details_end(d);
}

void cb__report_write(const cb_run_results *r, const cb_run_results *servers, cb__doc *d, FILE *csv,
                      FILE *servers_csv, const cb__chart *charts, int ncharts) {
  csv_header(csv);
  cb__doc_begin(d, "concbench results");
  /* The answer first: what wins where and the advice, then the charts, then the
   * tables behind them (folded), then how to read them and the machine. */
  json_t *m = r->meta ? r->meta : servers->meta;
  if (m)
    cb__doc_para(d, "Measured on %s, %lld cores, started %s (the machine and the method: at the end).",
                 jstr(m, "cpu"), json_integer_value(json_object_get(m, "cores")), jstr(m, "date"));
  warnings(m, d);
  summary(r, d);
  advice(r, d);
  cb__report_peers(r, d); /* when the run has peers: the seed's experiment side by side */
  cb_map map; /* the map's table (map.c); its chart is charts.c's */
  cb_map_build(r, &map);
  cb_map_section(&map, d);
  if (ncharts > 0) cb__doc_heading(d, 2, "Charts");
  for (int k = 0; k < ncharts; k++) cb__doc_chart(d, charts[k].stem, charts[k].title);
  cb__report_membw(r, d);
  cb__report_servers(servers, d, servers_csv);
  for (size_t k = 0; k < r->ncells; k++)
    if (first_of_workload(r, k)) workload_table(r, k, d, csv);
  cb__doc_heading(d, 2, "How to read the tables");
  cb__doc_para(d, "Wall = the whole `concbench run` command timed by hyperfine over the timed runs (median, min–max "
                  "and CV; a CV over 5%% is flagged **noisy**). Speedup = sync's median wall / this one, same workload, "
                  "parameters and N. Efficiency = the ideal / this cell's job phase (the model's own timing of its "
                  "jobs), where the ideal is sync's job phase / min(cores, C) for CPU work and wait per job × ⌈N / C⌉ "
                  "for IO work (docs/measuring.md). CPU = user+sys of the whole process tree; tree RSS = peak RSS summed over "
                  "the tree; RSS per task = the slope of tree RSS over N for the same model; per operation = figures a "
                  "model reports itself (e.g. ns_per_switch), medians over the runs. A model marked (peer) is a "
                  "program in Python or Go (runtimes/peer/README.md): its wall includes the interpreter's start-up, "
                  "its job phase does not. A cell that did not "
                  "verify shows its class — timeout, crash, wrong_result, job_failed, resource_limit, unsupported, "
                  "bad_exit, skipped — and no speed figure.");
  cb__doc_heading(d, 2, "Machine");
  machine(r->meta ? r : servers, d);
  cb__doc_end(d);
}
