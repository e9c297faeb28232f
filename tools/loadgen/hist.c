/* hist.c — see hist.h. Bucket layout: index v for v < 128; for v >= 128 with top
 * bit e (7 <= e < 37), index 128 × (e - 6) + the 7 bits below the top bit. */
#include <math.h>

#include "tools/loadgen/hist.h"

void cb_lat_hist_init(cb_lat_hist *h) {
  h->count = 0;
  h->min_ns = h->max_ns = 0;
  h->sum_ns = 0;
  for (int k = 0; k < CB_LAT_HIST_BUCKETS; k++) h->buckets[k] = 0;
}

int cb_lat_hist_index(int64_t ns) {
  if (ns < 0) ns = 0;
  if (ns > CB_LAT_HIST_MAX_NS) ns = CB_LAT_HIST_MAX_NS;
  uint64_t v = (uint64_t)ns;
  if (v < CB_LAT_HIST_SUB) return (int)v;
  int e = 63 - __builtin_clzll(v);
  int sub = (int)((v >> (e - CB_LAT_HIST_SUB_BITS)) & (CB_LAT_HIST_SUB - 1));
  return CB_LAT_HIST_SUB * (e - CB_LAT_HIST_SUB_BITS + 1) + sub;
}

void cb_lat_hist_bounds(int index, int64_t *low, int64_t *high) {
  if (index < CB_LAT_HIST_SUB) {
    *low = *high = index;
    return;
  }
  int e = index / CB_LAT_HIST_SUB + CB_LAT_HIST_SUB_BITS - 1, sub = index % CB_LAT_HIST_SUB;
  int64_t width = INT64_C(1) << (e - CB_LAT_HIST_SUB_BITS);
  *low = (INT64_C(1) << e) + sub * width;
  *high = *low + width - 1;
}

void cb_lat_hist_record(cb_lat_hist *h, int64_t ns) {
  if (ns < 0) ns = 0;
  h->buckets[cb_lat_hist_index(ns)]++;
  if (h->count == 0 || ns < h->min_ns) h->min_ns = ns;
  if (h->count == 0 || ns > h->max_ns) h->max_ns = ns;
  h->count++;
  h->sum_ns += (double)ns;
}

int64_t cb_lat_hist_percentile(const cb_lat_hist *h, double p) {
  if (h->count == 0) return 0;
  double want = ceil(p / 100.0 * (double)h->count);
  uint64_t rank = want < 1 ? 1 : want > (double)h->count ? h->count : (uint64_t)want;
  if (rank == h->count) return h->max_ns; /* the last value is known exactly */
  uint64_t seen = 0;
  for (int k = 0; k < CB_LAT_HIST_BUCKETS; k++) {
    seen += h->buckets[k];
    if (seen < rank) continue;
    if (k == CB_LAT_HIST_BUCKETS - 1) return h->max_ns; /* the top bucket holds everything above */
    int64_t low, high;
    cb_lat_hist_bounds(k, &low, &high);
    int64_t mid = low + (high - low) / 2;
    return mid < h->min_ns ? h->min_ns : mid > h->max_ns ? h->max_ns : mid;
  }
  return h->max_ns;
}

double cb_lat_hist_mean(const cb_lat_hist *h) { return h->count ? h->sum_ns / (double)h->count : 0; }
