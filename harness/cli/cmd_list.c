/* cmd_list.c — `concbench list [--json]`: every model (a reference such as nginx
 * marked so), every peer (marked so, with what is missing when it is not installed)
 * and workload with its parameters, defaults and bounds (a model's own parameters,
 * such as green-mn's workers, under the model); --json gives the same as one
 * JSON object for tools that discover what a binary offers. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "harness/cli/commands.h"
#include "runtimes/runtime.h"

/* A workload's or a model's parameters, as a JSON array (new reference). */
static json_t *params_json(const cb_param_def *defs, int n) {
  json_t *params = json_array();
  for (int j = 0; j < n; j++) {
    const cb_param_def *d = &defs[j];
    json_t *p = json_pack("{s:s, s:s}", "name", d->name, "help", d->help);
    if (d->choices) {
      json_t *choices = json_array();
      for (int c = 0; d->choices[c]; c++) json_array_append_new(choices, json_string(d->choices[c]));
      json_object_set_new(p, "choices", choices);
      json_object_set_new(p, "default", json_string(d->choices[d->def]));
    } else {
      json_object_set_new(p, "default", json_integer(d->def));
      json_object_set_new(p, "min", json_integer(d->min));
      json_object_set_new(p, "max", json_integer(d->max));
    }
    json_array_append_new(params, p);
  }
  return params;
}

/* One line per parameter, indented under its workload or model. */
static void print_params(const cb_param_def *defs, int n) {
  for (int j = 0; j < n; j++) {
    const cb_param_def *d = &defs[j];
    if (d->choices) {
      printf("      %-10s one of:", d->name);
      for (int c = 0; d->choices[c]; c++) printf(" %s", d->choices[c]);
      printf(" (default %s)  %s\n", d->choices[d->def], d->help);
    } else {
      printf("      %-10s default %lld, from %lld to %lld  %s\n", d->name, (long long)d->def, (long long)d->min,
             (long long)d->max, d->help);
    }
  }
}

static int list_json(void) {
  size_t n;
  json_t *out = json_object(), *models = json_array(), *workloads = json_array();
  const cb_model *const *ms = cb_model_all(&n);
  for (size_t k = 0; k < n; k++)
    json_array_append_new(models, json_pack("{s:s, s:s, s:b, s:b, s:o}", "name", ms[k]->name, "summary",
                                            ms[k]->summary, "reference", ms[k]->reference, "serves",
                                            ms[k]->serve != NULL, "params", params_json(ms[k]->params, ms[k]->nparams)));
  json_t *peers = json_array();
  const cb_model *const *ps = cb_peer_all(&n);
  for (size_t k = 0; k < n; k++) {
    char why[512];
    int ok = !ps[k]->available || ps[k]->available(why, sizeof why) == 0;
    json_t *p = json_pack("{s:s, s:s, s:b, s:b}", "name", ps[k]->name, "summary", ps[k]->summary, "peer", 1,
                          "installed", ok);
    if (!ok) json_object_set_new(p, "missing", json_string(why));
    json_array_append_new(peers, p);
  }
  const cb_workload *const *ws = cb_workload_all(&n);
  for (size_t k = 0; k < n; k++) {
    const cb_workload *w = ws[k];
    json_array_append_new(workloads, json_pack("{s:s, s:s, s:s, s:b, s:o}", "name", w->name, "kind",
                                               cb_kind_name(w->kind), "summary", w->summary, "needs_server",
                                               w->needs_server, "params", params_json(w->params, w->nparams)));
  }
  json_object_set_new(out, "models", models);
  json_object_set_new(out, "peers", peers);
  json_object_set_new(out, "workloads", workloads);
  char *text = json_dumps(out, JSON_INDENT(2));
  CB_CHECK(text != NULL);
  puts(text);
  free(text);
  json_decref(out);
  return 0;
}

int cb_cmd_list(int argc, char **argv) {
  if (argc == 1 && strcmp(argv[0], "--json") == 0) return list_json();
  if (argc != 0) {
    fprintf(stderr, "concbench list: unknown argument '%s'; allowed: --json\n", argv[0]);
    return 2;
  }
  size_t n;
  const cb_model *const *models = cb_model_all(&n);
  printf("models:\n");
  for (size_t k = 0; k < n; k++) {
    printf("  %-8s %s%s\n", models[k]->name, models[k]->reference ? "[reference] " : "", models[k]->summary);
    print_params(models[k]->params, models[k]->nparams);
  }
  const cb_model *const *peers = cb_peer_all(&n);
  printf("peers (programs in Python and Go, runtimes/peer; make deps PEERS=1 installs what they need):\n");
  for (size_t k = 0; k < n; k++) {
    char why[512];
    if (peers[k]->available && peers[k]->available(why, sizeof why) != 0)
      printf("  %-16s [peer, not installed: %s] %s\n", peers[k]->name, why, peers[k]->summary);
    else
      printf("  %-16s [peer] %s\n", peers[k]->name, peers[k]->summary);
  }
  const cb_workload *const *ws = cb_workload_all(&n);
  printf("workloads:\n");
  for (size_t k = 0; k < n; k++) {
    const cb_workload *w = ws[k];
    printf("  %-8s [%s] %s\n", w->name, cb_kind_name(w->kind), w->summary);
    print_params(w->params, w->nparams);
  }
  return 0;
}
