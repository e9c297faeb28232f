/* sleep.h — the sleep workload's wait, for other workloads that sleep (mixed). */
#ifndef CB_SLEEP_H
#define CB_SLEEP_H

#include <stdint.h>

#include "workloads/workload.h"

/* nanosleep for ms, resumed after EINTR: 0, or a negative errno with err filled,
 * -EINTR when it woke before its deadline (a job that did not wait fails). */
int cb_sleep_ms_checked(int64_t ms, char err[CB_ERR_LEN]);

#endif
