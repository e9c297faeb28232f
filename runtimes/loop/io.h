/* io.h — the IO layer's view of a cb_loop: its libuv loop, for code that wants
 * to put its own libuv handles on it. Loop thread only. */
#ifndef CB_LOOP_IO_H
#define CB_LOOP_IO_H

#include <uv.h>

#include "runtimes/loop/loop.h"

/* The uv_loop_t the cb_loop waits in. Handles put on it keep the loop alive
 * (run_until_complete sees them) and must be closed before cb_loop_close. */
uv_loop_t *cb_loop_uv(cb_loop *loop);

#endif
