/* vm: a tiny register bytecode interpreter with switch dispatch (a branchy
** interpreter loop). The guest program loops n times; each iteration runs
** ~25 bytecodes with data-dependent branches, a load, a store and a short
** inner loop. Work per unit of n: one iteration of the guest program. */
#include "kernel.h"

enum {
  HALT, LI, ADD, SUB, MUL, XOR, AND, ADDI, ANDI, SHRI, SHLI,
  LD, ST, JMP, JZ, JNZ, JGEU
};

/* One instruction per word: op | a << 8 | b << 16 | c << 24, where c is
** a register, an 8-bit immediate (signed for ADDI) or a jump target. */
#define I(op, a, b, c) ((uint32_t)(op) | (uint32_t)(a) << 8 | (uint32_t)(b) << 16 | (uint32_t)(uint8_t)(c) << 24)

static uint32_t mem[256];

static uint32_t interpret(const uint32_t *code, uint32_t arg) {
  uint32_t r[16] = {0};
  uint32_t pc = 0;
  r[0] = arg;
  for (;;) {
    uint32_t ins = code[pc++];
    uint32_t a = (ins >> 8) & 15u, b = (ins >> 16) & 15u, c = ins >> 24;
    switch (ins & 0xffu) {
    case HALT: return r[1];
    case LI: r[a] = (ins >> 16); break;
    case ADD: r[a] = r[b] + r[c & 15u]; break;
    case SUB: r[a] = r[b] - r[c & 15u]; break;
    case MUL: r[a] = r[b] * r[c & 15u]; break;
    case XOR: r[a] = r[b] ^ r[c & 15u]; break;
    case AND: r[a] = r[b] & r[c & 15u]; break;
    case ADDI: r[a] = r[b] + (uint32_t)(int32_t)(int8_t)c; break;
    case ANDI: r[a] = r[b] & c; break;
    case SHRI: r[a] = r[b] >> (c & 31u); break;
    case SHLI: r[a] = r[b] << (c & 31u); break;
    case LD: r[a] = mem[r[b] & 255u]; break;
    case ST: mem[r[b] & 255u] = r[a]; break;
    case JMP: pc = c; break;
    case JZ: if (r[a] == 0) pc = c; break;
    case JNZ: if (r[a] != 0) pc = c; break;
    case JGEU: if (r[a] >= r[b]) pc = c; break;
    default: return 0xdeadu;
    }
  }
}

uint32_t run(uint32_t n) {
  enum { L_LOOP = 5, L_EVEN = 12, L_JOIN = 15, L_INNER = 20, L_NEXT = 25, L_END = 27 };
  static const uint32_t prog[] = {
      /* 0 */ I(LI, 5, 1, 0),          /* r5 = 1 (LI takes 16 bits: b|c) */
      /* 1 */ I(LI, 6, 3, 0),          /* r6 = 3 */
      /* 2 */ I(LI, 7, 0, 0),
      /* 3 */ I(LI, 2, 0, 0),          /* i = 0 */
      /* 4 */ I(LI, 1, 7, 0),          /* acc = 7 */
      /* 5 L_LOOP */ I(JGEU, 2, 0, L_END),
      /* 6 */ I(AND, 4, 2, 5),         /* r4 = i & 1 */
      /* 7 */ I(JZ, 4, 0, L_EVEN),
      /* 8 */ I(MUL, 3, 1, 6),         /* odd: x = acc * 3 + 1 */
      /* 9 */ I(ADDI, 3, 3, 1),
      /* 10 */ I(XOR, 1, 1, 3),
      /* 11 */ I(JMP, 0, 0, L_JOIN),
      /* 12 L_EVEN */ I(SHRI, 3, 1, 3),
      /* 13 */ I(ADD, 1, 1, 3),
      /* 14 */ I(SHLI, 7, 1, 5),
      /* 15 L_JOIN */ I(ST, 1, 2, 0),  /* mem[i] = acc */
      /* 16 */ I(ADDI, 9, 2, 17),
      /* 17 */ I(LD, 8, 9, 0),         /* r8 = mem[i + 17] */
      /* 18 */ I(ADD, 1, 1, 8),
      /* 19 */ I(ANDI, 10, 1, 7),      /* inner count = acc & 7 */
      /* 20 L_INNER */ I(JZ, 10, 0, L_NEXT),
      /* 21 */ I(ADDI, 10, 10, -1),
      /* 22 */ I(MUL, 1, 1, 6),
      /* 23 */ I(ADDI, 1, 1, 5),
      /* 24 */ I(JMP, 0, 0, L_INNER),
      /* 25 L_NEXT */ I(ADDI, 2, 2, 1),
      /* 26 */ I(JMP, 0, 0, L_LOOP),
      /* 27 L_END */ I(XOR, 1, 1, 7),
      /* 28 */ I(HALT, 0, 0, 0),
  };
  for (int i = 0; i < 256; i++) mem[i] = (uint32_t)i * 0x9E3779B9u;
  return interpret(prog, n);
}
