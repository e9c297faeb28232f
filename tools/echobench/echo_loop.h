/* echo_loop.h — an echo server handler on the loop's streams: every byte read is
 * written back until EOF (or a write fails). Used by echobench and the stream tests
 * with cb_start_server(..., cb_echo_handler, sizeof(cb_echo_frame), ...). */
#ifndef CB_ECHO_LOOP_H
#define CB_ECHO_LOOP_H

#include "runtimes/loop/stream.h"

typedef struct cb_echo_frame {
  cb_stream_handler_frame h;
} cb_echo_frame;

int cb_echo_handler(cb_task *task, void *frame);

#endif
