/* echo_loop.c — see echo_loop.h. */
#include "tools/echobench/echo_loop.h"

int cb_echo_handler(cb_task *task, void *vf) {
  cb_echo_frame *f = vf;
  cb_stream *s;
  CB_CO_BEGIN(task, &f->h);
  for (;;) {
    cb_stream_read(f->h.stream, 65536);
    CB_AWAIT(&f->h.stream->rd);
    s = f->h.stream;
    if (s->rd.result.u == 0) break;
    if (cb_stream_write(s, cb_stream_data(s), s->rd.result.u) != 0) break;
    CB_AWAIT(cb_stream_drain(f->h.stream));
  }
  CB_CO_END();
}
