/* models.h — the built-in OS-level models; registry.c lists them with the others. */
#ifndef CB_MODELS_H
#define CB_MODELS_H

#include "runtimes/runtime.h"

extern const cb_model cb_model_sync;
extern const cb_model cb_model_threads;
extern const cb_model cb_model_procs;
extern const cb_model cb_model_nginx; /* runtimes/nginx: a reference server */

#endif
