/* subprocess.c — see subprocess.h. The pipes are stream transports of kind
 * UNIX whose uv_pipe_t libuv's spawn connects to the child. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "runtimes/loop/io_int.h"
#include "runtimes/loop/stream_int.h"
#include "runtimes/loop/subprocess.h"
#include "runtimes/loop/transport_int.h"

static void on_proc_closed(uv_handle_t *h) {
  cb_subprocess *p = h->data;
  cb_future_set_result(&p->exited, (cb_val){.i = p->returncode});
}

static void proc_exited(uv_process_t *proc, int64_t status, int term_signal) {
  cb_subprocess *p = proc->data;
  p->returncode = term_signal ? -term_signal : status;
  p->running = 0;
  uv_close((uv_handle_t *)proc, on_proc_closed);
}

/* A stream over a fresh pipe transport, or NULL. */
static cb_stream *pipe_stream(cb_loop *l, cb_transport **tp) {
  cb_stream *s = cb__stream_new(l);
  cb_transport *t = s ? cb__transport_new(l, CB_TRANSPORT_UNIX) : NULL;
  if (!t) {
    if (s) {
      s->refs = 1;
      cb_stream_release(s);
    }
    return NULL;
  }
  *tp = t;
  return s;
}

int cb_subprocess_exec(cb_loop *l, cb_subprocess *p, char *const argv[], int pipes) {
  memset(p, 0, sizeof *p);
  p->loop = l;
  cb_future_init(&p->exited, l);
  cb_stream **streams[3] = {&p->in, &p->out, &p->err};
  cb_transport *t[3] = {NULL, NULL, NULL};
  uv_stdio_container_t stdio[3];
  int rc = 0;
  for (int k = 0; k < 3; k++) {
    if (!(pipes & (1 << k))) {
      stdio[k].flags = UV_INHERIT_FD;
      stdio[k].data.fd = k;
      continue;
    }
    *streams[k] = pipe_stream(l, &t[k]);
    if (!*streams[k]) rc = -ENOMEM;
    if (rc) break;
    stdio[k].flags = UV_CREATE_PIPE | (k == 0 ? UV_READABLE_PIPE : UV_WRITABLE_PIPE);
    stdio[k].data.stream = &t[k]->h.stream;
  }
  uv_process_options_t opt = {.exit_cb = proc_exited, .file = argv[0], .args = (char **)argv, .stdio_count = 3,
                              .stdio = stdio};
  if (!rc) rc = uv_spawn(&l->uv, &p->proc, &opt);
  p->proc.data = p;
  if (rc) {
    if (p->proc.type == UV_PROCESS) uv_close((uv_handle_t *)&p->proc, NULL);
    for (int k = 0; k < 3; k++) {
      if (t[k]) cb_transport_abort(t[k], rc); /* never made: no connection_lost */
      if (*streams[k]) {
        (*streams[k])->refs = 1;
        cb_stream_release(*streams[k]);
        *streams[k] = NULL;
      }
    }
    return rc;
  }
  p->pid = p->proc.pid;
  p->running = 1;
  for (int k = 0; k < 3; k++)
    if (t[k]) cb__transport_made(t[k], &cb__stream_protocol, *streams[k]);
  return 0;
}

int cb_subprocess_signal(cb_subprocess *p, int sig) {
  if (!p->running) return -ESRCH;
  return uv_process_kill(&p->proc, sig);
}

void cb_subprocess_release(cb_subprocess *p) {
  CB_CHECK(!p->running);
  cb_stream **streams[3] = {&p->in, &p->out, &p->err};
  for (int k = 0; k < 3; k++) {
    if (*streams[k]) cb_stream_release(*streams[k]);
    *streams[k] = NULL;
  }
}

/* Appends the last read to *buf. */
static int append(char **buf, size_t *len, const cb_stream *s) {
  size_t n = s->rd.result.u;
  char *b = realloc(*buf, *len + n + 1);
  if (!b) return -ENOMEM;
  memcpy(b + *len, cb_stream_data(s), n);
  *len += n;
  b[*len] = 0;
  *buf = b;
  return 0;
}

int cb_communicate(cb_task *task, void *vf) {
  cb_communicate_frame *f = vf;
  cb_stream *s;
  CB_CO_BEGIN(task, f);
  if (f->p->in) {
    if (f->input_len) cb_stream_write(f->p->in, f->input, f->input_len);
    cb_stream_close(f->p->in); /* after the data went out; the child sees EOF */
  }
  /* Both outputs are read concurrently by their transports; the stream limit
   * only pauses reading when nobody reads, so lift it while we collect. */
  if (f->p->out) cb_stream_set_limit(f->p->out, (size_t)1 << 40);
  if (f->p->err) cb_stream_set_limit(f->p->err, (size_t)1 << 40);
  for (f->which = 0; f->which < 2; f->which++) {
    s = f->which == 0 ? f->p->out : f->p->err;
    if (!s) continue;
    for (;;) {
      cb_stream_read(f->which == 0 ? f->p->out : f->p->err, 65536);
      CB_AWAIT(f->which == 0 ? &f->p->out->rd : &f->p->err->rd);
      s = f->which == 0 ? f->p->out : f->p->err;
      if (s->rd.result.u == 0) break;
      if (append(f->which == 0 ? &f->out : &f->err, f->which == 0 ? &f->out_len : &f->err_len, s) != 0)
        CB_RAISE(-ENOMEM, "out of memory collecting the output");
    }
  }
  CB_AWAIT(&f->p->exited);
  CB_RETURN(cb_future_result(&f->p->exited));
  CB_CO_END();
}
