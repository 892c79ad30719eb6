/*
 * coro_switch_aarch64.S — the coroutine context switch for AArch64 (AAPCS64).
 *
 *   void *rt__coro_switch(void **save_sp, void *load_sp, void *transfer);
 *
 * Stores the callee-saved registers (x19-x28, the frame pointer x29, the
 * link register x30 and the low halves d8-d15 of v8-v15) in a 176-byte
 * frame on the current stack, saves sp in *save_sp, loads load_sp, reloads
 * the frame saved there and returns through its x30, handing `transfer`
 * over as the return value.
 *
 * A new context (sched_coro.c, ctx_make) is a fake frame with x19 = entry
 * argument, x20 = entry function and x30 = rt__coro_trampoline, which calls
 * entry(arg, transfer) and never returns.  Assembled only on AArch64.
 */
#if defined(__aarch64__)
        .text
        .globl  rt__coro_switch
        .hidden rt__coro_switch
        .type   rt__coro_switch, %function
        .p2align 4
rt__coro_switch:
        .cfi_startproc
        sub     sp, sp, #176
        stp     d8, d9, [sp, #0]
        stp     d10, d11, [sp, #16]
        stp     d12, d13, [sp, #32]
        stp     d14, d15, [sp, #48]
        stp     x19, x20, [sp, #64]
        stp     x21, x22, [sp, #80]
        stp     x23, x24, [sp, #96]
        stp     x25, x26, [sp, #112]
        stp     x27, x28, [sp, #128]
        stp     x29, x30, [sp, #144]
        mov     x9, sp
        str     x9, [x0]
        mov     sp, x1
        ldp     d8, d9, [sp, #0]
        ldp     d10, d11, [sp, #16]
        ldp     d12, d13, [sp, #32]
        ldp     d14, d15, [sp, #48]
        ldp     x19, x20, [sp, #64]
        ldp     x21, x22, [sp, #80]
        ldp     x23, x24, [sp, #96]
        ldp     x25, x26, [sp, #112]
        ldp     x27, x28, [sp, #128]
        ldp     x29, x30, [sp, #144]
        add     sp, sp, #176
        mov     x0, x2
        ret
        .cfi_endproc
        .size   rt__coro_switch, .-rt__coro_switch

        .globl  rt__coro_trampoline
        .hidden rt__coro_trampoline
        .type   rt__coro_trampoline, %function
        .p2align 4
rt__coro_trampoline:
        .cfi_startproc
        .cfi_undefined x30
        mov     x1, x0
        mov     x0, x19
        blr     x20
        brk     #0
        .cfi_endproc
        .size   rt__coro_trampoline, .-rt__coro_trampoline
#endif
        .section .note.GNU-stack,"",%progbits
