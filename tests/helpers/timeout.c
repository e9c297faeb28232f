/* timeout.c — every test has a timeout (DESIGN.md convention 10).
 *
 * Linked into every test binary (the Makefile links all of tests/helpers/). Before
 * any test runs, gives CB_TEST_DEFAULT_TIMEOUT_S to each test that has no timeout of
 * its own (Test(..., .timeout = N)) nor from its suite (TestSuite(..., .timeout = N)),
 * so that a hung test (a broken context switch, a lost wake-up) fails after that
 * long instead of holding the run until CI gives up. Criterion kills the test's
 * worker process and reports "Timed out".
 *
 * Why not Criterion's --timeout: in Criterion 2.4 it replaces the timeouts tests
 * declare and leaves tests without one untimed — the opposite of a default. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <criterion/internal/ordered-set.h>

#define CB_TEST_DEFAULT_TIMEOUT_S 60.0

ReportHook(PRE_ALL)(struct criterion_test_set *set) {
  for (struct criterion_ordered_set_node *sn = set->suites->first; sn; sn = sn->next) {
    struct criterion_suite_set *ss = (void *)(sn + 1);
    double suite_timeout = ss->suite.data ? ss->suite.data->timeout : 0;
    if (!ss->tests) continue;
    for (struct criterion_ordered_set_node *tn = ss->tests->first; tn; tn = tn->next) {
      struct criterion_test *t = (void *)(tn + 1);
      if (t->data && t->data->timeout <= 0 && suite_timeout <= 0) t->data->timeout = CB_TEST_DEFAULT_TIMEOUT_S;
    }
  }
}
