/* servers.c — the report's server workloads (kind server): per workload, the
 * closed-loop table (throughput and p99 per model × connections), the open-loop
 * table (p99 per model × offered rate, corrected for coordinated omission, the
 * uncorrected figure beside it), and the data of the hockey-stick chart. A cell that
 * did not verify shows its class and no figure; a generator-bound figure is marked,
 * since it is the generator's limit, not the server's. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness/report/report.h"

static int is_open(const cb_cell_summary *c) { return c->server && json_number_value(json_object_get(c->params, "rate")) > 0; }

static int first_model(const cb_run_results *r, size_t k, const char *workload, int open) {
  for (size_t j = 0; j < k; j++)
    if (r->cells[j].server && is_open(&r->cells[j]) == open && strcmp(r->cells[j].workload, workload) == 0 &&
        strcmp(r->cells[j].model, r->cells[k].model) == 0)
      return 0;
  return 1;
}

/* The distinct values of connections (closed) or rate (open) of a workload, sorted. */
static int columns(const cb_run_results *r, const char *workload, int open, double *out, int cap) {
  int n = 0;
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (!c->server || is_open(c) != open || strcmp(c->workload, workload) != 0) continue;
    double v = open ? json_number_value(json_object_get(c->params, "rate")) : (double)c->tasks;
    int seen = 0;
    for (int j = 0; j < n; j++) seen |= out[j] == v;
    if (seen || n == cap) continue;
    int at = n++;
    while (at > 0 && out[at - 1] > v) out[at] = out[at - 1], at--;
    out[at] = v;
  }
  return n;
}

static const cb_cell_summary *cell_at(const cb_run_results *r, const char *workload, const char *model, int open,
                                      double v) {
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (!c->server || is_open(c) != open || strcmp(c->workload, workload) != 0 || strcmp(c->model, model) != 0)
      continue;
    if ((open ? json_number_value(json_object_get(c->params, "rate")) : (double)c->tasks) == v) return c;
  }
  return NULL;
}

static void si(double v, char *buf, size_t cap) {
  if (v >= 1e6) snprintf(buf, cap, "%.2fM", v / 1e6);
  else if (v >= 1e3) snprintf(buf, cap, "%.1fK", v / 1e3);
  else snprintf(buf, cap, "%.0f", v);
}

static void figure(const cb_cell_summary *c, int open, char *buf, size_t cap) {
  if (!c) {
    snprintf(buf, cap, "—");
  } else if (!c->verified) {
    snprintf(buf, cap, "**%s**", c->status);
  } else if (open) {
    snprintf(buf, cap, "%.2f (%.2f)%s", c->srv.p99_ms, c->srv.p99_uncorrected_ms,
             c->srv.generator_bound ? " *gen-bound*" : "");
  } else {
    char rps[32];
    si(c->srv.req_per_s.median, rps, sizeof rps);
    snprintf(buf, cap, "%s/s · %.2f ms%s", rps, c->srv.p99_ms, c->srv.generator_bound ? " *gen-bound*" : "");
  }
}

static void table(const cb_run_results *r, const char *workload, int open, cb__doc *d) {
  double cols[16];
  int nc = columns(r, workload, open, cols, 16);
  if (nc == 0) return;
  char title[160];
  snprintf(title, sizeof title, "%s: %s", workload,
           open ? "open loop, p99 latency (ms) at each offered rate, corrected (uncorrected)"
                : "closed loop, requests/s · p99 latency at each number of connections");
  cb__doc_heading(d, 3, title);
  const char *head[18];
  char hbuf[16][32];
  head[0] = "model";
  char align[20] = "l";
  for (int k = 0; k < nc; k++) {
    if (open) {
      char v[24];
      si(cols[k], v, sizeof v);
      snprintf(hbuf[k], sizeof hbuf[k], "%s req/s", v);
    } else {
      snprintf(hbuf[k], sizeof hbuf[k], "%.0f conns", cols[k]);
    }
    head[k + 1] = hbuf[k];
    strcat(align, "r");
  }
  cb__doc_table(d, head, align, nc + 1);
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (!c->server || is_open(c) != open || strcmp(c->workload, workload) != 0 || !first_model(r, k, workload, open))
      continue;
    if (strcmp(c->status, cb_class_name(CB_CLASS_UNSUPPORTED)) == 0) continue;
    char cell[16][96];
    const char *row[17];
    row[0] = c->model;
    for (int j = 0; j < nc; j++) {
      figure(cell_at(r, workload, c->model, open, cols[j]), open, cell[j], sizeof cell[j]);
      row[j + 1] = cell[j];
    }
    cb__doc_row(d, row, nc + 1);
  }
  cb__doc_table_end(d);
}

