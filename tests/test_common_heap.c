/* test_common_heap.c — the timer queue of common/timer_heap.h (lane + heap): order by
 * deadline with ties in insertion order (across lane and heap), removal from the
 * middle of either, re-insertion, pop_due, growth, empty cases, the invariants it
 * enforces, and random operations checked against a brute-force reference. Nodes are
 * tried with their lane link before them (the loop's layout) and after them (green's). */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/timer_heap.h"

TestSuite(common_heap, .timeout = 20);

typedef struct item {
  cb_list before; /* lane link in the loop's layout: ahead of the node */
  cb_timer_node tn;
  int id;
  cb_list after;  /* lane link in green's layout: behind the node */
} item;

static const ptrdiff_t LAYOUTS[2] = {CB__TIMER_LINK_OFF(item, tn, before), CB__TIMER_LINK_OFF(item, tn, after)};

static item *item_of(cb_timer_node *n) { return n ? cb__container_of(n, item, tn) : NULL; }

static item *make_items(int n) {
  item *it = calloc((size_t)n, sizeof *it);
  cr_assert_not_null(it);
  for (int i = 0; i < n; i++) it[i].id = i;
  return it;
}

/* Pops everything due by `now` and writes the ids, e.g. "3,1,2". */
static const char *drain(cb_timer_heap *q, uint64_t now) {
  static char buf[1024];
  size_t len = 0;
  buf[0] = '\0';
  cb_timer_node *n;
  while ((n = cb__timer_heap_pop_due(q, now)) != NULL) {
    cr_assert_not(cb__timer_queued(n), "a popped node is not queued");
    cr_assert_not(cb__list_linked(cb__timer_link(q, n)), "a popped node's lane link is unlinked");
    len += (size_t)snprintf(buf + len, sizeof buf - len, len ? ",%d" : "%d", item_of(n)->id);
  }
  return buf;
}

Test(common_heap, empty_queue) {
  for (int k = 0; k < 2; k++) {
    cb_timer_heap q;
    cb__timer_heap_init(&q, LAYOUTS[k]);
    item it = {0};
    cr_assert_null(cb__timer_heap_min(&q));
    cr_assert_null(cb__timer_heap_pop_due(&q, UINT64_MAX));
    cr_assert_not(cb__timer_queued(&it.tn), "zeroed storage is a node not queued");
    cr_assert_eq(cb__timer_heap_remove(&q, &it.tn), 0, "removing a node not queued");
    cr_assert_eq(q.count, 0);
    cb__timer_heap_free(&q);
    cr_assert_null(cb__timer_heap_min(&q));
  }
}

Test(common_heap, ties_leave_in_insertion_order_across_lane_and_heap) {
  for (int k = 0; k < 2; k++) {
    cb_timer_heap q;
    cb__timer_heap_init(&q, LAYOUTS[k]);
    item *it = make_items(8);
    /* 0:10 lane, 1:20 lane, 2:10 heap (earlier than the lane's tail), 3:10 heap, 4:20 lane */
    uint64_t when[] = {10, 20, 10, 10, 20};
    for (int i = 0; i < 5; i++) cb__timer_heap_add(&q, &it[i].tn, when[i]);
    cr_assert_eq(it[0].tn.where, CB__TIMER_LANE);
    cr_assert_eq(it[2].tn.where, CB__TIMER_HEAP);
    cr_assert_eq(it[4].tn.where, CB__TIMER_LANE, "a deadline equal to the lane's tail appends to it");
    cr_assert_eq(q.count, 5);
    cr_assert_str_eq(drain(&q, UINT64_MAX), "0,2,3,1,4");
    cr_assert_eq(q.count, 0);
    /* the heap's root added before the lane's head with the same deadline goes first */
    cb__timer_heap_add(&q, &it[5].tn, 10); /* lane */
    cb__timer_heap_add(&q, &it[6].tn, 5);  /* heap */
    cb__timer_heap_remove(&q, &it[5].tn);  /* the lane is empty again */
    cb__timer_heap_add(&q, &it[7].tn, 5);  /* lane, after 6 */
    cr_assert_eq(it[7].tn.where, CB__TIMER_LANE);
    cr_assert_eq(it[6].tn.where, CB__TIMER_HEAP);
    cr_assert_str_eq(drain(&q, UINT64_MAX), "6,7");
    cb__timer_heap_free(&q);
    free(it);
  }
}

