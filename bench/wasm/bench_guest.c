/*
** bench_guest.c -- runs the guest-speed kernels under RUSM's own engine
** (rusm-wasm), for bench/wasm/run.sh.
**
**   bench_guest run FILE.wasm N REPS [SLICE]
**       Loads and instantiates FILE once (not timed), then REPS times calls
**       the export run(N) and times the call to completion. Without SLICE
**       (or SLICE 0) each call is one rusm_wasm_exec_run with unlimited
**       fuel; with SLICE the call runs in slices of SLICE fuel units,
**       resumed after every RUSM_WASM_OUT_OF_FUEL, as the scheduler would.
**       Prints "checksum C ns MEDIAN_NS slices S" (S: slices per call).
**   bench_guest instantiate ITERS
**       Builds a module with one memory page and a 64 KiB active data
**       segment, loads it once, then times rusm_wasm_instantiate +
**       rusm_wasm_instance_free ITERS times in batches; prints
**       "us MEDIAN_US_PER_INSTANTIATE".
** Any engine error is printed on stderr and the exit status is 1.
*/
#define _POSIX_C_SOURCE 200809L
#include <rusm/wasm.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  uint8_t *buf = NULL;
  size_t cap = 0, n = 0;
  for (;;) {
    if (n == cap) {
      cap = cap ? cap * 2 : 65536;
      uint8_t *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = nb;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    if (got == 0) break;
    n += got;
  }
  fclose(f);
  *len = n;
  return buf;
}

static const char *error_kind(rusm_wasm_error_kind k) {
  switch (k) {
  case RUSM_WASM_OK: return "ok";
  case RUSM_WASM_ERR_MALFORMED: return "malformed";
  case RUSM_WASM_ERR_INVALID: return "invalid";
  case RUSM_WASM_ERR_LINK: return "link";
  case RUSM_WASM_ERR_TRAP: return "trap";
  case RUSM_WASM_ERR_RESOURCE: return "resource";
  case RUSM_WASM_ERR_ARGS: return "args";
  }
  return "?";
}

/* Reads, loads for `tier` (timed into *load_ns: for the compiled tier it
** includes compiling) and instantiates path; NULL after saying why. The
** caller frees the instance, then *m. */
static rusm_wasm_instance *load_instance(const char *path, rusm_wasm_tier tier, rusm_wasm_module **m,
                                         uint64_t *load_ns) {
  size_t len = 0;
  uint8_t *bytes = read_file(path, &len);
  if (!bytes) {
    fprintf(stderr, "bench_guest: cannot read %s\n", path);
    return NULL;
  }
  rusm_wasm_error err;
  memset(&err, 0, sizeof err);
  uint64_t l0 = now_ns();
  *m = rusm_wasm_module_load_tier(bytes, len, tier, &err);
  *load_ns = now_ns() - l0;
  free(bytes);
  if (!*m) {
    fprintf(stderr, "bench_guest: %s: load failed (%s, offset 0x%x): %s\n", path,
            error_kind(err.kind), (unsigned)err.offset, err.message);
    return NULL;
  }
  rusm_wasm_instance *inst = rusm_wasm_instantiate(*m, NULL, &err);
  if (!inst) {
    fprintf(stderr, "bench_guest: %s: instantiate failed (%s): %s\n", path,
            error_kind(err.kind), err.message);
    rusm_wasm_module_free(*m);
  }
  return inst;
}

