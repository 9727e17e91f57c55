/*
** wasm.c -- `rusm wasm SUBCOMMAND`: the WebAssembly tool group, a second
** level of dispatch (invoke now; validate, inspect and the like later).
*/
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct subcommand {
  const char *name;
  int (*run)(int argc, char **argv);
  void (*usage)(FILE *out);
} subcommand;

static const subcommand subcommands[] = {
    {"invoke", cli_wasm_invoke, cli_wasm_invoke_usage},
};

static void usage(FILE *out) {
  fprintf(out, "usage: rusm wasm SUBCOMMAND [ARGS...]\n\nsubcommands:\n");
  for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++) {
    fprintf(out, "\n");
    subcommands[i].usage(out);
  }
}

int cli_wasm(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLI_USAGE;
  }
  const char *sub = argv[1];
  if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
    usage(stdout);
    return CLI_OK;
  }
  for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
    if (strcmp(sub, subcommands[i].name) == 0) return subcommands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "rusm wasm: unknown subcommand '%s'\n\n", sub);
  usage(stderr);
  return CLI_USAGE;
}