Test(common_heap, order_is_a_stable_sort_by_deadline) {
  enum { N = 3000 };
  for (int k = 0; k < 2; k++) {
    cb_timer_heap q;
    cb__timer_heap_init(&q, LAYOUTS[k]);
    item *it = make_items(N);
    uint64_t when[N];
    unsigned r = 12345;
    int in_heap = 0;
    for (int i = 0; i < N; i++) {
      r = r * 1103515245u + 12345u;
      when[i] = (r >> 16) % 50; /* many ties */
      cb__timer_heap_add(&q, &it[i].tn, when[i]);
      in_heap += it[i].tn.where == CB__TIMER_HEAP;
    }
    cr_assert_gt(in_heap, N / 2, "the test must use the heap");
    cr_assert_eq(q.count, N);
    int prev = -1;
    for (int i = 0; i < N; i++) {
      item *m = item_of(cb__timer_heap_pop_due(&q, UINT64_MAX));
      cr_assert_not_null(m, "pop %d of %d", i, N);
      if (prev >= 0) {
        cr_assert_geq(when[m->id], when[prev], "deadline order: %d after %d", m->id, prev);
        if (when[m->id] == when[prev]) cr_assert_gt(m->id, prev, "equal deadlines in insertion order");
      }
      prev = m->id;
    }
    cr_assert_null(cb__timer_heap_min(&q));
    cr_assert_eq(q.count, 0);
    cb__timer_heap_free(&q);
    free(it);
  }
}

Test(common_heap, decreasing_deadlines_grow_the_heap) {
  enum { N = 1000 };
  cb_timer_heap q;
  cb__timer_heap_init(&q, LAYOUTS[0]);
  item *it = make_items(N);
  for (int i = 0; i < N; i++) cb__timer_heap_add(&q, &it[i].tn, (uint64_t)(N - i));
  cr_assert_eq(q.heap_len, N - 1, "all but the first go to the heap");
  for (int i = N - 1; i >= 0; i--) cr_assert_eq(item_of(cb__timer_heap_pop_due(&q, UINT64_MAX))->id, i);
  cb__timer_heap_free(&q);
  free(it);
}

Test(common_heap, remove_from_the_middle_of_lane_and_heap) {
  for (int k = 0; k < 2; k++) {
    cb_timer_heap q;
    cb__timer_heap_init(&q, LAYOUTS[k]);
    item *it = make_items(10);
    /* lane: 0:100 1:110 2:120 3:130; heap: 4:50 5:40 6:60 7:45 8:55 9:42 */
    uint64_t when[] = {100, 110, 120, 130, 50, 40, 60, 45, 55, 42};
    for (int i = 0; i < 10; i++) cb__timer_heap_add(&q, &it[i].tn, when[i]);
    cr_assert_eq(q.heap_len, 6);
    cr_assert_eq(cb__timer_heap_remove(&q, &it[1].tn), 1, "from the lane's middle");
    cr_assert_eq(cb__timer_heap_remove(&q, &it[7].tn), 1, "from the heap's middle");
    cr_assert_eq(cb__timer_heap_remove(&q, &it[5].tn), 1, "the heap's root");
    cr_assert_eq(cb__timer_heap_remove(&q, &it[5].tn), 0, "removed twice");
    cr_assert_not(cb__timer_queued(&it[1].tn));
    cr_assert_not(cb__list_linked(cb__timer_link(&q, &it[1].tn)), "its lane link is unlinked");
    cr_assert_eq(q.count, 7);
    cr_assert_eq(item_of(cb__timer_heap_min(&q))->id, 9);
    cr_assert_str_eq(drain(&q, UINT64_MAX), "9,4,8,6,0,2,3");
    cb__timer_heap_free(&q);
    free(it);
  }
}

Test(common_heap, a_reinserted_node_goes_behind_equal_deadlines) {
  for (int k = 0; k < 2; k++) {
    cb_timer_heap q;
    cb__timer_heap_init(&q, LAYOUTS[k]);
    item *it = make_items(6);
    for (int i = 0; i < 3; i++) cb__timer_heap_add(&q, &it[i].tn, 7);  /* lane */
    for (int i = 3; i < 6; i++) cb__timer_heap_add(&q, &it[i].tn, 3);  /* heap */
    cb__timer_heap_remove(&q, &it[0].tn);
    cb__timer_heap_add(&q, &it[0].tn, 7); /* lane tail again */
    cb__timer_heap_remove(&q, &it[3].tn);
    cb__timer_heap_add(&q, &it[3].tn, 3); /* heap again, behind 4 and 5 */
    cr_assert_eq(it[3].tn.where, CB__TIMER_HEAP);
    cr_assert_str_eq(drain(&q, UINT64_MAX), "4,5,3,1,2,0");
    cb__timer_heap_free(&q);
    free(it);
  }
}

