/* inproc.c — see inproc.h. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tests/helpers/inproc.h"

void inproc_params(const cb_workload *w, cb_params *p, const char *const overrides[]) {
  for (int k = 0; k < w->nparams; k++) p->v[k] = w->params[k].def;
  for (int k = 0; overrides && overrides[k]; k++) {
    const char *eq = strchr(overrides[k], '=');
    cr_assert_not_null(eq);
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(eq - overrides[k]), overrides[k]);
    int idx = cb_param_index(w, name);
    cr_assert_geq(idx, 0, "no parameter %s in %s", name, w->name);
    const cb_param_def *d = &w->params[idx];
    int found = 0;
    for (int c = 0; d->choices && d->choices[c]; c++)
      if (strcmp(d->choices[c], eq + 1) == 0) {
        p->v[idx] = c;
        found = 1;
      }
    if (!found) cr_assert_eq(cb_parse_int(eq + 1, d->min, d->max, &p->v[idx]), 0, "bad value %s", overrides[k]);
  }
}

void inproc_execute(inproc_run *r, const cb_model *m, const cb_workload *w,
                    const char *const overrides[], uint64_t tasks, uint64_t conc,
                    const char *server_url) {
  memset(r, 0, sizeof *r);
  inproc_params(w, &r->params, overrides);
  r->env = (cb_job_env){.workload = w, .params = &r->params, .server_url = server_url};
  r->spec = (cb_run_spec){.workload = w, .env = &r->env, .tasks = tasks, .concurrency = conc};
  r->report.jobs = calloc(tasks, sizeof *r->report.jobs);
  char err[CB_ERR_LEN] = "";
  if (w->prepare) cr_assert_eq(w->prepare(&r->env, err), 0, "%s: prepare: %s", w->name, err);
  r->rc = w->run_custom ? w->run_custom(m, &r->spec, &r->report) : m->run(&r->spec, &r->report);
  cb_verify(&r->spec, r->report.jobs, &r->verdict);
}

void inproc_free(inproc_run *r) {
  if (r->env.workload && r->env.workload->release) r->env.workload->release(&r->env);
  free(r->report.jobs);
}

void inproc_start_delayd(cb_server *s) {
  setenv("CONCBENCH_DELAYD", CB_BIN_DIR "/delayd", 1);
  char err[256];
  cr_assert_eq(cb_server_start(s, err, sizeof err), 0, "delayd: %s", err);
}
