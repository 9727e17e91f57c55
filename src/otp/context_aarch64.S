/*
** context_aarch64.S -- the coroutine context switch for AArch64 (AAPCS64).
** Same contract as the x86-64 version: the callee-saved registers x19-x30
** and d8-d15 are stored on the stack being left and the stack pointer is the
** whole context.  Untested on this project's CI machines (x86-64 only).
*/
#if defined(__aarch64__)
        .text

        .globl  ru_ctx_switch
        .type   ru_ctx_switch, %function
        .p2align 4
ru_ctx_switch:
        sub     sp, sp, #176
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        stp     d8, d9, [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mov     x9, sp
        str     x9, [x0]
        mov     sp, x1
        b       1f
        .size   ru_ctx_switch, .-ru_ctx_switch

        .globl  ru_ctx_jump
        .type   ru_ctx_jump, %function
        .p2align 4
ru_ctx_jump:
        mov     sp, x0
1:
        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8, d9, [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        add     sp, sp, #176
        ret
        .size   ru_ctx_jump, .-ru_ctx_jump

        .globl  ru_ctx_trampoline
        .type   ru_ctx_trampoline, %function
        .p2align 4
ru_ctx_trampoline:
        mov     x0, x19
        blr     x20
        brk     #0
        .size   ru_ctx_trampoline, .-ru_ctx_trampoline

        .section .note.GNU-stack,"",%progbits
#endif
