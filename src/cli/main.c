/*
** main.c -- the `rusm` command: a dispatcher from the first argument to a
** subcommand. New commands (run, build, dev, attach, bench) are one line in
** `commands` plus their own file.
*/
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} command;

static const command commands[] = {
    {"wasm", cli_wasm, "WebAssembly tools (rusm wasm invoke FILE.wasm NAME [ARGS...])"},
};

static void usage(FILE *out) {
  fprintf(out,
          "usage: rusm COMMAND [ARGS...]\n"
          "       rusm --help | rusm COMMAND --help\n"
          "\n"
          "RUSM, an Erlang/OTP-style actor runtime.\n"
          "\n"
          "commands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf(out,
          "\n"
          "exit status: 0 success, 1 guest trap, 2 bad module, 64 usage error,\n"
          "66 unreadable input.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLI_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    usage(stdout);
    return CLI_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(cmd, commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "rusm: unknown command '%s'\n\n", cmd);
  usage(stderr);
  return CLI_USAGE;
}
