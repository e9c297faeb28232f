/* hist.h — the load generator's latency histogram: log-linear buckets in the manner
 * of HdrHistogram, fixed size, no allocation.
 *
 * Values are nanoseconds. Below 2^CB_LAT_HIST_SUB_BITS (128 ns) each value has its
 * own bucket; above, every power of two [2^e, 2^(e+1)) is cut into 128 equal
 * buckets, so a bucket is at most 1/128 (0.79%) of its lower bound wide and a
 * percentile read as the bucket's midpoint is within 0.4% of a recorded value.
 * Values above CB_LAT_HIST_MAX_NS (about 137 s, over the 100 s a latency may take)
 * are counted in the top bucket; the exact minimum, maximum and sum are kept apart,
 * so max and mean are exact. Recording is O(1): a count leading zeros and a shift. */
#ifndef CB_LAT_HIST_H
#define CB_LAT_HIST_H

#include <stdint.h>

#define CB_LAT_HIST_SUB_BITS 7
#define CB_LAT_HIST_SUB (1 << CB_LAT_HIST_SUB_BITS)
#define CB_LAT_HIST_TOP_EXP 37 /* values up to 2^37 - 1 ns */
#define CB_LAT_HIST_MAX_NS ((INT64_C(1) << CB_LAT_HIST_TOP_EXP) - 1)
#define CB_LAT_HIST_BUCKETS (CB_LAT_HIST_SUB * (CB_LAT_HIST_TOP_EXP - CB_LAT_HIST_SUB_BITS + 1))

typedef struct cb_lat_hist {
  uint64_t count;
  int64_t min_ns, max_ns; /* exact; meaningful when count > 0 */
  double sum_ns;          /* for the mean; a double does not overflow */
  uint64_t buckets[CB_LAT_HIST_BUCKETS];
} cb_lat_hist;

/* Empties h. */
void cb_lat_hist_init(cb_lat_hist *h);

/* Records one value; negative values count as 0, values over CB_LAT_HIST_MAX_NS in
 * the top bucket (max_ns stays exact). */
void cb_lat_hist_record(cb_lat_hist *h, int64_t ns);

/* The value at percentile p (0 < p <= 100): the smallest recorded bucket whose
 * cumulative count reaches ceil(p/100 × count), as the bucket's midpoint clamped to
 * [min_ns, max_ns]; max_ns itself when that rank is the last value or the bucket is
 * the top one. 0 when h is empty. */
int64_t cb_lat_hist_percentile(const cb_lat_hist *h, double p);

/* The mean of the recorded values (exact), 0 when empty. */
double cb_lat_hist_mean(const cb_lat_hist *h);

/* Bucket index of a value and the bucket's [low, high] bounds (for tests). */
int cb_lat_hist_index(int64_t ns);
void cb_lat_hist_bounds(int index, int64_t *low, int64_t *high);

#endif
