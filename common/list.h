/* list.h — the intrusive circular doubly linked list every queue of the green
 * scheduler and of the loop is made of (run and ready queues, free lists, wait lists,
 * callback lists, the timer lane); libuv's uv__queue with a detectable unlink.
 *
 * Semantics (one for every user):
 *   - A head is a sentinel and must be cb__list_init'ed before use; an empty list is
 *     a head linked to itself.
 *   - A node is linked iff its next is not NULL. Zeroed storage (calloc, `= {0}`) is
 *     an unlinked node: nodes need no init. cb__list_remove and cb__list_pop_front
 *     leave the node unlinked (next = prev = NULL), so "is it queued?" is one load
 *     (cb__list_linked).
 *   - cb__list_remove of an unlinked node is allowed and does nothing.
 *   - Pushing a node that is linked corrupts both lists: callers that cannot know
 *     check cb__list_linked first.
 * Every operation is O(1) and allocates nothing. */
#ifndef CB_COMMON_LIST_H
#define CB_COMMON_LIST_H

#include <stddef.h>

typedef struct cb_list {
  struct cb_list *next, *prev;
} cb_list;

#define cb__container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

static inline void cb__list_init(cb_list *h) { h->next = h->prev = h; }
static inline int cb__list_empty(const cb_list *h) { return h->next == h; }
static inline int cb__list_linked(const cb_list *n) { return n->next != NULL; }

/* Appends n (unlinked) at the tail of h. */
static inline void cb__list_push_back(cb_list *h, cb_list *n) {
  n->next = h;
  n->prev = h->prev;
  h->prev->next = n;
  h->prev = n;
}

/* Inserts n (unlinked) at the head of h. */
static inline void cb__list_push_front(cb_list *h, cb_list *n) {
  n->prev = h;
  n->next = h->next;
  h->next->prev = n;
  h->next = n;
}

/* Unlinks n and leaves it unlinked; no-op if it is not linked. */
static inline void cb__list_remove(cb_list *n) {
  if (!n->next) return;
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->next = n->prev = NULL;
}

/* Unlinks and returns the first node of h, or NULL when h is empty. */
static inline cb_list *cb__list_pop_front(cb_list *h) {
  cb_list *n = h->next;
  if (n == h) return NULL;
  h->next = n->next;
  n->next->prev = h;
  n->next = n->prev = NULL;
  return n;
}

/* Moves every node of src, in order, to the tail of dst; src ends empty. */
static inline void cb__list_splice(cb_list *dst, cb_list *src) {
  if (cb__list_empty(src)) return;
  src->next->prev = dst->prev;
  dst->prev->next = src->next;
  src->prev->next = dst;
  dst->prev = src->prev;
  cb__list_init(src);
}

#endif
