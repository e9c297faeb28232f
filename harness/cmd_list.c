/* cmd_list.c — `concbench list`: every model and workload with its parameters,
 * defaults and bounds. */
#include <stdio.h>

#include "harness/commands.h"
#include "runtimes/runtime.h"

int cb_cmd_list(int argc, char **argv) {
  if (argc != 0) {
    fprintf(stderr, "concbench list: takes no arguments\n");
    return 2;
  }
  size_t n;
  const cb_model *const *models = cb_model_all(&n);
  printf("models:\n");
  for (size_t k = 0; k < n; k++) printf("  %-8s %s\n", models[k]->name, models[k]->summary);
  const cb_workload *const *ws = cb_workload_all(&n);
  printf("workloads:\n");
  for (size_t k = 0; k < n; k++) {
    const cb_workload *w = ws[k];
    printf("  %-8s [%s] %s\n", w->name, cb_kind_name(w->kind), w->summary);
    for (int j = 0; j < w->nparams; j++) {
      const cb_param_def *d = &w->params[j];
      if (d->choices) {
        printf("      %-10s one of:", d->name);
        for (int c = 0; d->choices[c]; c++) printf(" %s", d->choices[c]);
        printf(" (default %s)  %s\n", d->choices[d->def], d->help);
      } else {
        printf("      %-10s default %lld, from %lld to %lld  %s\n", d->name, (long long)d->def,
               (long long)d->min, (long long)d->max, d->help);
      }
    }
  }
  return 0;
}
