/*
** fuzz_regress.c -- replays every *.wasm under the given directories (or
** the given files) through the fuzz harness (fuzz_load.c): inputs that once
** crashed the engine must load, instantiate and run without crashing now.
** Run by CTest in every build (and under ASan in the sanitizer build).
*/
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spec_host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_one(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return -1;
  }
  struct stat sb;
  if (fstat(fileno(f), &sb) != 0) {
    fclose(f);
    return -1;
  }
  size_t n = (size_t)sb.st_size;
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf || fread(buf, 1, n, f) != n) {
    fclose(f);
    free(buf);
    fprintf(stderr, "%s: read error\n", path);
    return -1;
  }
  fclose(f);
  printf("regress: %s\n", path);
  fflush(stdout);            /* so a crash names its input */
  LLVMFuzzerTestOneInput(buf, n);
  free(buf);
  return 0;
}

static int has_suffix(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

int main(int argc, char **argv) {
  int inputs = 0, errors = 0;
  for (int i = 1; i < argc; i++) {
    struct stat sb;
    if (stat(argv[i], &sb) != 0) {
      perror(argv[i]);
      errors++;
      continue;
    }
    if (!S_ISDIR(sb.st_mode)) {
      errors += run_one(argv[i]) != 0;
      inputs++;
      continue;
    }
    struct dirent **names;
    int n = scandir(argv[i], &names, NULL, alphasort);  /* sorted: reproducible */
    for (int k = 0; k < n; k++) {
      if (has_suffix(names[k]->d_name, ".wasm")) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[i], names[k]->d_name);
        errors += run_one(path) != 0;
        inputs++;
      }
      free(names[k]);
    }
    if (n >= 0) free(names);
  }
  spec_host_cleanup();
  printf("regress: %d inputs replayed, %d unreadable\n", inputs, errors);
  return errors ? 1 : 0;
}