static int cmd_run(const char *path, uint32_t n, int reps, uint64_t slice, rusm_wasm_tier tier) {
  rusm_wasm_module *m = NULL;
  uint64_t load_ns = 0;
  rusm_wasm_instance *inst = load_instance(path, tier, &m, &load_ns);
  if (!inst) return 1;
  rusm_wasm_error err;
  memset(&err, 0, sizeof err);
  if (reps < 1 || reps > 1000) reps = 1;
  uint64_t t[1000];
  uint32_t first = 0;
  uint64_t slices = 0;
  int rc = 0;
  for (int r = 0; r < reps && rc == 0; r++) {
    rusm_wasm_exec *e = rusm_wasm_exec_new(inst);
    if (!e) {
      fprintf(stderr, "bench_guest: %s: rusm_wasm_exec_new failed\n", path);
      rc = 1;
      break;
    }
    rusm_wasm_val arg = {.type = RUSM_WASM_I32, .of.i32 = (int32_t)n};
    uint64_t t0 = now_ns();
    if (rusm_wasm_exec_call(e, "run", &arg, 1, &err) != 0) {
      fprintf(stderr, "bench_guest: %s: call failed (%s): %s\n", path,
              error_kind(err.kind), err.message);
      rusm_wasm_exec_free(e);
      rc = 1;
      break;
    }
    rusm_wasm_status st;
    uint64_t s = 0;
    do {
      st = rusm_wasm_exec_run(e, slice ? slice : RUSM_WASM_FUEL_UNLIMITED);
      s++;
    } while (st == RUSM_WASM_OUT_OF_FUEL && slice);
    t[r] = now_ns() - t0;
    slices = s;
    if (st == RUSM_WASM_RETURNED) {
      rusm_wasm_val res;
      memset(&res, 0, sizeof res);
      if (rusm_wasm_exec_results(e, &res, 1) != 1) {
        fprintf(stderr, "bench_guest: %s: no result\n", path);
        rc = 1;
      } else {
        uint32_t c = (uint32_t)res.of.i32;
        if (r == 0) first = c;
        else if (c != first) {
          fprintf(stderr, "bench_guest: %s: checksum changed between calls: %u vs %u\n", path, first, c);
          rc = 1;
        }
      }
    } else if (st == RUSM_WASM_TRAPPED) {
      uint32_t fn = 0, off = 0;
      rusm_wasm_trap tr = rusm_wasm_exec_trap(e, &fn, &off);
      fprintf(stderr, "bench_guest: %s: trapped: %s (func %u, offset 0x%x)\n", path,
              rusm_wasm_trap_message(tr), (unsigned)fn, (unsigned)off);
      rc = 1;
    } else {
      fprintf(stderr, "bench_guest: %s: unexpected status %d after %llu slices\n", path,
              (int)st, (unsigned long long)s);
      rc = 1;
    }
    rusm_wasm_exec_free(e);
  }
  rusm_wasm_instance_free(inst);
  rusm_wasm_module_free(m);
  if (rc) return rc;
  /* The first call apart: for AUTO, the one that runs while the module
  ** tiers up (CPU time of the process, so the compile thread's included). */
  uint64_t first_ns = t[0];
  qsort(t, (size_t)reps, sizeof t[0], cmp_u64);
  printf("checksum %u ns %llu slices %llu load_ns %llu first_ns %llu\n", first,
         (unsigned long long)t[reps / 2], (unsigned long long)slices, (unsigned long long)load_ns,
         (unsigned long long)first_ns);
  return 0;
}

static size_t put_leb(uint8_t *p, uint32_t v) {
  size_t i = 0;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    p[i++] = v ? (uint8_t)(b | 0x80) : b;
  } while (v);
  return i;
}