Test(common_heap, pop_due_takes_only_what_is_due) {
  cb_timer_heap q;
  cb__timer_heap_init(&q, LAYOUTS[1]);
  item *it = make_items(5);
  uint64_t when[] = {30, 40, 10, 20, 40};
  for (int i = 0; i < 5; i++) cb__timer_heap_add(&q, &it[i].tn, when[i]);
  cr_assert_str_eq(drain(&q, 9), "");
  cr_assert_str_eq(drain(&q, 20), "2,3");
  cr_assert_str_eq(drain(&q, 39), "0");
  cr_assert_eq(q.count, 2);
  cr_assert_eq(cb__timer_heap_min(&q)->when, 40);
  cr_assert_str_eq(drain(&q, 40), "1,4");
  cb__timer_heap_free(&q);
  free(it);
}

Test(common_heap, free_leaves_an_empty_reusable_queue) {
  cb_timer_heap q;
  cb__timer_heap_init(&q, LAYOUTS[0]);
  item *it = make_items(4);
  for (int i = 0; i < 4; i++) cb__timer_heap_add(&q, &it[i].tn, (uint64_t)(10 - i));
  cb__timer_heap_free(&q);
  cr_assert_eq(q.count, 0);
  cr_assert_null(cb__timer_heap_min(&q));
  item *fresh = make_items(2);
  cb__timer_heap_add(&q, &fresh[0].tn, 5);
  cb__timer_heap_add(&q, &fresh[1].tn, 1);
  cr_assert_str_eq(drain(&q, UINT64_MAX), "1,0");
  cb__timer_heap_free(&q);
  free(fresh);
  free(it);
}

/* In the heap, where its lane link is not in use: the queue must still know. */
Test(common_heap, adding_a_queued_node_aborts, .signal = SIGABRT) {
  cb_timer_heap q;
  cb__timer_heap_init(&q, LAYOUTS[0]);
  item it[2];
  memset(it, 0, sizeof it);
  cb__timer_heap_add(&q, &it[0].tn, 5);
  cb__timer_heap_add(&q, &it[1].tn, 1);
  cr_assert_eq(it[1].tn.where, CB__TIMER_HEAP);
  cb__timer_heap_add(&q, &it[1].tn, 2);
}

Test(common_heap, adding_a_node_whose_link_is_in_use_aborts, .signal = SIGABRT) {
  cb_timer_heap q;
  cb__timer_heap_init(&q, LAYOUTS[0]);
  cb_list ready;
  cb__list_init(&ready);
  item it = {0};
  cb__list_push_back(&ready, &it.before); /* e.g. a fired timer on the loop's ready queue */
  cb__timer_heap_add(&q, &it.tn, 1);
}

/* Random adds, removes and pops on 257 nodes, each step checked against a brute-force
 * minimum by (deadline, order of adding). */
Test(common_heap, random_operations_match_a_reference) {
  enum { N = 257, STEPS = 60000 };
  for (int k = 0; k < 2; k++) {
    cb_timer_heap q;
    cb__timer_heap_init(&q, LAYOUTS[k]);
    item *it = make_items(N);
    int queued[N] = {0};
    uint64_t when[N], order[N], next_order = 0, count = 0;
    unsigned r = 777u + (unsigned)k;
    for (int step = 0; step < STEPS; step++) {
      r = r * 1103515245u + 12345u;
      int i = (int)((r >> 8) % N);
      int op = (int)((r >> 20) % 8);
      if (op < 4 && !queued[i]) { /* add: often no earlier than the last, as timers are */
        when[i] = step / 16 + ((r >> 24) % 4 == 0 ? (r >> 26) % 64 : 0);
        order[i] = next_order++;
        cb__timer_heap_add(&q, &it[i].tn, when[i]);
        queued[i] = 1;
        count++;
      } else if (op < 6) {
        cr_assert_eq(cb__timer_heap_remove(&q, &it[i].tn), queued[i], "step %d: remove of %d", step, i);
        count -= (uint64_t)queued[i];
        queued[i] = 0;
      } else {
        cb_timer_node *n = cb__timer_heap_pop_due(&q, (uint64_t)step / 16);
        if (n) {
          queued[item_of(n)->id] = 0;
          count--;
        }
      }
      int best = -1;
      for (int j = 0; j < N; j++)
        if (queued[j] && (best < 0 || when[j] < when[best] || (when[j] == when[best] && order[j] < order[best])))
          best = j;
      item *m = item_of(cb__timer_heap_min(&q));
      cr_assert_eq(m ? m->id : -1, best, "step %d: min", step);
      cr_assert_eq(q.count, count, "step %d: count", step);
    }
    cb__timer_heap_free(&q);
    free(it);
  }
}
