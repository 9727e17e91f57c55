/*
** interp.h -- the instruction set of translated code: one X-macro list of
** internal operations, shared by the translator (which writes handler
** addresses from this list) and the interpreter (which defines one label
** per entry; a missing label is a compile error).
**
** Operand layout (A(i) = i-th 32-bit operand after the handler cell):
**   binop   [h][a b][d -]      b is a slot, or an immediate in *_si forms
**   unop    [h][a d]           (compares/eqz use the binop size so that the
**                               translator can rewrite them into branches)
**   const   [h][d -][imm64]    const32 [h][d imm32]
**   load    [h][a d][off -]    store [h][a v][off -]
**   br      [h][target]        br_if* [h][c -][target], brc_* [h][a b][target]
**   call    [h][base -][wfunc*]          call_ref [h][base -][wfuncinst*]
**   call_import [h][base fidx]           call_indirect [h][base table][elem canon][functype*]
**   ld*_ss  [h][a b][d off]    st*_ss [h][a b][v off]   (address a + b)
**   ld*_si  [h][a imm][d off]  st*_si [h][a imm][v off] (address a + imm)
**   i32_add_shl [h][a b][d k]  f*_muladd [h][a b][c d]
**   st*_vi [h][a v][off -]  st*_ssvi [h][a b][v off]  st*_sivi [h][a imm][v off]
*/
#ifndef RUSM_WASM_INTERP_H
#define RUSM_WASM_INTERP_H

#define WOP_BIN2(X, p, n) X(p##_##n##_ss) X(p##_##n##_si)
#define WOP_INT_BINS(X, p)                                                     \
  WOP_BIN2(X, p, add) WOP_BIN2(X, p, sub) WOP_BIN2(X, p, mul)                  \
  WOP_BIN2(X, p, div_s) WOP_BIN2(X, p, div_u) WOP_BIN2(X, p, rem_s)            \
  WOP_BIN2(X, p, rem_u) WOP_BIN2(X, p, and) WOP_BIN2(X, p, or)                 \
  WOP_BIN2(X, p, xor) WOP_BIN2(X, p, shl) WOP_BIN2(X, p, shr_s)                \
  WOP_BIN2(X, p, shr_u) WOP_BIN2(X, p, rotl) WOP_BIN2(X, p, rotr)              \
  WOP_BIN2(X, p, eq) WOP_BIN2(X, p, ne) WOP_BIN2(X, p, lt_s)                   \
  WOP_BIN2(X, p, lt_u) WOP_BIN2(X, p, gt_s) WOP_BIN2(X, p, gt_u)               \
  WOP_BIN2(X, p, le_s) WOP_BIN2(X, p, le_u) WOP_BIN2(X, p, ge_s)               \
  WOP_BIN2(X, p, ge_u)
