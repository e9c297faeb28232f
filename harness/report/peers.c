/* peers.c — the report's view of the peers (runtimes/peer/README.md): which rows
 * are peers, and the seed's experiment side by side: each peer's cell beside the
 * cell of the C model it does the same as (cb_peer_counterpart), same workload,
 * parameters, N, C and cores. Job phases are compared (a peer's is timed after its
 * interpreter started; the start-up is its own column). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness/report/peers.h"
#include "runtimes/peer/peer.h"

int cb__report_is_peer(const char *model) {
  const cb_model *m = cb_model_find(model);
  return m && m->peer;
}

const char *cb__report_label(const char *model, char *buf, size_t cap) {
  snprintf(buf, cap, "%s%s", model, cb__report_is_peer(model) ? " (peer)" : "");
  return buf;
}

/* The verified cell of model with c's workload, params, N, C and cores, or NULL. */
static const cb_cell_summary *same_cell(const cb_run_results *r, const cb_cell_summary *c, const char *model) {
  for (size_t k = 0; k < r->ncells; k++) {
    const cb_cell_summary *o = &r->cells[k];
    if (strcmp(o->model, model) == 0 && strcmp(o->workload, c->workload) == 0 && o->tasks == c->tasks &&
        o->concurrency == c->concurrency && o->cores == c->cores && json_equal(o->params, c->params))
      return o;
  }
  return NULL;
}

static void seconds(char *out, size_t cap, const cb_cell_summary *c) {
  if (c && c->verified) snprintf(out, cap, "%.3f", c->job_wall.median);
  else snprintf(out, cap, "%s", c ? c->status : "not run");
}

/* One peer cell beside its counterpart's. */
static void row(const cb_run_results *r, const cb_cell_summary *c, cb__doc *d) {
  const char *cp = cb_peer_counterpart(cb_model_find(c->model));
  const cb_cell_summary *o = cp ? same_cell(r, c, cp) : NULL;
  char n[24], cores[16], cs[32], ps[32], x[24] = "—", cpu[24] = "—", rss[24] = "—", up[24] = "—", peer[48];
  snprintf(n, sizeof n, "%lld", c->tasks);
  snprintf(cores, sizeof cores, "%d", c->cores);
  seconds(cs, sizeof cs, o);
  seconds(ps, sizeof ps, c);
  cb__report_label(c->model, peer, sizeof peer);
  if (c->verified) {
    if (o && o->verified && o->job_wall.median > 0) snprintf(x, sizeof x, "%.2f×", c->job_wall.median / o->job_wall.median);
    snprintf(cpu, sizeof cpu, "%.3f", c->cpu_s);
    snprintf(rss, sizeof rss, "%.1f", c->tree_rss_kb / 1024);
    double s = cb_results_figure(c, "startup_s");
    if (!isnan(s)) snprintf(up, sizeof up, "%.3f", s);
  }
  const char *cells[] = {c->workload, n, cores, cp ? cp : "—", cs, peer, ps, x, cpu, rss, up};
  cb__doc_row(d, cells, 11);
}

void cb__report_peers(const cb_run_results *r, cb__doc *d) {
  size_t nw, rows = 0;
  const cb_workload *const *ws = cb_workload_all(&nw);
  for (size_t k = 0; k < r->ncells; k++) rows += cb__report_is_peer(r->cells[k].model);
  if (rows == 0) return;
  cb__doc_heading(d, 2, "The seed's experiment: each C model beside its Python original, and Go");
  cb__doc_para(d, "The peers (runtimes/peer/README.md) are the seed's programs in Python (as the seed writes them, "
                  "and the idiomatic asyncio) and Go, run by the same harness against the same delayd; every job's "
                  "result is checked as the C models' are. Job phases, medians over the timed runs (a peer's starts "
                  "after its interpreter and imports: start-up is its own column); × is the peer's job phase over "
                  "the C model's. Go's goroutines stand beside green threads (stackful, M:N).");
  static const char *const head[] = {"workload", "N", "cores", "C model", "job phase (s)", "peer",
                                     "job phase (s)", "×", "CPU (s)", "tree RSS (MiB)", "start-up (s)"};
  cb__doc_table(d, head, "lrrlrlrrrrr", 11);
  size_t np;
  const cb_model *const *peers = cb_peer_all(&np);
  for (size_t w = 0; w < nw; w++)
    for (size_t g = 0; g < r->ncells; g++) { /* each (N, cores) of the workload, in the run's order */
      const cb_cell_summary *first = &r->cells[g];
      int seen = strcmp(first->workload, ws[w]->name) != 0;
      for (size_t j = 0; j < g && !seen; j++)
        seen = strcmp(r->cells[j].workload, first->workload) == 0 && r->cells[j].tasks == first->tasks &&
               r->cells[j].cores == first->cores;
      if (seen) continue;
      for (size_t p = 0; p < np; p++) /* the peers in list order */
        for (size_t k = g; k < r->ncells; k++) {
          const cb_cell_summary *c = &r->cells[k];
          if (strcmp(c->model, peers[p]->name) == 0 && strcmp(c->workload, first->workload) == 0 &&
              c->tasks == first->tasks && c->cores == first->cores)
            row(r, c, d);
        }
    }
  cb__doc_table_end(d);
}
