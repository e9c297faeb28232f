/* stream_int.h — shared by stream.c and stream_open.c. */
#ifndef CB_LOOP_STREAM_INT_H
#define CB_LOOP_STREAM_INT_H

#include "common/check.h"
#include "runtimes/loop/stream.h"

extern const cb_protocol cb__stream_protocol;
/* A stream with two references (owner, connection) and no transport yet. */
cb_stream *cb__stream_new(cb_loop *l);

#endif
