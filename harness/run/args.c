/* args.c — parses `concbench run` arguments into a cell. Every rejection is one
 * line on stderr naming the argument and what is allowed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/run/cell.h"
#include "common/util.h"
#include "servers/delayd/delayd.h"

#define reject(...) cb_usage_error("concbench run", __VA_ARGS__)

static void list_names(char *buf, size_t cap, int models) {
  size_t n, used = 0;
  buf[0] = '\0';
  if (models) {
    const cb_model *const *all = cb_model_all(&n);
    for (size_t k = 0; k < n; k++)
      used += (size_t)snprintf(buf + used, cap - used, "%s%s", k ? ", " : "", all[k]->name);
  } else {
    const cb_workload *const *all = cb_workload_all(&n);
    for (size_t k = 0; k < n; k++)
      used += (size_t)snprintf(buf + used, cap - used, "%s%s", k ? ", " : "", all[k]->name);
  }
}

static int parse_size(const char *s, size_t *out) {
  char num[32];
  size_t len = strlen(s), mult = 1;
  if (len == 0 || len >= sizeof num) return -EINVAL;
  memcpy(num, s, len + 1);
  char last = num[len - 1];
  if (last == 'k' || last == 'K') mult = 1024;
  else if (last == 'm' || last == 'M') mult = 1024 * 1024;
  if (mult != 1) num[len - 1] = '\0';
  int64_t v;
  if (cb_parse_int(num, 1, INT64_MAX / (1024 * 1024), &v) != 0) return -EINVAL;
  *out = (size_t)v * mult;
  return 0;
}

static int set_param(cb_cell *cell, const char *kv, int *seen) {
  const cb_workload *w = cell->workload;
  const char *eq = strchr(kv, '=');
  char name[64];
  if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof name)
    return reject("--param: expected NAME=VALUE, got '%s'", kv);
  memcpy(name, kv, (size_t)(eq - kv));
  name[eq - kv] = '\0';
  int k = cb_param_index(w, name);
  const cb_model *m = cell->model;
  for (int j = 0; k < 0 && j < m->nparams; j++)
    if (strcmp(m->params[j].name, name) == 0) {
      if (seen[CB_MAX_PARAMS + j]) return reject("--param: '%s' given twice", name);
      seen[CB_MAX_PARAMS + j] = 1;
      if (cb_parse_int(eq + 1, m->params[j].min, m->params[j].max, &cell->model_params[j]) != 0)
        return reject("--param: %s of model %s must be an integer from %lld to %lld, got '%s'", name, m->name,
                      (long long)m->params[j].min, (long long)m->params[j].max, eq + 1);
      return 0;
    }
  if (k < 0) {
    char allowed[256] = "";
    size_t used = 0;
    for (int j = 0; j < w->nparams; j++)
      used += (size_t)snprintf(allowed + used, sizeof allowed - used, "%s%s", j ? ", " : "", w->params[j].name);
    for (int j = 0; j < m->nparams; j++)
      used += (size_t)snprintf(allowed + used, sizeof allowed - used, "%s%s", used ? ", " : "", m->params[j].name);
    return reject("--param: workload %s and model %s have no parameter '%s'; allowed: %s", w->name, m->name, name,
                  used ? allowed : "none");
  }
  if (seen[k]) return reject("--param: '%s' given twice", name);
  seen[k] = 1;
  const cb_param_def *d = &w->params[k];
  if (d->choices) {
    for (int c = 0; d->choices[c]; c++)
      if (strcmp(d->choices[c], eq + 1) == 0) {
        cell->params.v[k] = c;
        return 0;
      }
    char allowed[256] = "";
    size_t used = 0;
    for (int c = 0; d->choices[c]; c++)
      used += (size_t)snprintf(allowed + used, sizeof allowed - used, "%s%s", c ? ", " : "", d->choices[c]);
    return reject("--param: %s of %s must be one of: %s", name, w->name, allowed);
  }
  if (cb_parse_int(eq + 1, d->min, d->max, &cell->params.v[k]) != 0)
    return reject("--param: %s of %s must be an integer from %lld to %lld, got '%s'", name, w->name,
                  (long long)d->min, (long long)d->max, eq + 1);
  return 0;
}

/* HOST:PORT with a numeric port; HOST must be loopback unless remote is allowed
 * (checked by the caller once every argument is read). */
static int check_hostport(const char *flag, const char *v) {
  const char *colon = strrchr(v, ':');
  int64_t port;
  if (!colon || colon == v || cb_parse_int(colon + 1, 0, 65535, &port) != 0)
    return reject("%s: expected HOST:PORT with a port from 0 to 65535, got '%s'", flag, v);
  return 0;
}

static int is_loopback_hostport(const char *v) {
  char host[256];
  size_t n = (size_t)(strrchr(v, ':') - v);
  if (n >= sizeof host) return 0;
  memcpy(host, v, n);
  host[n] = '\0';
  if (n >= 2 && host[0] == '[' && host[n - 1] == ']') memmove(host, host + 1, n - 2), host[n - 2] = '\0';
  return cb_is_loopback_host(host);
}

