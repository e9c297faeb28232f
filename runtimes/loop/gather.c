/* gather.c — run children concurrently, results in argument order. */
#include <errno.h>

#include "runtimes/loop/slots.h"

/* Unhooks every slot. Children still pending then count as retrieved in advance:
 * asyncio's gather marks the exception of a child that finishes after the gather
 * is done as retrieved, so it is never reported. Off the hot path (once per gather). */
static void gather_complete(cb_gather *g) {
  for (uint32_t i = 0; i < g->n; i++)
    if (!cb_future_done(g->children[i])) g->children[i]->retrieved = 1;
  cb__slots_unhook(g->slots, g->n);
}

/* asyncio's fut._make_cancelled_error(): a cancelled child's message, else none. */
static const char *cancel_msg_of(const cb_future *child) {
  return child->state == CB_FUT_CANCELLED ? child->msg : NULL;
}

static void on_child(void *arg) {
  cb_slot *s = cb__slot_of(arg);
  cb_gather *g = s->owner;
  cb_future *child = g->children[s - g->slots];
  g->ndone++;
  if (!g->return_exceptions && child->state == CB_FUT_CANCELLED) {
    /* The gather finishes with the child's CancelledError; it is not cancelled itself. */
    CB_CHECK(cb_future_set_error(&g->fut, -ECANCELED, child->msg) == 0);
    gather_complete(g);
    return;
  }
  if (!g->return_exceptions && child->err) {
    child->retrieved = 1;
    CB_CHECK(cb_future_set_error(&g->fut, child->err, child->msg) == 0);
    gather_complete(g);
    return;
  }
  if (g->ndone < g->n) return;
  for (uint32_t i = 0; i < g->n; i++) g->children[i]->retrieved = 1;
  if (g->cancel_requested)
    CB_CHECK(cb_future_set_error(&g->fut, -ECANCELED, cancel_msg_of(child)) == 0);
  else
    CB_CHECK(cb_future_set_result(&g->fut, (cb_val){.u = g->n}) == 0);
}

void cb_gather_init(cb_gather *g, cb_loop *l, cb_future **children, cb_slot *slots, size_t n,
                    int return_exceptions) {
  CB_CHECK(n <= UINT32_MAX);
  cb_future_init(&g->fut, l);
  g->fut.kind = CB__FUT_GATHER;
  g->children = children;
  g->slots = slots;
  g->n = (uint32_t)n;
  g->ndone = 0;
  g->return_exceptions = return_exceptions != 0;
  g->cancel_requested = 0;
  if (n == 0) {
    CB_CHECK(cb_future_set_result(&g->fut, (cb_val){.u = 0}) == 0);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    slots[i] = (cb_slot){.owner = g};
    cb_future_add_done_callback(children[i], &slots[i].h, on_child, &slots[i]);
  }
}

/* Cancels every child still pending; the gather ends when they have finished. */
int cb__gather_cancel(cb_future *f, const char *msg) {
  cb_gather *g = (cb_gather *)f;
  if (cb_future_done(f)) return 0;
  int any = 0;
  for (uint32_t i = 0; i < g->n; i++) any |= cb_future_cancel(g->children[i], msg);
  if (any) g->cancel_requested = 1;
  return any;
}

void cb_gather_dispose(cb_gather *g) { gather_complete(g); }
