/* timer_heap.c — the heap half of the timer queue (timer_heap.h): a binary min-heap
 * by (when, seq) in one array that grows by doubling; each node knows its slot. */
#include <stdlib.h>

#include "common/timer_heap.h"

void cb__timer_heap_init(cb_timer_heap *q, ptrdiff_t link_off) {
  cb__list_init(&q->lane);
  q->heap = NULL;
  q->heap_len = q->heap_cap = 0;
  q->seq = 0;
  q->count = 0;
  q->link_off = link_off;
}

void cb__timer_heap_free(cb_timer_heap *q) {
  free(q->heap);
  cb__timer_heap_init(q, q->link_off);
}

static void set(cb_timer_heap *q, uint32_t i, cb_timer_node *n) {
  q->heap[i] = n;
  n->heap_idx = i;
}

static void sift_up(cb_timer_heap *q, uint32_t i) {
  cb_timer_node *n = q->heap[i];
  while (i > 0) {
    uint32_t p = (i - 1) / 2;
    if (!cb__timer_before(n, q->heap[p])) break;
    set(q, i, q->heap[p]);
    i = p;
  }
  set(q, i, n);
}

static void sift_down(cb_timer_heap *q, uint32_t i) {
  cb_timer_node *n = q->heap[i];
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= q->heap_len) break;
    if (c + 1 < q->heap_len && cb__timer_before(q->heap[c + 1], q->heap[c])) c++;
    if (!cb__timer_before(q->heap[c], n)) break;
    set(q, i, q->heap[c]);
    i = c;
  }
  set(q, i, n);
}

/* Contract: see timer_heap.h (called by cb__timer_heap_add with `when` and `seq` set
 * and count updated). O(log n); a realloc when the array is full. */
void cb__timer_heap_sift_in(cb_timer_heap *q, cb_timer_node *n) {
  if (q->heap_len == q->heap_cap) {
    uint32_t cap = q->heap_cap ? 2 * q->heap_cap : 64;
    CB_CHECK(cap > q->heap_cap);
    cb_timer_node **h = realloc(q->heap, cap * sizeof *h);
    CB_CHECK(h != NULL);
    q->heap = h;
    q->heap_cap = cap;
  }
  n->where = CB__TIMER_HEAP;
  q->heap[q->heap_len++] = n;
  sift_up(q, q->heap_len - 1);
}

/* Takes n out of the heap: the last node fills its slot and moves up or down. */
void cb__timer_heap_sift_out(cb_timer_heap *q, cb_timer_node *n) {
  uint32_t i = n->heap_idx;
  CB_CHECK(i < q->heap_len && q->heap[i] == n);
  cb_timer_node *last = q->heap[--q->heap_len];
  if (last == n) return;
  set(q, i, last);
  if (i > 0 && cb__timer_before(last, q->heap[(i - 1) / 2]))
    sift_up(q, i);
  else
    sift_down(q, i);
}
