/*
** cli.h -- the `rusm` command's subcommands. main.c dispatches argv[1] to
** one of these; each gets argv from its own name on (argv[0] = "wasm", ...)
** and returns the process exit status.
*/
#ifndef RUSM_CLI_H
#define RUSM_CLI_H

#include <stdio.h>

/* Exit statuses shared by every subcommand (sysexits.h values for usage
** and input errors, so scripts can tell "you called me wrong" apart). */
enum {
  CLI_OK = 0,
  CLI_TRAP = 1,          /* the guest trapped */
  CLI_BAD_MODULE = 2,    /* malformed / invalid / unlinkable module */
  CLI_USAGE = 64,        /* EX_USAGE: wrong arguments */
  CLI_NO_INPUT = 66      /* EX_NOINPUT: a file cannot be read */
};

/* `rusm wasm ...`: WebAssembly tools (wasm.c). */
int cli_wasm(int argc, char **argv);
/* `rusm wasm invoke FILE.wasm NAME [ARGS...]` (wasm_invoke.c). */
int cli_wasm_invoke(int argc, char **argv);
void cli_wasm_invoke_usage(FILE *out);

#endif
