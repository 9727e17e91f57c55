/*
** context_x86_64.S -- the coroutine context switch for x86-64 (System V).
** A context is just a stack pointer: the callee-saved registers are pushed on
** the stack being left, so a switch is six pushes, a store, a load and six
** pops.  ru_ctx_jump abandons the current stack (used after a guard-page
** fault, where the faulting context must never resume).  The x87/SSE control
** words are not switched: the core never changes them, and a body that does
** must restore them before blocking.
*/
#if defined(__x86_64__)
        .text

        .globl  ru_ctx_switch
        .type   ru_ctx_switch, @function
        .p2align 4
/* void ru_ctx_switch(void **save_sp, void *new_sp) */
ru_ctx_switch:
        .cfi_startproc
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .cfi_endproc
        .size   ru_ctx_switch, .-ru_ctx_switch

        .globl  ru_ctx_jump
        .type   ru_ctx_jump, @function
        .p2align 4
/* void ru_ctx_jump(void *new_sp) */
ru_ctx_jump:
        .cfi_startproc
        movq    %rdi, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .cfi_endproc
        .size   ru_ctx_jump, .-ru_ctx_jump

/* First activation of a coroutine: ru_ctx_init leaves the entry function in
** r12 and its argument in rbx.  The zero return address ends backtraces. */
        .globl  ru_ctx_trampoline
        .type   ru_ctx_trampoline, @function
        .p2align 4
ru_ctx_trampoline:
        .cfi_startproc
        .cfi_undefined rip
        movq    %rbx, %rdi
        callq   *%r12
        ud2
        .cfi_endproc
        .size   ru_ctx_trampoline, .-ru_ctx_trampoline

        .section .note.GNU-stack,"",@progbits
#endif
