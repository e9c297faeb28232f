/* timer_heap.h — the timer queue of the green scheduler's deadlines
 * (runtimes/green/deadline.c) and of the loop's call_later/call_at
 * (runtimes/loop/timer.c): a deadline-ordered FIFO lane plus a binary min-heap.
 *
 * Most programs queue timers with the same delay (every sleep(1 s) of a benchmark,
 * every timeout of a server), so deadlines arrive non-decreasing: those append to the
 * lane (a cb_list) in O(1) and leave it in O(1). A deadline earlier than the lane's
 * tail goes to the heap, O(log n). The earliest timer is the smaller of the two heads.
 *
 * Semantics (one for both runtimes):
 *   - Order: by `when` (ns on the caller's clock), then by insertion. Every add takes
 *     the next sequence number, so equal deadlines leave in the order they were added
 *     (asyncio's call_later order in the loop, FIFO wake-ups of green sleepers), and a
 *     node removed and added again goes behind every node already queued with its
 *     deadline.
 *   - A node is caller-owned; zeroed storage is a node not queued. Adding a queued
 *     node is a broken invariant (CB_CHECK); removing one that is not queued does
 *     nothing and returns 0.
 *   - The lane links a node through a cb_list the owner embeds at a fixed offset from
 *     the node (link_off, CB__TIMER_LINK_OFF, given to init). The queue uses that link
 *     only while the node is on the lane, and it must be unlinked when the node is
 *     added (CB_CHECK); the rest of the time it is the owner's: the loop moves a fired
 *     timer to its ready queue through it, so a cb_timer carries one link, not two.
 *   - No allocation but the heap's array (doubling from 64 slots, freed by
 *     cb__timer_heap_free). add and remove: O(1) on the lane (inline, below), O(log n)
 *     in the heap (timer_heap.c); min: O(1).
 * Not thread-safe: one queue belongs to one scheduler or loop. */
#ifndef CB_COMMON_TIMER_HEAP_H
#define CB_COMMON_TIMER_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "common/check.h"
#include "common/list.h"

enum { CB__TIMER_NONE, CB__TIMER_LANE, CB__TIMER_HEAP };

typedef struct cb_timer_node {
  uint64_t when;     /* deadline, ns */
  uint64_t seq;      /* insertion order among equal deadlines */
  uint32_t heap_idx; /* slot in the heap while there */
  uint8_t where;     /* CB__TIMER_NONE (not queued), _LANE or _HEAP */
} cb_timer_node;

typedef struct cb_timer_heap {
  cb_list lane;          /* non-decreasing deadlines, FIFO */
  cb_timer_node **heap;  /* the others: binary min-heap by (when, seq) */
  uint32_t heap_len, heap_cap;
  uint64_t seq;          /* next insertion number */
  uint64_t count;        /* nodes queued (lane + heap) */
  ptrdiff_t link_off;    /* address of a node's lane link minus the node's */
} cb_timer_heap;

/* link_off of nodes embedded as type.node_member with their lane link at
 * type.link_member. */
#define CB__TIMER_LINK_OFF(type, node_member, link_member) \
  ((ptrdiff_t)offsetof(type, link_member) - (ptrdiff_t)offsetof(type, node_member))

/* An empty queue whose nodes' lane links sit at link_off from them. */
void cb__timer_heap_init(cb_timer_heap *q, ptrdiff_t link_off);
/* Frees the heap's array and leaves q empty (usable again); nodes still queued are
 * forgotten as they are: their owner must not hand them to q again. */
void cb__timer_heap_free(cb_timer_heap *q);
/* The heap halves of add and remove (timer_heap.c): O(log n). */
void cb__timer_heap_sift_in(cb_timer_heap *q, cb_timer_node *n);
void cb__timer_heap_sift_out(cb_timer_heap *q, cb_timer_node *n);

static inline int cb__timer_queued(const cb_timer_node *n) { return n->where != CB__TIMER_NONE; }

static inline cb_list *cb__timer_link(const cb_timer_heap *q, cb_timer_node *n) {
  return (cb_list *)(void *)((char *)n + q->link_off);
}

static inline cb_timer_node *cb__timer_of_link(const cb_timer_heap *q, cb_list *l) {
  return (cb_timer_node *)(void *)((char *)l - q->link_off);
}

/* 1 if a leaves before b: earlier deadline, or the same one added earlier. */
static inline int cb__timer_before(const cb_timer_node *a, const cb_timer_node *b) {
  return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

/* Queues n (not queued, its lane link unlinked) for deadline `when`. O(1) when `when`
 * is not earlier than the lane's last deadline, else O(log n). */
static inline void cb__timer_heap_add(cb_timer_heap *q, cb_timer_node *n, uint64_t when) {
  cb_list *link = cb__timer_link(q, n);
  CB_CHECK(n->where == CB__TIMER_NONE && !cb__list_linked(link));
  n->when = when;
  n->seq = q->seq++;
  q->count++;
  if (cb__list_empty(&q->lane) || when >= cb__timer_of_link(q, q->lane.prev)->when) {
    n->where = CB__TIMER_LANE;
    cb__list_push_back(&q->lane, link);
    return;
  }
  cb__timer_heap_sift_in(q, n);
}

/* Dequeues n: 1 if it was queued, 0 (and nothing done) if not. O(1) on the lane,
 * O(log n) in the heap. */
static inline int cb__timer_heap_remove(cb_timer_heap *q, cb_timer_node *n) {
  if (n->where == CB__TIMER_NONE) return 0;
  if (n->where == CB__TIMER_LANE)
    cb__list_remove(cb__timer_link(q, n));
  else
    cb__timer_heap_sift_out(q, n);
  n->where = CB__TIMER_NONE;
  q->count--;
  return 1;
}

/* The earliest queued node (not removed), or NULL when q is empty. O(1). */
static inline cb_timer_node *cb__timer_heap_min(const cb_timer_heap *q) {
  cb_timer_node *a = cb__list_empty(&q->lane) ? NULL : cb__timer_of_link(q, q->lane.next);
  cb_timer_node *b = q->heap_len ? q->heap[0] : NULL;
  if (!a) return b;
  if (!b) return a;
  return cb__timer_before(a, b) ? a : b;
}

/* Dequeues and returns the earliest node if its deadline is <= now, else NULL. */
static inline cb_timer_node *cb__timer_heap_pop_due(cb_timer_heap *q, uint64_t now) {
  cb_timer_node *n = cb__timer_heap_min(q);
  if (!n || n->when > now) return NULL;
  cb__timer_heap_remove(q, n);
  return n;
}

#endif
