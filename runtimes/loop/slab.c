/* slab.c — task memory: exact-size chunks (16-byte classes up to 1 KiB) carved
 * from 8 MiB blocks aligned to 2 MiB and advised for transparent huge pages, with
 * one free list per class. No per-chunk header (malloc adds 8-16 B and rounds
 * up), far fewer page faults, alloc/free a few instructions. Memory returns to
 * the system when the loop closes. CONCBENCH_LOOP_SLAB=0, or an ASan build,
 * falls back to malloc so memory checkers see every task. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "runtimes/loop/loop_int.h"

#define BLOCK (8u << 20)
#define HUGE_ALIGN (2u << 20)
#define CLASS_BYTES 16u

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_DEFAULT 0
#else
#define SLAB_DEFAULT 1
#endif

typedef struct block {
  struct block *next;
  void *map;
  size_t map_len;
} block;

void cb__slab_init(cb_loop *l) {
  const char *e = getenv("CONCBENCH_LOOP_SLAB");
  l->slab_on = e ? strcmp(e, "0") != 0 : SLAB_DEFAULT;
}

static int new_block(cb_loop *l) {
  size_t len = BLOCK + HUGE_ALIGN;
  unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return -1;
  unsigned char *start = (unsigned char *)(((uintptr_t)m + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1));
  madvise(start, BLOCK, MADV_HUGEPAGE); /* advisory: fine if THP is off */
  block *b = (block *)start;
  b->next = l->slab_blocks;
  b->map = m;
  b->map_len = len;
  l->slab_blocks = b;
  l->slab_cur = start + ((sizeof(block) + CLASS_BYTES - 1) & ~(size_t)(CLASS_BYTES - 1));
  l->slab_end = start + BLOCK;
  return 0;
}

/* O(1): pop the class's free list, else bump-allocate (a new block every 8 MiB). */
void *cb__slab_alloc(cb_loop *l, size_t size, uint8_t *cls) {
  size_t c = (size + CLASS_BYTES - 1) / CLASS_BYTES;
  if (!l->slab_on || c > CB__SLAB_CLASSES) {
    *cls = 0;
    return malloc(size);
  }
  *cls = (uint8_t)c;
  void *p = l->slab_free[c];
  if (p) {
    l->slab_free[c] = *(void **)p;
    return p;
  }
  size_t bytes = c * CLASS_BYTES;
  if ((size_t)(l->slab_end - l->slab_cur) < bytes && new_block(l) != 0) return NULL;
  p = l->slab_cur;
  l->slab_cur += bytes;
  return p;
}

void cb__slab_free(cb_loop *l, void *p, uint8_t cls) {
  if (cls == 0) {
    free(p);
    return;
  }
  *(void **)p = l->slab_free[cls];
  l->slab_free[cls] = p;
}

void cb__slab_destroy(cb_loop *l) {
  block *b = l->slab_blocks;
  while (b) {
    block *next = b->next;
    CB_CHECK(munmap(b->map, b->map_len) == 0);
    b = next;
  }
  l->slab_blocks = NULL;
}
