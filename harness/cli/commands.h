/* commands.h — the CLI's subcommands, one file each (cmd_NAME.c). Each takes the
 * arguments after its name and returns the process's exit code. */
#ifndef CB_COMMANDS_H
#define CB_COMMANDS_H

int cb_cmd_list(int argc, char **argv);
int cb_cmd_run(int argc, char **argv);
int cb_cmd_serve(int argc, char **argv);
int cb_cmd_report(int argc, char **argv);
int cb_cmd_bench(int argc, char **argv);
int cb_cmd_compare(int argc, char **argv);
int cb_cmd_advise(int argc, char **argv);
int cb_cmd_microbench(int argc, char **argv);

#endif
