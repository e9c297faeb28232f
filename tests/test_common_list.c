/* test_common_list.c — the intrusive list of common/list.h: order of push_back,
 * push_front and pop_front, removal from the middle, the unlinked state a removal
 * leaves (and that zeroed storage has), removing an unlinked node, re-insertion,
 * splice, empty cases. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/list.h"

TestSuite(common_list, .timeout = 10);

typedef struct item {
  int id;
  cb_list link;
} item;

/* The ids of h from head to tail, e.g. "1,2,3"; also walks it backwards and checks
 * the prev links agree. */
static const char *ids(cb_list *h) {
  static char buf[256];
  int fwd[32], n = 0;
  buf[0] = '\0';
  for (cb_list *l = h->next; l != h; l = l->next) {
    cr_assert_lt(n, 32, "list does not come back to its head");
    cr_assert_eq(l->next->prev, l, "next->prev of item %d is not itself", cb__container_of(l, item, link)->id);
    fwd[n++] = cb__container_of(l, item, link)->id;
  }
  int back = n;
  for (cb_list *l = h->prev; l != h; l = l->prev) {
    cr_assert_gt(back, 0, "backward walk longer than forward walk");
    cr_assert_eq(cb__container_of(l, item, link)->id, fwd[--back], "backward walk differs");
  }
  cr_assert_eq(back, 0, "backward walk shorter than forward walk");
  for (int i = 0; i < n; i++) snprintf(buf + strlen(buf), sizeof buf - strlen(buf), i ? ",%d" : "%d", fwd[i]);
  return buf;
}

static void make_items(item *it, int n) {
  memset(it, 0, sizeof *it * (size_t)n);
  for (int i = 0; i < n; i++) it[i].id = i + 1;
}

Test(common_list, empty_head) {
  cb_list h;
  cb__list_init(&h);
  cr_assert(cb__list_empty(&h));
  cr_assert_null(cb__list_pop_front(&h));
  cr_assert(cb__list_empty(&h), "pop_front of an empty list leaves it empty");
  cr_assert_str_eq(ids(&h), "");
}

Test(common_list, zeroed_node_is_unlinked_and_remove_of_unlinked_is_a_noop) {
  cb_list h;
  cb__list_init(&h);
  item it[3];
  make_items(it, 3);
  cr_assert_not(cb__list_linked(&it[0].link), "zeroed storage is an unlinked node");
  cb__list_push_back(&h, &it[0].link);
  cb__list_push_back(&h, &it[1].link);
  cb__list_remove(&it[2].link); /* never linked */
  cr_assert_str_eq(ids(&h), "1,2");
  cb__list_remove(&it[0].link);
  cb__list_remove(&it[0].link); /* removed twice */
  cr_assert_str_eq(ids(&h), "2");
  cr_assert_not(cb__list_linked(&it[0].link));
}

Test(common_list, push_back_and_push_front_order) {
  cb_list h;
  cb__list_init(&h);
  item it[5];
  make_items(it, 5);
  cb__list_push_back(&h, &it[1].link);  /* 2 */
  cb__list_push_back(&h, &it[2].link);  /* 2,3 */
  cb__list_push_front(&h, &it[0].link); /* 1,2,3 */
  cb__list_push_back(&h, &it[3].link);  /* 1,2,3,4 */
  cb__list_push_front(&h, &it[4].link); /* 5,1,2,3,4 */
  cr_assert_str_eq(ids(&h), "5,1,2,3,4");
  for (int i = 0; i < 5; i++) cr_assert(cb__list_linked(&it[i].link), "item %d linked", i + 1);
  cr_assert_not(cb__list_empty(&h));
}

Test(common_list, pop_front_is_fifo_and_leaves_the_node_unlinked) {
  cb_list h;
  cb__list_init(&h);
  item it[4];
  make_items(it, 4);
  for (int i = 0; i < 4; i++) cb__list_push_back(&h, &it[i].link);
  for (int i = 0; i < 4; i++) {
    cb_list *l = cb__list_pop_front(&h);
    cr_assert_not_null(l);
    cr_assert_eq(cb__container_of(l, item, link)->id, i + 1);
    cr_assert_not(cb__list_linked(l), "popped node %d is unlinked", i + 1);
    cr_assert_null(l->prev);
  }
  cr_assert(cb__list_empty(&h));
  cr_assert_null(cb__list_pop_front(&h));
}

Test(common_list, remove_from_the_middle_ends_and_only_node) {
  cb_list h;
  cb__list_init(&h);
  item it[5];
  make_items(it, 5);
  for (int i = 0; i < 5; i++) cb__list_push_back(&h, &it[i].link);
  cb__list_remove(&it[2].link);
  cr_assert_str_eq(ids(&h), "1,2,4,5");
  cr_assert_not(cb__list_linked(&it[2].link));
  cr_assert_null(it[2].link.next);
  cr_assert_null(it[2].link.prev);
  cb__list_remove(&it[0].link);
  cr_assert_str_eq(ids(&h), "2,4,5");
  cb__list_remove(&it[4].link);
  cr_assert_str_eq(ids(&h), "2,4");
  cb__list_remove(&it[1].link);
  cb__list_remove(&it[3].link);
  cr_assert(cb__list_empty(&h));
  cr_assert_str_eq(ids(&h), "");
}

Test(common_list, removed_node_can_be_reinserted_anywhere) {
  cb_list a, b;
  cb__list_init(&a);
  cb__list_init(&b);
  item it[3];
  make_items(it, 3);
  for (int i = 0; i < 3; i++) cb__list_push_back(&a, &it[i].link);
  cb__list_remove(&it[0].link);
  cb__list_push_back(&a, &it[0].link);
  cr_assert_str_eq(ids(&a), "2,3,1");
  cb__list_remove(&it[2].link);
  cb__list_push_front(&b, &it[2].link);
  cr_assert_str_eq(ids(&a), "2,1");
  cr_assert_str_eq(ids(&b), "3");
  cb_list *l = cb__list_pop_front(&a);
  cb__list_push_back(&b, l);
  cr_assert_str_eq(ids(&a), "1");
  cr_assert_str_eq(ids(&b), "3,2");
}

Test(common_list, splice_appends_in_order_and_empties_the_source) {
  cb_list dst, src;
  cb__list_init(&dst);
  cb__list_init(&src);
  item it[5];
  make_items(it, 5);
  cb__list_splice(&dst, &src); /* both empty */
  cr_assert(cb__list_empty(&dst) && cb__list_empty(&src));
  for (int i = 0; i < 3; i++) cb__list_push_back(&src, &it[i].link);
  cb__list_splice(&dst, &src); /* into an empty list */
  cr_assert_str_eq(ids(&dst), "1,2,3");
  cr_assert(cb__list_empty(&src));
  cb__list_splice(&dst, &src); /* an empty source: nothing */
  cr_assert_str_eq(ids(&dst), "1,2,3");
  cb__list_push_back(&src, &it[3].link);
  cb__list_push_back(&src, &it[4].link);
  cb__list_splice(&dst, &src); /* behind what dst has */
  cr_assert_str_eq(ids(&dst), "1,2,3,4,5");
  cr_assert(cb__list_empty(&src));
  cb__list_remove(&it[3].link); /* a spliced node is linked in dst */
  cr_assert_str_eq(ids(&dst), "1,2,3,5");
}
