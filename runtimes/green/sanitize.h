/* sanitize.h — tell ASan and valgrind about green thread stacks (private).
 *
 * ASan: every switch is bracketed by __sanitizer_start_switch_fiber (before, naming
 * the stack we go to) and __sanitizer_finish_switch_fiber (after, on the resumed
 * side); a reused stack is unpoisoned since frames of a finished thread never return.
 * valgrind: each stack is registered once with VALGRIND_STACK_REGISTER so that
 * memcheck does not take a switch for a huge stack-pointer move (copy mode's shared
 * stack once, copystack.c). Both compile to
 * nothing (ASan) or a few no-op instructions (valgrind client requests) otherwise. */
#ifndef CB_GREEN_SANITIZE_H
#define CB_GREEN_SANITIZE_H

#include <stddef.h>
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>

#if defined(__SANITIZE_ADDRESS__)
#define CB_GREEN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CB_GREEN_ASAN 1
#endif
#endif

#ifdef CB_GREEN_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
static inline void cb__san_start_switch(void **fake_save, const void *bottom, size_t size) {
  __sanitizer_start_switch_fiber(fake_save, bottom, size);
}
static inline void cb__san_finish_switch(void *fake_save) {
  __sanitizer_finish_switch_fiber(fake_save, NULL, NULL);
}
static inline void cb__san_unpoison(void *p, size_t n) { __asan_unpoison_memory_region(p, n); }
#include <pthread.h>
/* Bounds of the calling OS thread's stack: where switches back to the scheduler go. */
static inline void cb__san_thread_stack(void **lo, size_t *size) {
  pthread_attr_t a;
  if (pthread_getattr_np(pthread_self(), &a) != 0) return;
  pthread_attr_getstack(&a, lo, size);
  pthread_attr_destroy(&a);
}
#else
static inline void cb__san_start_switch(void **fake_save, const void *bottom, size_t size) {
  (void)fake_save, (void)bottom, (void)size;
}
static inline void cb__san_finish_switch(void *fake_save) { (void)fake_save; }
static inline void cb__san_unpoison(void *p, size_t n) { (void)p, (void)n; }
static inline void cb__san_thread_stack(void **lo, size_t *size) { (void)lo, (void)size; }
#endif

/* ThreadSanitizer: each green thread's stack is a TSan fiber, and every switch tells
 * TSan which fiber runs next (with synchronisation: what one green thread wrote before
 * it switched out is ordered before what the next one on that OS thread reads). A
 * fiber is made for each spawn and destroyed when its record is reused or freed.
 * Nothing (NULL) without TSan. */
#if defined(__SANITIZE_THREAD__)
#define CB_GREEN_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CB_GREEN_TSAN 1
#endif
#endif
#ifdef CB_GREEN_TSAN
#include <sanitizer/tsan_interface.h>
static inline void *cb__tsan_fiber_new(void) { return __tsan_create_fiber(0); }
static inline void cb__tsan_fiber_free(void *f) {
  if (f) __tsan_destroy_fiber(f);
}
static inline void *cb__tsan_fiber_current(void) { return __tsan_get_current_fiber(); }
static inline void cb__tsan_switch(void *f) { __tsan_switch_to_fiber(f, 0); }
#else
static inline void *cb__tsan_fiber_new(void) { return NULL; }
static inline void cb__tsan_fiber_free(void *f) { (void)f; }
static inline void *cb__tsan_fiber_current(void) { return NULL; }
static inline void cb__tsan_switch(void *f) { (void)f; }
#endif

static inline unsigned cb__vg_stack_register(void *lo, size_t size) {
  return VALGRIND_STACK_REGISTER(lo, (char *)lo + size);
}
static inline void cb__vg_stack_deregister(unsigned id) { VALGRIND_STACK_DEREGISTER(id); }
/* Copy mode (copystack.c): [p, p + n) of the shared stack is about to receive a
 * parked thread's bytes; memcheck may hold it no-access (below the stack pointer it
 * last saw there), so it is made addressable (undefined until written). */
static inline void cb__vg_make_writable(void *p, size_t n) { VALGRIND_MAKE_MEM_UNDEFINED(p, n); }

#endif
