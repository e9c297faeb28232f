/* registry.c — every model the CLI offers, in the order `concbench list` shows them
 * (the peers after them: runtimes/peer/peers.c). */
#include <string.h>

#include "runtimes/runtime.h"
#include "runtimes/models.h"
#include "runtimes/green/green.h"
#include "runtimes/loop/model.h"

static const cb_model *const models[] = {
    &cb_model_sync,
    &cb_model_threads,
    &cb_model_procs,
    &cb_model_green,
    &cb_model_green_mn,
    &cb_model_loop,
    &cb_model_nginx, /* reference: serves only */
};

const cb_model *const *cb_model_all(size_t *count) {
  *count = sizeof models / sizeof models[0];
  return models;
}

const cb_model *cb_model_find(const char *name) {
  for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
    if (strcmp(models[i]->name, name) == 0) return models[i];
  size_t n;
  const cb_model *const *peers = cb_peer_all(&n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(peers[i]->name, name) == 0) return peers[i];
  return NULL;
}