/* Why the cells that failed did, one line each (the table only shows the class). */
static void failures(const cb_run_results *r, const char *workload, cb__doc *d) {
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (!c->server || c->verified || strcmp(c->workload, workload) != 0 ||
        strcmp(c->status, cb_class_name(CB_CLASS_UNSUPPORTED)) == 0)
      continue;
    if (is_open(c))
      cb__doc_list_item(d, "%s at %.0f req/s offered: %s: %s", c->model,
                        json_number_value(json_object_get(c->params, "rate")), c->status, c->error);
    else
      cb__doc_list_item(d, "%s at %lld connections: %s: %s", c->model, c->tasks, c->status, c->error);
  }
  cb__doc_list_end(d);
}

/* One servers.csv row per server cell. */
static void csv_rows(const cb_run_results *r, FILE *csv) {
  fprintf(csv, "workload,model,connections,rate,status,runs,req_per_s_median,req_per_s_min,req_per_s_max,p50_ms,p99_ms,"
               "p999_ms,max_ms,p99_uncorrected_ms,generator_cpu,generator_bound,server_cpus,generator_cpus,error\n");
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (!c->server) continue;
    fprintf(csv, "%s,%s,%lld,%.0f,%s,%zu,", c->workload, c->model, c->tasks,
            json_number_value(json_object_get(c->params, "rate")), c->status, c->srv.req_per_s.n);
    if (c->verified)
      fprintf(csv, "%.1f,%.1f,%.1f,%.4f,%.4f,%.4f,%.4f,%.4f,%.3f,%s,%s,%s,", c->srv.req_per_s.median,
              c->srv.req_per_s.min, c->srv.req_per_s.max, c->srv.p50_ms, c->srv.p99_ms, c->srv.p999_ms, c->srv.max_ms,
              c->srv.p99_uncorrected_ms, c->srv.generator_cpu, c->srv.generator_bound ? "true" : "false",
              c->srv.server_cpus, c->srv.generator_cpus);
    else
      fprintf(csv, ",,,,,,,,,,,,");
    fputc('"', csv);
    for (const char *e = c->verified ? "" : c->error; *e; e++) {
      if (*e == '"') fputc('"', csv);
      fputc(*e, csv);
    }
    fprintf(csv, "\"\n");
  }
}

void cb__report_servers(const cb_run_results *r, cb__doc *d, FILE *csv) {
  csv_rows(r, csv);
  int any = 0;
  for (size_t k = 0; k < r->ncells; k++) any |= r->cells[k].server;
  if (!any) return;
  cb__doc_heading(d, 2, "Servers");
  const cb_cell_summary *one = NULL;
  for (size_t k = 0; k < r->ncells && !one; k++)
    if (r->cells[k].server && r->cells[k].verified) one = &r->cells[k];
  cb__doc_para(d, "Each model serves, `bin/loadgen` is the client and checks every reply byte for byte "
                  "(docs/DESIGN.md, \"Servers\"). Closed loop: each connection sends its next request when the reply "
                  "to the last one is in (the maximum throughput). Open loop: a fixed offered rate; latency is counted "
                  "from when each request should have been sent, so a server that stalls is charged for the requests "
                  "that queued behind the stall (the uncorrected figure in brackets is what a naive client reports). "
                  "Medians over the timed runs. *gen-bound*: the generator used more than 90%% of its core, so the "
                  "figure is its limit, not the server's. nginx (one worker) is the ceiling. Server on CPUs %s, "
                  "generator on CPU %s.",
               one ? one->srv.server_cpus : "?", one ? one->srv.generator_cpus : "?");
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    int first = c->server;
    for (size_t j = 0; j < k && first; j++) first = strcmp(r->cells[j].workload, c->workload) != 0;
    if (!first) continue;
    table(r, c->workload, 0, d);
    table(r, c->workload, 1, d);
    failures(r, c->workload, d);
  }
}

int cb__report_hockey_data(const cb_run_results *r, FILE *f) {
  int rows = 0;
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *c = &r->cells[k];
    if (!is_open(c) || !c->verified || !first_model(r, k, c->workload, 1)) continue;
    double cols[16];
    int nc = columns(r, c->workload, 1, cols, 16);
    if (nc < 2) continue; /* one offered rate draws no curve */
    for (int j = 0; j < nc; j++) {
      const cb_cell_summary *e = cell_at(r, c->workload, c->model, 1, cols[j]);
      if (!e || !e->verified || !(e->srv.p99_ms > 0)) continue;
      char w[64], m[64];
      cb__safe_word(w, e->workload, sizeof w);
      cb__safe_word(m, e->model, sizeof m);
      fprintf(f, "%s %s %.0f %.4f %.0f\n", w, m, cols[j], e->srv.p99_ms, e->srv.req_per_s.median);
      rows++;
    }
  }
  return rows;
}
