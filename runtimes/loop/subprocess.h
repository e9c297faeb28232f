/* subprocess.h — asyncio's create_subprocess_exec: a child process with its
 * stdin/stdout/stderr as pipes, each a cb_stream (stream.h), and an awaitable
 * exit.
 *
 *   cb_subprocess_exec(loop, &f->p, argv, CB_PIPE_IN | CB_PIPE_OUT);
 *   cb_stream_write(f->p.in, ...); cb_stream_close(f->p.in);
 *   cb_stream_read(f->p.out, n); CB_AWAIT(&f->p.out->rd); ...
 *   CB_AWAIT(&f->p.exited);          // result.i: the returncode
 *   cb_subprocess_release(&f->p);
 *
 * returncode: the exit status, or -N when killed by signal N (as asyncio).
 * communicate() is a child coroutine (CB_CALL) on cb_communicate_frame. */
#ifndef CB_LOOP_SUBPROCESS_H
#define CB_LOOP_SUBPROCESS_H

#include <uv.h>

#include "runtimes/loop/stream.h"

enum { CB_PIPE_IN = 1, CB_PIPE_OUT = 2, CB_PIPE_ERR = 4 };

typedef struct cb_subprocess {
  uv_process_t proc;
  cb_loop *loop;
  cb_stream *in, *out, *err; /* NULL when not piped (then inherited) */
  cb_future exited;          /* result.i = returncode, once the process ended */
  int64_t pid;
  int64_t returncode;
  int running;
} cb_subprocess;

/* Spawns argv[0] (searched in PATH) with argv. 0 or negative errno (-ENOENT:
 * no such program; p must then stay alive until the loop ran once, libuv
 * closes the failed handle). Allocation: one stream per pipe. */
int cb_subprocess_exec(cb_loop *loop, cb_subprocess *p, char *const argv[], int pipes);
/* Sends signal sig (kill: SIGKILL, terminate: SIGTERM). 0, or -ESRCH once exited. */
int cb_subprocess_signal(cb_subprocess *p, int sig);
/* Releases the pipe streams (closing them). The process must have exited. */
void cb_subprocess_release(cb_subprocess *p);

/* communicate(input): writes input to stdin and closes it, collects stdout and
 * stderr (whichever are piped) until EOF, awaits the exit. out/err are
 * malloc'd (NUL-terminated; caller frees); co.ret.i = returncode. */
typedef struct cb_communicate_frame {
  cb_co co;
  cb_subprocess *p;
  const char *input;
  size_t input_len;
  char *out, *err;
  size_t out_len, err_len;
  /* internal */
  int which;
} cb_communicate_frame;
int cb_communicate(cb_task *task, void *frame);

#endif
