/* exit_codes.h — every exit code of concbench's programs, defined once (record.h
 * gives them their failure classes; docs/run-record.md shows them as a table that
 * tests/test_record.c checks against this list). Here, not in the harness, because
 * a runtime exits with one too (the green stack overflow). */
#ifndef CB_EXIT_CODES_H
#define CB_EXIT_CODES_H

/* Exit codes of `concbench run` and the tools: X(NAME, code, meaning). */
#define CB_EXIT_CODES(X)                                                                                              \
  X(OK, 0, "every job succeeded and verified")                                                                        \
  X(FAILED, 1, "a job failed or returned a wrong result (error_class says which)")                                    \
  X(USAGE, 2, "bad arguments (a size beyond the model too), or a server or workload that cannot be set up: one line on stderr names it") \
  X(RESOURCE, 3, "the model gave out: threads, processes, descriptors or memory could not be had")                    \
  X(UNSUPPORTED, 4, "the model has no version of the workload: one line on stderr, no JSON")                      \
  X(STACK_OVERFLOW, 70, "a green thread overflowed its stack: one line names its size; rerun with a larger --stack-size") \
  X(INTERRUPTED, 130, "stopped by SIGINT, SIGTERM or SIGHUP: one line names the signal, no JSON; its child processes die with it")

enum {
#define CB_EXIT_ENUM(name, code, meaning) CB_EXIT_##name = code,
  CB_EXIT_CODES(CB_EXIT_ENUM)
#undef CB_EXIT_ENUM
};

enum {
#define CB_EXIT_COUNT(name, code, meaning) +1
  CB_NEXITS = 0 CB_EXIT_CODES(CB_EXIT_COUNT)
#undef CB_EXIT_COUNT
};

#endif