/* (module (memory 1) (data (i32.const 0) "<65536 bytes>")) */
static uint8_t *make_instantiate_module(size_t *len) {
  const uint32_t data_len = 65536;
  uint8_t *p = malloc(data_len + 64);
  if (!p) return NULL;
  size_t o = 0;
  static const uint8_t header[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  memcpy(p, header, sizeof header);
  o += sizeof header;
  /* memory section: one memory, min 1 page, no max */
  p[o++] = 5;
  p[o++] = 3;
  p[o++] = 1;
  p[o++] = 0;
  p[o++] = 1;
  /* data section: one active segment for memory 0 at i32.const 0 */
  uint8_t seg[16];
  size_t sl = 0;
  seg[sl++] = 1;    /* count */
  seg[sl++] = 0;    /* active, memory 0 */
  seg[sl++] = 0x41; /* i32.const 0 */
  seg[sl++] = 0;
  seg[sl++] = 0x0b; /* end */
  sl += put_leb(seg + sl, data_len);
  p[o++] = 11;
  o += put_leb(p + o, (uint32_t)sl + data_len);
  memcpy(p + o, seg, sl);
  o += sl;
  for (uint32_t i = 0; i < data_len; i++) p[o + i] = (uint8_t)(i * 131u + 7u);
  o += data_len;
  *len = o;
  return p;
}

static int cmd_instantiate(int iters) {
  size_t len = 0;
  uint8_t *bytes = make_instantiate_module(&len);
  if (!bytes) return 1;
  rusm_wasm_error err;
  memset(&err, 0, sizeof err);
  rusm_wasm_module *m = rusm_wasm_module_load(bytes, len, &err);
  free(bytes);
  if (!m) {
    fprintf(stderr, "bench_guest: instantiate module: load failed (%s, offset 0x%x): %s\n",
            error_kind(err.kind), (unsigned)err.offset, err.message);
    return 1;
  }
  /* check once that the data landed */
  rusm_wasm_instance *probe = rusm_wasm_instantiate(m, NULL, &err);
  if (!probe) {
    fprintf(stderr, "bench_guest: instantiate failed (%s): %s\n", error_kind(err.kind), err.message);
    rusm_wasm_module_free(m);
    return 1;
  }
  uint8_t b[2] = {0, 0};
  if (!rusm_wasm_memory_read(probe, 65535, b, 1) || b[0] != (uint8_t)(65535u * 131u + 7u)) {
    fprintf(stderr, "bench_guest: instantiate: data segment not applied\n");
    rusm_wasm_instance_free(probe);
    rusm_wasm_module_free(m);
    return 1;
  }
  rusm_wasm_instance_free(probe);
  enum { BATCHES = 21 };
  int per = iters / BATCHES > 0 ? iters / BATCHES : 1;
  uint64_t t[BATCHES];
  for (int bi = 0; bi < BATCHES; bi++) {
    uint64_t t0 = now_ns();
    for (int i = 0; i < per; i++) {
      rusm_wasm_instance *inst = rusm_wasm_instantiate(m, NULL, &err);
      if (!inst) {
        fprintf(stderr, "bench_guest: instantiate failed (%s): %s\n", error_kind(err.kind), err.message);
        rusm_wasm_module_free(m);
        return 1;
      }
      rusm_wasm_instance_free(inst);
    }
    t[bi] = now_ns() - t0;
  }
  rusm_wasm_module_free(m);
  qsort(t, BATCHES, sizeof t[0], cmp_u64);
  printf("us %.2f\n", (double)t[BATCHES / 2] / per / 1000.0);
  return 0;
}

/* The time a tier-up takes: load for the interpreter, instantiate, then
** rusm_wasm_module_compile (with the on-stack replacement entries, unlike
** a load for the compiled tier). */
static int cmd_tierup(const char *path) {
  rusm_wasm_module *m = NULL;
  uint64_t load_ns = 0;
  rusm_wasm_instance *inst = load_instance(path, RUSM_WASM_TIER_INTERP, &m, &load_ns);
  if (!inst) return 1;
  rusm_wasm_error err;
  uint64_t t0 = now_ns();
  int rc = rusm_wasm_module_compile(m, &err);
  uint64_t ns = now_ns() - t0;
  if (rc != 0) fprintf(stderr, "bench_guest: %s: tier-up failed: %s\n", path, err.message);
  else printf("tierup_ns %llu\n", (unsigned long long)ns);
  rusm_wasm_instance_free(inst);
  rusm_wasm_module_free(m);
  return rc != 0;
}

int main(int argc, char **argv) {
  if (argc >= 5 && strcmp(argv[1], "run") == 0) {
    uint64_t slice = argc >= 6 ? strtoull(argv[5], NULL, 10) : 0;
    rusm_wasm_tier tier = RUSM_WASM_TIER_INTERP;
    if (argc >= 7 && strcmp(argv[6], "compiled") == 0) tier = RUSM_WASM_TIER_COMPILED;
    else if (argc >= 7 && strcmp(argv[6], "auto") == 0) tier = RUSM_WASM_TIER_AUTO;
    return cmd_run(argv[2], (uint32_t)strtoul(argv[3], NULL, 10), atoi(argv[4]), slice, tier);
  }
  if (argc == 3 && strcmp(argv[1], "instantiate") == 0) return cmd_instantiate(atoi(argv[2]));
  if (argc == 3 && strcmp(argv[1], "tierup") == 0) return cmd_tierup(argv[2]);
  fprintf(stderr,
          "usage: %s run FILE.wasm N REPS [SLICE [interp|compiled|auto]]\n"
          "       %s instantiate ITERS\n"
          "       %s tierup FILE.wasm\n",
          argv[0], argv[0], argv[0]);
  return 2;
}
