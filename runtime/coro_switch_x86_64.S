/*
 * coro_switch_x86_64.S — the coroutine context switch for x86-64 (System V).
 *
 *   void *rt__coro_switch(void **save_sp, void *load_sp, void *transfer);
 *
 * Pushes the callee-saved registers (rbp, rbx, r12-r15) on the current
 * stack, stores the stack pointer in *save_sp, loads load_sp, pops the
 * registers saved there and returns into the other context, handing it
 * `transfer` as the return value of its own rt__coro_switch call.  The
 * caller-saved registers need no saving: the C compiler already assumes a
 * call clobbers them.  The x87 control word and MXCSR are not switched (no
 * task changes them), which keeps a switch near 5 ns.
 *
 * A new context (sched_coro.c, ctx_make) is a fake frame whose r12 holds
 * the entry argument, r13 the entry function and whose return address is
 * rt__coro_trampoline, which calls entry(arg, transfer) and never returns.
 * Selected at compile time: sched_coro.c uses this file on x86-64 unless
 * LEAKBENCH_CORO_UCONTEXT is defined.
 */
#if defined(__x86_64__)
        .text
        .globl  rt__coro_switch
        .hidden rt__coro_switch
        .type   rt__coro_switch, @function
        .p2align 4
rt__coro_switch:
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
        movq    %rdx, %rax
        ret
        .cfi_endproc
        .size   rt__coro_switch, .-rt__coro_switch

        .globl  rt__coro_trampoline
        .hidden rt__coro_trampoline
        .type   rt__coro_trampoline, @function
        .p2align 4
rt__coro_trampoline:
        .cfi_startproc
        .cfi_undefined rip
        movq    %r12, %rdi
        movq    %rax, %rsi
        callq   *%r13
        ud2
        .cfi_endproc
        .size   rt__coro_trampoline, .-rt__coro_trampoline
#endif
        .section .note.GNU-stack,"",@progbits
