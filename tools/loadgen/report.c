/* report.c — the run record of bin/loadgen: one compact JSON line on stdout (the
 * keys are listed in README.md). Latencies are milliseconds; a histogram with no
 * value gives nulls, a run that measured no time gives null rates. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/check.h"
#include "tools/loadgen/loadgen.h"

static json_t *hex64(uint64_t x) {
  char b[24];
  snprintf(b, sizeof b, "%016" PRIx64, x);
  return json_string(b);
}

static json_t *ms(double ns) { return json_real(ns / 1e6); }

static json_t *latency(const cb_lat_hist *h) {
  json_t *o = json_object();
  static const struct {
    const char *key;
    double p;
  } pcts[] = {{"p50", 50}, {"p90", 90}, {"p99", 99}, {"p999", 99.9}};
  for (size_t k = 0; k < sizeof pcts / sizeof pcts[0]; k++)
    json_object_set_new(o, pcts[k].key, h->count ? ms((double)cb_lat_hist_percentile(h, pcts[k].p)) : json_null());
  json_object_set_new(o, "max", h->count ? ms((double)h->max_ns) : json_null());
  json_object_set_new(o, "mean", h->count ? ms(cb_lat_hist_mean(h)) : json_null());
  return o;
}

void cb_loadgen_print(const cb_loadgen_opts *o, const cb_loadgen_result *r) {
  json_t *j = json_object();
  int timed = r->duration_s > 0;
  json_object_set_new(j, "tool", json_string("loadgen"));
  json_object_set_new(j, "mode", json_string(o->rate ? "open" : "closed"));
  json_object_set_new(j, "proto", json_string(o->proto == CB_LOADGEN_HTTP ? "http" : "echo"));
  json_object_set_new(j, "connections", json_integer(o->connections));
  json_object_set_new(j, "connected", json_integer(r->connected));
  json_object_set_new(j, "rate", o->rate ? json_integer((json_int_t)o->rate) : json_null());
  json_object_set_new(j, "duration_s", json_real(r->duration_s));
  json_object_set_new(j, "requests", json_integer((json_int_t)r->requests));
  json_object_set_new(j, "req_per_s", timed ? json_real((double)r->requests / r->duration_s) : json_null());
  json_object_set_new(j, "bytes_per_s", timed ? json_real((double)r->bytes / r->duration_s) : json_null());
  json_object_set_new(j, "errors", json_integer((json_int_t)r->errors));
  json_object_set_new(j, "timeouts", json_integer((json_int_t)r->timeouts));
  json_object_set_new(j, "wrong", json_integer((json_int_t)r->wrong));
  json_object_set_new(j, "reconnects", json_integer((json_int_t)r->reconnects));
  json_object_set_new(j, "unsent", json_integer((json_int_t)r->unsent));
  json_object_set_new(j, "total_sent", json_integer((json_int_t)r->total_sent));
  json_object_set_new(j, "total_ok", json_integer((json_int_t)r->total_ok));
  json_object_set_new(j, "latency_ms", latency(&r->corrected));
  json_object_set_new(j, "latency_uncorrected_ms", latency(&r->uncorrected));
  json_object_set_new(j, "generator_cpu", timed ? json_real(r->generator_cpu) : json_null());
  json_object_set_new(j, "generator_bound", json_boolean(timed && r->generator_cpu > 0.9));
  json_object_set_new(j, "checksum", hex64(r->checksum));
  json_object_set_new(j, "expected_checksum", hex64(r->expected_checksum));
  json_object_set_new(j, "verified", json_boolean(cb_loadgen_verified(r)));
  json_object_set_new(j, "error", r->error[0] ? json_string(r->error) : json_null());
  if (r->interrupted) json_object_set_new(j, "interrupted", json_true());
  char *line = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(9));
  CB_CHECK(line != NULL);
  printf("%s\n", line);
  fflush(stdout);
  free(line);
  json_decref(j);
}
