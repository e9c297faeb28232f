/* list.h — the intrusive circular doubly linked list every loop queue is made of
 * (libuv's uv__queue). A node is linked iff next != NULL; removing unlinks and
 * clears it, so "is this handle scheduled?" is one load. All operations O(1). */
#ifndef CB_LOOP_LIST_H
#define CB_LOOP_LIST_H

#include <stddef.h>

typedef struct cb_list {
  struct cb_list *next, *prev;
} cb_list;

#define cb__container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

static inline void cb__list_init(cb_list *h) { h->next = h->prev = h; }
static inline int cb__list_empty(const cb_list *h) { return h->next == h; }
static inline int cb__list_linked(const cb_list *n) { return n->next != NULL; }

/* Appends n (unlinked) at the tail of h. */
static inline void cb__list_push(cb_list *h, cb_list *n) {
  n->next = h;
  n->prev = h->prev;
  h->prev->next = n;
  h->prev = n;
}

static inline void cb__list_remove(cb_list *n) {
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->next = n->prev = NULL;
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