/* Fused compare-and-branch, same order as the compares above. */
#define WOP_BRC(X, p)                                                          \
  WOP_BIN2(X, brc_##p, eq) WOP_BIN2(X, brc_##p, ne)                            \
  WOP_BIN2(X, brc_##p, lt_s) WOP_BIN2(X, brc_##p, lt_u)                        \
  WOP_BIN2(X, brc_##p, gt_s) WOP_BIN2(X, brc_##p, gt_u)                        \
  WOP_BIN2(X, brc_##p, le_s) WOP_BIN2(X, brc_##p, le_u)                        \
  WOP_BIN2(X, brc_##p, ge_s) WOP_BIN2(X, brc_##p, ge_u)
#define WOP_BRCB(X, p)                                                         \
  WOP_BIN2(X, brcb_##p, eq) WOP_BIN2(X, brcb_##p, ne)                          \
  WOP_BIN2(X, brcb_##p, lt_s) WOP_BIN2(X, brcb_##p, lt_u)                      \
  WOP_BIN2(X, brcb_##p, gt_s) WOP_BIN2(X, brcb_##p, gt_u)                      \
  WOP_BIN2(X, brcb_##p, le_s) WOP_BIN2(X, brcb_##p, le_u)                      \
  WOP_BIN2(X, brcb_##p, ge_s) WOP_BIN2(X, brcb_##p, ge_u)
#define WOP_ABRC(X, p)                                                         \
  WOP_BIN2(X, p##_brcb, eq) WOP_BIN2(X, p##_brcb, ne)                          \
  WOP_BIN2(X, p##_brcb, lt_s) WOP_BIN2(X, p##_brcb, lt_u)                      \
  WOP_BIN2(X, p##_brcb, gt_s) WOP_BIN2(X, p##_brcb, gt_u)                      \
  WOP_BIN2(X, p##_brcb, le_s) WOP_BIN2(X, p##_brcb, le_u)                      \
  WOP_BIN2(X, p##_brcb, ge_s) WOP_BIN2(X, p##_brcb, ge_u)
#define WOP_FCMP(X, p)                                                         \
  X(p##_f32_eq) X(p##_f32_ne) X(p##_f32_lt) X(p##_f32_gt) X(p##_f32_le)        \
  X(p##_f32_ge) X(p##_f64_eq) X(p##_f64_ne) X(p##_f64_lt) X(p##_f64_gt)        \
  X(p##_f64_le) X(p##_f64_ge)
#define WOP_FOPCB(X, o)                                                        \
  X(f64_##o##_brcfb_eq) X(f64_##o##_brcfb_ne) X(f64_##o##_brcfb_lt)            \
  X(f64_##o##_brcfb_gt) X(f64_##o##_brcfb_le) X(f64_##o##_brcfb_ge)
#define WOP_ILD(X, l)                                                          \
  X(i32_add_##l) X(i32_sub_##l) X(i32_xor_##l) X(i32_and_##l) X(i32_or_##l)    \
  X(i32_mul_##l)
#define WOP_FLT_BINS(X, p)                                                     \
  X(p##_add) X(p##_sub) X(p##_mul) X(p##_div) X(p##_min) X(p##_max)            \
  X(p##_copysign) X(p##_eq) X(p##_ne) X(p##_lt) X(p##_gt) X(p##_le) X(p##_ge)  \
  X(p##_abs) X(p##_neg) X(p##_ceil) X(p##_floor) X(p##_trunc)                  \
  X(p##_nearest) X(p##_sqrt)

/* Chains (ch: i32, ch64: i64): op1 from the list in WOP_CHAIN_P (its si or
** ss form), then op2 of the same width from the list in WOP_CH_B reading
** op1's result t as its left operand (or as its right one when op2
** commutes; rsub is z - t).  Immediates are 32-bit, sign-extended.  Four layouts per pair, in this order:
**   si_s [h][x k1][z d]   si_i [h][x k1][d k2]
**   ss_s [h][x y][z d]    ss_i [h][x y][d k2]
** The translator computes the index of a pair from the positions in these
** lists, so keep them and the order of the four layouts as they are. */
#define WOP_CH_V(X, p, a, b)                                                   \
  X(p##_##a##_##b##_si_s) X(p##_##a##_##b##_si_i) X(p##_##a##_##b##_ss_s)      \
  X(p##_##a##_##b##_ss_i)
#define WOP_CH_B(X, p, a)                                                      \
  WOP_CH_V(X, p, a, add) WOP_CH_V(X, p, a, sub) WOP_CH_V(X, p, a, rsub)        \
  WOP_CH_V(X, p, a, mul) WOP_CH_V(X, p, a, and) WOP_CH_V(X, p, a, or)          \
  WOP_CH_V(X, p, a, xor) WOP_CH_V(X, p, a, shl) WOP_CH_V(X, p, a, shr_u)
#define WOP_CHAIN_P(X, p)                                                      \
  WOP_CH_B(X, p, add) WOP_CH_B(X, p, sub) WOP_CH_B(X, p, mul)                  \
  WOP_CH_B(X, p, and) WOP_CH_B(X, p, or) WOP_CH_B(X, p, xor)                   \
  WOP_CH_B(X, p, shl) WOP_CH_B(X, p, shr_u)
#define WOP_CHAIN(X) WOP_CHAIN_P(X, ch)
#define WOP_CHAIN64(X) WOP_CHAIN_P(X, ch64)
#define WOP_CH_NOP2 9

#define WOPS(X)                                                                \
  X(unreachable) X(halt) X(loop_head) X(br) X(br_if_nz) X(br_if_z)             \
  X(br_if_nz64) X(br_if_z64) X(br_table) X(return) X(return1)                  \
  X(call) X(call_ref) X(call_import) X(call_indirect)                          \
  X(mov) X(const) X(const32) X(select) X(global_get) X(global_set)             \
  WOP_INT_BINS(X, i32) WOP_INT_BINS(X, i64) WOP_BRC(X, i32) WOP_BRC(X, i64)    \
  WOP_FLT_BINS(X, f32) WOP_FLT_BINS(X, f64)                                    \
  X(i32_eqz) X(i32_clz) X(i32_ctz) X(i32_popcnt) X(i32_extend8_s)              \
  X(i32_extend16_s) X(i64_eqz) X(i64_clz) X(i64_ctz) X(i64_popcnt)             \
  X(i64_extend8_s) X(i64_extend16_s) X(i64_extend32_s)                         \
  X(i32_wrap_i64) X(i32_trunc_f32_s) X(i32_trunc_f32_u) X(i32_trunc_f64_s)     \
  X(i32_trunc_f64_u) X(i64_trunc_f32_s) X(i64_trunc_f32_u)                     \
  X(i64_trunc_f64_s) X(i64_trunc_f64_u) X(f32_convert_i32_s)                   \
  X(f32_convert_i32_u) X(f32_convert_i64_s) X(f32_convert_i64_u)               \
  X(f32_demote_f64) X(f64_convert_i32_s) X(f64_convert_i32_u)                  \
  X(f64_convert_i64_s) X(f64_convert_i64_u) X(f64_promote_f32)                 \
  X(i32_trunc_sat_f32_s) X(i32_trunc_sat_f32_u) X(i32_trunc_sat_f64_s)         \
  X(i32_trunc_sat_f64_u) X(i64_trunc_sat_f32_s) X(i64_trunc_sat_f32_u)         \
  X(i64_trunc_sat_f64_s) X(i64_trunc_sat_f64_u)                                \
  X(ld32) X(ld64) X(ld8s32) X(ld8u) X(ld16s32) X(ld16u) X(ld8s64) X(ld16s64)   \
  X(ld32s64) X(st8) X(st16) X(st32) X(st64)                                    \
  X(memory_size) X(memory_grow) X(memory_init) X(data_drop) X(memory_copy)     \
  X(memory_fill) X(table_get) X(table_set) X(table_size) X(table_grow)         \
  X(table_fill) X(table_copy) X(table_init) X(elem_drop) X(ref_func)          \
  /* Backward branches (to a loop): they charge fuel and skip loop_head. */    \
  X(br_back) X(br_if_nz_back) X(br_if_z_back) X(br_if_nz64_back)              \
  X(br_if_z64_back) WOP_BRCB(X, i32) WOP_BRCB(X, i64)                          \
  /* Superinstructions: loads/stores at a + b (+ off), same order as the      \
  ** plain ones; a + (b << k); a * b + c. */                                   \
  X(ld32_ss) X(ld64_ss) X(ld8s32_ss) X(ld8u_ss) X(ld16s32_ss) X(ld16u_ss)      \
  X(ld8s64_ss) X(ld16s64_ss) X(ld32s64_ss) X(st8_ss) X(st16_ss) X(st32_ss)     \
  X(st64_ss) X(i32_add_shl) X(f32_muladd) X(f64_muladd)                       \
  /* Loads/stores at (a + imm) wrapped to 32 bits, + off. */                   \
  X(ld32_si) X(ld64_si) X(ld8s32_si) X(ld8u_si) X(ld16s32_si) X(ld16u_si)      \
  X(ld8s64_si) X(ld16s64_si) X(ld32s64_si) X(st8_si) X(st16_si) X(st32_si)     \
  X(st64_si)                                                                   \
  /* (a >> k) & m and (a << k) + imm, i32: [h][a k][d imm]. */                \
  X(i32_shr_u_and) X(i32_shl_add)                                              \
  /* Stores of an immediate value: plain, at a + b, at a + imm. */            \
  X(st8_vi) X(st16_vi) X(st32_vi) X(st64_vi) X(st8_ssvi) X(st16_ssvi)          \
  X(st32_ssvi) X(st64_ssvi) X(st8_sivi) X(st16_sivi) X(st32_sivi)              \
  X(st64_sivi)                                                                 \
  /* x op mem[a + off] (r: mem op x), f32/f64: [h][x a][d off]. */            \
  X(f32_add_ld) X(f32_sub_ld) X(f32_rsub_ld) X(f32_mul_ld)                     \
  X(f64_add_ld) X(f64_sub_ld) X(f64_rsub_ld) X(f64_mul_ld)                     \
  /* Loop tails, i32: d = x + imm (addi) or x + z (adds), then a backward   \
  ** brc on d: [h][x imm|z][d y|imm][-][-][target] (6 cells). */             \
  WOP_ABRC(X, addi) WOP_ABRC(X, adds)                                          \
  /* Loads/stores at ((x << k) + imm) wrapped, + off (array indexing):      \
  ** ld [h][x k][d imm][off -], st [h][x k][v imm][off -]. */                \
  X(ld32_sh) X(ld64_sh) X(ld8s32_sh) X(ld8u_sh) X(ld16s32_sh) X(ld16u_sh)      \
  X(ld8s64_sh) X(ld16s64_sh) X(ld32s64_sh) X(st8_sh) X(st16_sh) X(st32_sh)     \
  X(st64_sh)                                                                   \
  /* mem[a + off] = x op mem[a + off], f64: [h][x a][- off]. */              \
  X(f64_add_ldst) X(f64_sub_ldst) X(f64_mul_ldst)                              \
  /* f64 pairs [h][a b][c d]: d = a*b - c, c - a*b, (a*b)*c. */               \
  X(f64_mulsub) X(f64_rmulsub) X(f64_mulmul)                                   \
  /* f64 x op y stored at mem[a + off]: [h][x y][a off]. */                   \
  X(f64_add_st) X(f64_sub_st) X(f64_mul_st)                                    \
  /* x * mem[(a + imm) + off], f64: [h][x a][d imm][off -]. */                \
  X(f64_mul_ldsi) X(f64_add_ldsi) X(f64_sub_ldsi)                              \
  /* Float compare-and-branch [h][a b][target]: brcf if true, brcfn if      \
  ** false (NaN makes the negation a different compare), brcfb backward. */  \
  WOP_FCMP(X, brcf) WOP_FCMP(X, brcfn) WOP_FCMP(X, brcfb)                      \
  /* select on a 64-bit condition; x * k1 + k2; return a + b. */             \
  X(select64) X(i32_mul_add_si) X(i64_mul_add_si) X(i32_add_ret)              \
  /* Loads/stores at a + (b << k) + off: [h][a b][d|v k][off -]. */           \
  X(ld32_ash) X(ld64_ash) X(ld8s32_ash) X(ld8u_ash) X(ld16s32_ash)             \
  X(ld16u_ash) X(ld8s64_ash) X(ld16s64_ash) X(ld32s64_ash) X(st8_ash)          \
  X(st16_ash) X(st32_ash) X(st64_ash)                                          \
  /* A copy then a jump: [h][s d][target]; br_table on x & mask:             \
  ** [h][x n][mask -][target 0..n]. */                                        \
  X(mov_br) X(mov_br_back) X(br_table_and)                                     \
  /* i32 x op mem: ld32/ld8u, plain [h][x a][d off] or at a + imm          \
  ** [h][x a][d imm][off -]; ops add sub xor and or mul. */                  \
  WOP_ILD(X, ld32) WOP_ILD(X, ld8u) WOP_ILD(X, ld32si) WOP_ILD(X, ld8usi)       \
  /* y ^ (x >> k), y ^ (x << k): [h][y x][d k]. */                            \
  X(i32_xor_shr_u) X(i32_xor_shl) X(i64_xor_shr_u) X(i64_xor_shl)              \
  /* mem[a + off1] += x * mem[b (+ imm) + off2], f64:                        \
  ** axpy_ld [h][x b][a off2][off1 -] (6 cells),                              \
  ** axpy_ldsi [h][x b][a imm][off2 off1] (7 cells). */                       \
  X(f64_axpy_ld) X(f64_axpy_ldsi)                                              \
  /* Two copies [h][s1 d1][s2 d2] (in order), and then a jump [target]. */    \
  X(mov2) X(mov2_br) X(mov2_br_back)                                           \
  /* Loads/stores at a constant address: [h][d|v -][ea64]. */                 \
  X(ld32_abs) X(ld64_abs) X(ld8s32_abs) X(ld8u_abs) X(ld16s32_abs)             \
  X(ld16u_abs) X(ld8s64_abs) X(ld16s64_abs) X(ld32s64_abs) X(st8_abs)          \
  X(st16_abs) X(st32_abs) X(st64_abs)                                          \
  /* i32 x op y stored (32 bits) at mem[a + off]: [h][x y][a off]. */         \
  X(i32_add_st32) X(i32_sub_st32) X(i32_mul_st32) X(i32_xor_st32)              \
  X(i32_and_st32) X(i32_or_st32)                                               \
  /* select(a, b, (x & m) != 0), 32/64-bit test, merged from and + eqz +    \
  ** select: [h][a b][x d][m -] (6 cells). */                                \
  X(select_and) X(select_and64)                                                \
  /* y | (x << k), y | (x >> k), i32: [h][y x][d k]. */                      \
  X(i32_or_shl) X(i32_or_shr_u)                                                \
  /* Two 32-bit constants (zero-extended) [h][d1 imm1][d2 imm2], in order. */ \
  X(const2)                                                                    \
  /* d = e = a op b (a local.tee then a local.set of one result):          \
  ** [h][a b|imm][d e]. */                                                   \
  X(i32_add_ss_d2) X(i32_add_si_d2) X(i32_sub_ss_d2) X(i64_add_ss_d2)         \
  X(i64_add_si_d2) X(f64_add_d2) X(f64_sub_d2) X(f64_mul_d2)                 \
  /* x = a + imm into a local, then a load at x + off (a pointer bump):     \
  ** [h][a imm][x d][off -], same order as the plain loads. */             \
  X(ld32_sit) X(ld64_sit) X(ld8s32_sit) X(ld8u_sit) X(ld16s32_sit)             \
  X(ld16u_sit) X(ld8s64_sit) X(ld16s64_sit) X(ld32s64_sit)                      \
  /* A copy then a branch on a 32-bit condition: [h][s d][c -][target]. */ \
  X(mov_br_if_nz) X(mov_br_if_z) X(mov_br_if_nz_back) X(mov_br_if_z_back)     \
  /* Return from a call into another instance (see wframe in rt.h); direct \
  ** calls of a callee that zeroes no local (call0) or one (call1). */       \
  X(xret) X(call0) X(call1)                                 \
  /* The entry stub of a function that tiered up, and the stub its       \
  ** running calls' branches back to a loop go to (tier.c). */             \
  X(jit_entry) X(osr_entry)                                                 \
  /* mem[ea] = x op mem[ea], ea = (a + imm) wrapped + off, f64:             \
  ** [h][x a][- imm][off -]; and mem[ea] += x * mem[eb] with                \
  ** eb = (b + immb) wrapped + off2: [h][x b][a immb][imm off2][off -]      \
  ** after mul_ldsi (8 cells), after a plain mul_ld (immb 0, 7 cells). */   \
  X(f64_add_ldsist) X(f64_sub_ldsist) X(f64_mul_ldsist)                        \
  X(f64_axpy_si2) X(f64_axpy_ld_si)                                           \
  /* i32 chains d = (x op1 y) op2 z: op1's result, a stack temporary, is    \
  ** only read by op2 (see WOP_CHAIN). */                                    \
  WOP_CHAIN(X)                                                                 \
  /* Loop tails d = x + imm (addi) or x + z (adds), then a backward branch  \
  ** if d != 0 (nz) or d == 0 (z): [h][x imm|z][d -][-][-][target]. */      \
  X(addi_brnzb) X(addi_brzb) X(adds_brnzb) X(adds_brzb)                       \
  /* i64 chains (see WOP_CHAIN_P). */                                          \
  WOP_CHAIN64(X)                                                        \
  /* Loads/stores at (a + b + k) wrapped, + off (lazy sums of locals):     \
  ** ld [h][a b][d k][off -], st [h][a b][v k][off -], same order as the    \
  ** plain ones; mem[ea] += x * mem[eb], ea = (a1 + b1 + k1) wrapped + off1, \
  ** eb = (a2 + b2 + k2) wrapped + off2: [h][x a2][b2 k2][off2 a1][b1 k1]    \
  ** [off1 -] (6 cells). */                                                   \
  X(ld32_ssi) X(ld64_ssi) X(ld8s32_ssi) X(ld8u_ssi) X(ld16s32_ssi)             \
  X(ld16u_ssi) X(ld8s64_ssi) X(ld16s64_ssi) X(ld32s64_ssi) X(st8_ssi)          \
  X(st16_ssi) X(st32_ssi) X(st64_ssi) X(f64_axpy_ss2)                         \
  /* f64 (x * y) * z added to mem[ea], ea = (a + imm) wrapped + off:         \
  ** [h][x y][z a][imm off]; subtracted from mem[a + off]: [h][x y][z a]     \
  ** [off -]. */                                                             \
  X(f64_mulmul_addsist) X(f64_mulmul_subldst)                                 \
  /* f64 d = x * sqrt(y): [h][x y][d -]; a*b - x, x - a*b stored at         \
  ** mem[addr + off]: [h][a b][x addr][off -]. */                            \
  X(f64_mul_sqrt) X(f64_mulsub_st) X(f64_rmulsub_st)                                     \
  /* t = x >> k and d = t & m, i32: [h][x k][d m][t -]. */                   \
  X(i32_shr_u_and_t)                                                           \
  /* d2 = a + imm2 (i32), then a load at ((x << k) + imm) wrapped + off:     \
  ** [h][x k][d imm][off a][imm2 d2], same order as the plain loads. */      \
  X(ld32_sha) X(ld64_sha) X(ld8s32_sha) X(ld8u_sha) X(ld16s32_sha)             \
  X(ld16u_sha) X(ld8s64_sha) X(ld16s64_sha) X(ld32s64_sha)                    \
  /* f64 t = x op y, then a backward branch if t cmp z (or z cmp t, by the \
  ** mirrored compare): [h][x y][z -][-][-][target]; op add sub mul, cmp in  \
  ** the order of WOP_FCMP's f64 half. */                                    \
  WOP_FOPCB(X, add) WOP_FOPCB(X, sub) WOP_FOPCB(X, mul)

#define WOP_ENUM(n) WOP_##n,
enum { WOPS(WOP_ENUM) WOP_COUNT };
#undef WOP_ENUM

#endif