int cb_cell_parse(int argc, char **argv, int serve, cb_cell *cell) {
  memset(cell, 0, sizeof *cell);
  const char *model = NULL, *workload = NULL, *params[64];
  int nparams = 0;
  int64_t tasks = -1, conc = 0;
  char names[512];
  for (int k = 0; k < argc; k++) {
    const char *a = argv[k];
    const char *v = k + 1 < argc ? argv[k + 1] : NULL;
    if (strcmp(a, "--allow-remote") == 0) {
      cell->allow_remote = 1;
      continue;
    }
    if (serve && (strcmp(a, "--listen") == 0 || strcmp(a, "--seconds") == 0)) {
      if (!v) return reject("%s needs a value", a);
      k++;
      if (strcmp(a, "--listen") == 0) {
        if (check_hostport(a, v) != 0) return -EINVAL;
        cell->listen = v;
      } else if (cb_parse_int(v, 1, 31 * 86400, &cell->seconds) != 0) {
        return reject("--seconds: must be an integer from 1 to %d, got '%s'", 31 * 86400, v);
      }
      continue;
    }
    if (!serve && strcmp(a, "--target") == 0) {
      if (!v) return reject("%s needs a value", a);
      k++;
      if (check_hostport(a, v) != 0) return -EINVAL;
      cell->target = v;
      continue;
    }
    int takes_value = strcmp(a, "--model") == 0 || strcmp(a, "--workload") == 0 ||
                      strcmp(a, "--tasks") == 0 || strcmp(a, "--concurrency") == 0 ||
                      strcmp(a, "--param") == 0 || strcmp(a, "--server") == 0 ||
                      strcmp(a, "--stack-size") == 0 || strcmp(a, "--out") == 0;
    if (!takes_value) return reject("unknown argument '%s'; see concbench %s --help", a, serve ? "serve" : "run");
    if (!v) return reject("%s needs a value", a);
    k++;
    if (strcmp(a, "--model") == 0) model = v;
    else if (strcmp(a, "--workload") == 0) workload = v;
    else if (strcmp(a, "--server") == 0) cell->server = v;
    else if (strcmp(a, "--out") == 0) cell->out_path = v;
    else if (strcmp(a, "--param") == 0) {
      if (nparams == (int)(sizeof params / sizeof params[0])) return reject("--param: too many");
      params[nparams++] = v;
    } else if (strcmp(a, "--tasks") == 0) {
      if (cb_parse_int(v, 1, CB_MAX_TASKS, &tasks) != 0)
        return reject("--tasks: must be an integer from 1 to %d, got '%s'", CB_MAX_TASKS, v);
    } else if (strcmp(a, "--concurrency") == 0) {
      if (cb_parse_int(v, 1, CB_MAX_CONCURRENCY, &conc) != 0)
        return reject("--concurrency: must be an integer from 1 to %d, got '%s'", CB_MAX_CONCURRENCY, v);
    } else if (strcmp(a, "--stack-size") == 0) {
      if (parse_size(v, &cell->stack_size) != 0 || cell->stack_size < 16 * 1024 ||
          cell->stack_size > 256 * 1024 * 1024)
        return reject("--stack-size: must be from 16K to 256M (bytes, or with a K or M suffix), got '%s'", v);
    }
  }
  if (!model) {
    list_names(names, sizeof names, 1);
    return reject("--model is required; one of: %s", names);
  }
  if (!(cell->model = cb_model_find(model))) {
    list_names(names, sizeof names, 1);
    return reject("--model: unknown model '%s'; one of: %s (and the peers concbench list shows)", model, names);
  }
  char why[512];
  if (cell->model->available && cell->model->available(why, sizeof why) != 0)
    return reject("--model: %s is not installed here: it %s; make deps PEERS=1 installs the peers", model, why);
  if (!workload) {
    list_names(names, sizeof names, 0);
    return reject("--workload is required; one of: %s", names);
  }
  if (!(cell->workload = cb_workload_find(workload))) {
    list_names(names, sizeof names, 0);
    return reject("--workload: unknown workload '%s'; one of: %s", workload, names);
  }
  const cb_workload *w = cell->workload;
  for (int j = 0; j < w->nparams; j++) cell->params.v[j] = w->params[j].def;
  for (int j = 0; j < cell->model->nparams; j++) cell->model_params[j] = cell->model->params[j].def;
  int seen[2 * CB_MAX_PARAMS] = {0}; /* the workload's, then the model's */
  for (int j = 0; j < nparams; j++)
    if (set_param(cell, params[j], seen) != 0) return -EINVAL;
  cell->tasks = tasks > 0 ? (uint64_t)tasks : serve ? 10000 : 10;
  if (serve && !cell->listen) cell->listen = "127.0.0.1:0";
  if ((serve || cell->target) && w->kind != CB_KIND_SERVER)
    return reject("%s: workload %s is not a server workload (see concbench list: kind server)",
                  serve ? "--workload" : "--target", w->name);
  const char *where = serve ? cell->listen : cell->target;
  if (where && !cell->allow_remote && !is_loopback_hostport(where))
    return reject("%s: %s is not a loopback address; add --allow-remote to %s another host", serve ? "--listen" : "--target",
                  where, serve ? "serve" : "load");
  if (cell->allow_remote && !where) return reject("--allow-remote: only with %s", serve ? "--listen" : "--target");
  cell->concurrency = (uint64_t)conc;
  if (cell->server && !w->needs_server)
    return reject("--server: workload %s makes no requests; drop --server", w->name);
  /* Last, so that no other bad argument leaves a file behind. */
  if (cell->out_path && !(cell->out = fopen(cell->out_path, "ae")))
    return reject("--out: cannot append to '%s': %s", cell->out_path, strerror(errno));
  return 0;
}
