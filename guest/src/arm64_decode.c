// SPDX-License-Identifier: GPL-2.0
/*
 * The arm64 backend's decoding of the load or store that hit a watchpoint.
 *
 * do_watchpoint() decodes the trapping instruction into the bytes it
 * accesses (hwbp_decode_access()) and reports the hit to exactly the
 * watchpoints whose bytes overlap them, of the access's type. A length
 * decoded too long hits a watchpoint next to the access, one too short
 * misses a watchpoint on its last bytes, a wrong start or offset misses
 * the first byte or hits the bytes before. So every instruction here runs
 * with watchpoints adjacent to its access: the bytes just before it (to
 * the start of their 8-byte granule), its first byte, its last byte, and
 * the bytes just after it (to the end of their granule). QEMU traps only on
 * a real overlap, so a trap always comes from the first or last byte's
 * watchpoint; which of the four are told is the kernel's decoding alone.
 *
 * Each instruction is one inline asm statement in its own function, run
 * REPS times under perf counting events of this thread (user only), in
 * these configurations:
 *
 *  - rw: every watchpoint load+store: before 0, first 1, last 1, after 0
 *    per execution;
 *  - type (plain loads and stores): before, last and after of the access's
 *    type, first of the other type: only last counts (the kernel keeps the
 *    watchpoints of the type the syndrome's WnR says);
 *  - r, w (atomics, SWP, CAS, CASP: they read and write): all four
 *    watchpoints load-only, then all store-only: first and last count 1
 *    either way (the kernel, finding no watchpoint of the reported type,
 *    takes any live one). QEMU 7.2 with several vCPUs runs an atomic
 *    through atomic_mmu_lookup(), which never checks watchpoints: only
 *    when the page is watched for one direction alone does it fall back
 *    to a serial load and store, which are checked. So an atomic, a CAS
 *    or a store-exclusive on a page watched both ways (an RW watchpoint,
 *    or a load and a store one) never traps there (fixed in QEMU 8.0):
 *    atomics, CAS and store-exclusives run under watchpoints of one
 *    direction only, in the perf and the ptrace parts.
 *    Mixing load-only and store-only watchpoints on one atomic is left
 *    out: which of them is told then depends on WnR, which the
 *    architecture leaves open for an atomic.
 *  - store-exclusives need their load-exclusive just before (a lone STXR
 *    fails without accessing memory); that load would trap on a load
 *    watchpoint, so they run with store-only watchpoints only. The
 *    instruction is not retried: the store after the step may fail, which
 *    does not matter, the one trap was counted. An interrupt between the
 *    two clears the monitor and the store then fails without trapping,
 *    so their checks count one to REPS traps, told alike to every
 *    watchpoint inside the access and to none beside it.
 *
 * SIMD structure loads and stores (LD1-LD4, ST1-ST4, single lanes, LDnR)
 * are decoded like the others; QEMU 7.2 checks an unaligned one against
 * its aligned-down bytes and may trap on the watchpoint just before it,
 * which the decoded span then leaves untold.
 *
 * The encodings the decoder refuses (SVE, DC ZVA, the RCpc unscaled
 * LDAPUR/STLUR) leave the attribution to
 * the address the CPU reports (FAR), which QEMU puts in the watchpoint it
 * matched. With one watchpoint inside the access, that one is hit exactly
 * once per execution and the adjacent ones never (refused rw and type).
 * With two inside (first and last byte), the kernel can tell only the one
 * holding FAR: each counts at most once per execution and at least one of
 * them does (refused two); a decoder that learns these encodings will
 * count both and still pass. DC ZVA zeroes its whole block whatever
 * address in it the register holds: a store watchpoint anywhere in the
 * block is hit once per execution, none outside it.
 *
 * Then a subset under ptrace, one NT_ARM_HW_WATCH register at a time: the
 * tracee stops with SIGTRAP/TRAP_HWBKPT exactly when the access overlaps
 * the watched bytes with the right type, si_addr the first watched byte
 * accessed, and the tracer steps over each hit with the register
 * disabled. While the tracee stops on its first or last byte (store or
 * load+store watchpoints), the tracer also counts, through perf events on
 * the tracee, the bytes just before and after the access: a decoding too
 * long tells those too (0 expected).
 */
#include <stdio.h>
#include "tap.h"
#include "hwbp_guest.h"
#include <linux/auxvec.h>
#include <asm/hwcap.h>

/* <sys/auxv.h> would bring glibc's <elf.h>, which <linux/elf.h> conflicts with. */
extern unsigned long getauxval(unsigned long type);

#ifndef __aarch64__
#error "arm64_decode tests the arm64 decoder"
#endif

#ifndef TRAP_HWBKPT
#define TRAP_HWBKPT	4
#endif
#ifndef HWCAP_ATOMICS
#define HWCAP_ATOMICS	(1 << 8)
#endif
#ifndef HWCAP_LRCPC
#define HWCAP_LRCPC	(1 << 15)
#endif
#ifndef HWCAP_SVE
#define HWCAP_SVE	(1 << 22)
#endif
#ifndef HWCAP_ILRCPC
#define HWCAP_ILRCPC	(1 << 26)
#endif

#define REPS		3

/* Extensions, stated in each asm statement that needs one. */
#define LSE		".arch_extension lse\n\t"
#define RCPC		".arch_extension rcpc\n\t"
#define RCPC2		".arch armv8.4-a\n\t"
#define SVE		".arch_extension sve\n\t"
#define ZQ		"movi v0.2d, #0\n\t"
#define ZCASP		"mov x4, #0\n\tmov x5, #0\n\tmov x6, #0\n\tmov x7, #0\n\t"

/*
 * Where an access lies: in buf (64 bytes in), in the literal pool in
 * .text (32 bytes in: PC-relative loads reach it), or in big (2048 bytes
 * in, aligned to any DC ZVA block, room for any SVE vector).
 */
enum { A_BUF, A_LIT, A_BIG };
/* What the instruction does to memory. */
enum {
	K_LD,		/* loads */
	K_ST,		/* stores */
	K_RMW,		/* reads and writes: LD<op>, SWP, CAS, CASP */
	K_STA,		/* ST<op>: an atomic whose result is discarded */
	K_STX,		/* store-exclusive, after its load-exclusive */
};
#define F_PT		1	/* also in the ptrace subset */
#define F_FB		2	/* the decoder refuses it: FAR decides */
#define N_LSE		1
#define N_RCPC		2
#define N_RCPC2		4
#define N_SVE		8
#define N_ZVA		16
#define LEN_VL		(-1)	/* one SVE vector */
#define LEN_ZVA		(-2)	/* one DC ZVA block */

/*
 * X(id, class, name, area, offset, length, kind, needs, flags, inside,
 *   adjust, index, asm, clobbers...)
 *
 * The function acc_<id>(p) makes the access at p: %0 holds p + adjust
 * (written back by pre- and post-index forms), %1 holds index (register
 * offsets: the extended, shifted index brings %0 back to p). offset is
 * where p lies in the area; inside (refused encodings) is where their
 * one inside watchpoint starts, from the end if negative. Upper halves
 * of a W index are garbage, which the decoder must ignore.
 */
#define ACCESSES(X)							\
/* LDR/STR (immediate, unsigned offset): imm12 scaled by the size */	\
X(ldrb_u,	"imm12", "ldrb", A_BUF, 5, 1, K_LD, 0, 0, 0, -5, 0,	\
  "ldrb w9, [%0, #5]", "x9")						\
X(strb_u,	"imm12", "strb", A_BUF, 3, 1, K_ST, 0, 0, 0, -4095, 0,	\
  "strb wzr, [%0, #4095]")						\
X(ldrh_u,	"imm12", "ldrh", A_BUF, 7, 2, K_LD, 0, 0, 0, -6, 0,	\
  "ldrh w9, [%0, #6]", "x9")						\
X(strh_u,	"imm12", "strh", A_BUF, 2, 2, K_ST, 0, F_PT, 0, -8190, 0,	\
  "strh wzr, [%0, #8190]")						\
X(ldr_w_u,	"imm12", "ldr w", A_BUF, 6, 4, K_LD, 0, 0, 0, -8, 0,	\
  "ldr w9, [%0, #8]", "x9")						\
X(str_w_u,	"imm12", "str w", A_BUF, 1, 4, K_ST, 0, 0, 0, -16380, 0,	\
  "str wzr, [%0, #16380]")						\
X(ldr_x_u,	"imm12", "ldr x", A_BUF, 0, 8, K_LD, 0, 0, 0, -16, 0,	\
  "ldr x9, [%0, #16]", "x9")						\
X(ldr_x_u3,	"imm12", "ldr x", A_BUF, 3, 8, K_LD, 0, F_PT, 0, -32760, 0, \
  "ldr x9, [%0, #32760]", "x9")					\
X(str_x_u,	"imm12", "str x", A_BUF, 4, 8, K_ST, 0, 0, 0, -8, 0,	\
  "str xzr, [%0, #8]")						\
X(ldrsb_w_u,	"imm12", "ldrsb w", A_BUF, 1, 1, K_LD, 0, 0, 0, -1, 0,	\
  "ldrsb w9, [%0, #1]", "x9")						\
X(ldrsb_x_u,	"imm12", "ldrsb x", A_BUF, 6, 1, K_LD, 0, 0, 0, -2, 0,	\
  "ldrsb x9, [%0, #2]", "x9")						\
X(ldrsh_w_u,	"imm12", "ldrsh w", A_BUF, 4, 2, K_LD, 0, 0, 0, -2, 0,	\
  "ldrsh w9, [%0, #2]", "x9")						\
X(ldrsh_x_u,	"imm12", "ldrsh x", A_BUF, 7, 2, K_LD, 0, 0, 0, -4, 0,	\
  "ldrsh x9, [%0, #4]", "x9")						\
X(ldrsw_u,	"imm12", "ldrsw", A_BUF, 5, 4, K_LD, 0, F_PT, 0, -12, 0,	\
  "ldrsw x9, [%0, #12]", "x9")					\
X(ldr_b_u,	"imm12", "ldr b", A_BUF, 7, 1, K_LD, 0, 0, 0, -3, 0,	\
  "ldr b0, [%0, #3]", "v0")						\
X(str_h_u,	"imm12", "str h", A_BUF, 1, 2, K_ST, 0, 0, 0, -2, 0,	\
  ZQ "str h0, [%0, #2]", "v0")					\
X(ldr_s_u,	"imm12", "ldr s", A_BUF, 6, 4, K_LD, 0, 0, 0, -8, 0,	\
  "ldr s0, [%0, #8]", "v0")						\
X(str_d_u,	"imm12", "str d", A_BUF, 2, 8, K_ST, 0, 0, 0, -24, 0,	\
  ZQ "str d0, [%0, #24]", "v0")					\
X(ldr_q_u,	"imm12", "ldr q", A_BUF, 0, 16, K_LD, 0, 0, 0, -32, 0,	\
  "ldr q0, [%0, #32]", "v0")						\
X(str_q_u,	"imm12", "str q", A_BUF, 5, 16, K_ST, 0, F_PT, 0, -65520, 0, \
  ZQ "str q0, [%0, #65520]", "v0")					\
/* LDUR/STUR: imm9, unscaled */						\
X(ldur_x,	"imm9", "ldur x", A_BUF, 1, 8, K_LD, 0, F_PT, 0, 3, 0,	\
  "ldur x9, [%0, #-3]", "x9")						\
X(stur_w,	"imm9", "stur w", A_BUF, 6, 4, K_ST, 0, 0, 0, -255, 0,	\
  "stur wzr, [%0, #255]")						\
X(ldurh,	"imm9", "ldurh", A_BUF, 3, 2, K_LD, 0, 0, 0, 256, 0,	\
  "ldurh w9, [%0, #-256]", "x9")					\
X(sturb,	"imm9", "sturb", A_BUF, 0, 1, K_ST, 0, 0, 0, -7, 0,	\
  "sturb wzr, [%0, #7]")						\
X(ldursw,	"imm9", "ldursw", A_BUF, 4, 4, K_LD, 0, 0, 0, -1, 0,	\
  "ldursw x9, [%0, #1]", "x9")					\
X(ldursh,	"imm9", "ldursh x", A_BUF, 7, 2, K_LD, 0, 0, 0, 1, 0,	\
  "ldursh x9, [%0, #-1]", "x9")					\
X(ldursb,	"imm9", "ldursb w", A_BUF, 2, 1, K_LD, 0, 0, 0, -17, 0,	\
  "ldursb w9, [%0, #17]", "x9")					\
X(ldur_b,	"imm9", "ldur b", A_BUF, 5, 1, K_LD, 0, 0, 0, 2, 0,	\
  "ldur b0, [%0, #-2]", "v0")						\
X(stur_h,	"imm9", "stur h", A_BUF, 7, 2, K_ST, 0, 0, 0, -9, 0,	\
  ZQ "stur h0, [%0, #9]", "v0")					\
X(ldur_s,	"imm9", "ldur s", A_BUF, 3, 4, K_LD, 0, 0, 0, 100, 0,	\
  "ldur s0, [%0, #-100]", "v0")					\
X(stur_d,	"imm9", "stur d", A_BUF, 1, 8, K_ST, 0, 0, 0, -5, 0,	\
  ZQ "stur d0, [%0, #5]", "v0")					\
X(ldur_q,	"imm9", "ldur q", A_BUF, 3, 16, K_LD, 0, F_PT, 0, 7, 0,	\
  "ldur q0, [%0, #-7]", "v0")						\
/* pre-index: imm9, the address written back before the access */	\
X(ldr_x_pre,	"pre-index", "ldr x", A_BUF, 0, 8, K_LD, 0, F_PT, 0, 8, 0, \
  "ldr x9, [%0, #-8]!", "x9")						\
X(str_w_pre,	"pre-index", "str w", A_BUF, 5, 4, K_ST, 0, 0, 0, -3, 0,	\
  "str wzr, [%0, #3]!")						\
X(ldrb_pre,	"pre-index", "ldrb", A_BUF, 4, 1, K_LD, 0, 0, 0, 256, 0,	\
  "ldrb w9, [%0, #-256]!", "x9")					\
X(strh_pre,	"pre-index", "strh", A_BUF, 7, 2, K_ST, 0, 0, 0, -255, 0, \
  "strh wzr, [%0, #255]!")						\
X(ldrsw_pre,	"pre-index", "ldrsw", A_BUF, 2, 4, K_LD, 0, 0, 0, 4, 0,	\
  "ldrsw x9, [%0, #-4]!", "x9")					\
X(ldr_b_pre,	"pre-index", "ldr b", A_BUF, 3, 1, K_LD, 0, 0, 0, -1, 0,	\
  "ldr b0, [%0, #1]!", "v0")						\
X(str_s_pre,	"pre-index", "str s", A_BUF, 6, 4, K_ST, 0, 0, 0, 12, 0,	\
  ZQ "str s0, [%0, #-12]!", "v0")					\
X(str_d_pre,	"pre-index", "str d", A_BUF, 6, 8, K_ST, 0, 0, 0, 1, 0,	\
  ZQ "str d0, [%0, #-1]!", "v0")					\
X(ldr_q_pre,	"pre-index", "ldr q", A_BUF, 2, 16, K_LD, 0, 0, 0, -16, 0, \
  "ldr q0, [%0, #16]!", "v0")						\
/* post-index: the access at the register, written back after */	\
X(ldr_w_post,	"post-index", "ldr w", A_BUF, 4, 4, K_LD, 0, 0, 0, 0, 0, \
  "ldr w9, [%0], #4", "x9")						\
X(str_x_post,	"post-index", "str x", A_BUF, 3, 8, K_ST, 0, F_PT, 0, 0, 0, \
  "str xzr, [%0], #-16")						\
X(ldrh_post,	"post-index", "ldrh", A_BUF, 1, 2, K_LD, 0, 0, 0, 0, 0,	\
  "ldrh w9, [%0], #255", "x9")					\
X(strb_post,	"post-index", "strb", A_BUF, 6, 1, K_ST, 0, 0, 0, 0, 0,	\
  "strb wzr, [%0], #-256")						\
X(ldrsh_post,	"post-index", "ldrsh x", A_BUF, 5, 2, K_LD, 0, 0, 0, 0, 0, \
  "ldrsh x9, [%0], #2", "x9")						\
X(ldr_h_post,	"post-index", "ldr h", A_BUF, 7, 2, K_LD, 0, 0, 0, 0, 0,	\
  "ldr h0, [%0], #-2", "v0")						\
X(str_b_post,	"post-index", "str b", A_BUF, 2, 1, K_ST, 0, 0, 0, 0, 0,	\
  ZQ "str b0, [%0], #1", "v0")					\
X(ldr_s_post,	"post-index", "ldr s", A_BUF, 5, 4, K_LD, 0, 0, 0, 0, 0,	\
  "ldr s0, [%0], #64", "v0")						\
X(str_q_post,	"post-index", "str q", A_BUF, 0, 16, K_ST, 0, 0, 0, 0, 0, \
  ZQ "str q0, [%0], #32", "v0")					\
/* LDTR/STTR: imm9, unprivileged (at EL0, a plain access) */		\
X(ldtr_x,	"unprivileged", "ldtr x", A_BUF, 5, 8, K_LD, 0, F_PT, 0, 5, 0, \
  "ldtr x9, [%0, #-5]", "x9")						\
X(sttr_w,	"unprivileged", "sttr w", A_BUF, 2, 4, K_ST, 0, 0, 0, -9, 0, \
  "sttr wzr, [%0, #9]")						\
X(ldtrb,	"unprivileged", "ldtrb", A_BUF, 0, 1, K_LD, 0, 0, 0, 0, 0, \
  "ldtrb w9, [%0]", "x9")						\
X(sttrh,	"unprivileged", "sttrh", A_BUF, 7, 2, K_ST, 0, 0, 0, -255, 0, \
  "sttrh wzr, [%0, #255]")						\
X(ldtrh,	"unprivileged", "ldtrh", A_BUF, 4, 2, K_LD, 0, 0, 0, 1, 0, \
  "ldtrh w9, [%0, #-1]", "x9")					\
X(ldtrsw,	"unprivileged", "ldtrsw", A_BUF, 6, 4, K_LD, 0, 0, 0, 256, 0, \
  "ldtrsw x9, [%0, #-256]", "x9")					\
X(ldtrsb,	"unprivileged", "ldtrsb x", A_BUF, 3, 1, K_LD, 0, 0, 0, -3, 0, \
  "ldtrsb x9, [%0, #3]", "x9")					\
X(ldtrsh,	"unprivileged", "ldtrsh w", A_BUF, 1, 2, K_LD, 0, 0, 0, 0, 0, \
  "ldtrsh w9, [%0]", "x9")						\
X(sttr_x,	"unprivileged", "sttr x", A_BUF, 0, 8, K_ST, 0, 0, 0, 8, 0, \
  "sttr xzr, [%0, #-8]")						\
/* register offset: option 011 (LSL), 010 (UXTW), 110 (SXTW), 111	\
 * (SXTX), each with S clear (unscaled) and set (scaled by the size) */	\
X(ldr_x_lsl0,	"register offset", "ldr x lsl 0", A_BUF, 0, 8, K_LD, 0, 0, 0, \
  -24, 24, "ldr x9, [%0, %1]", "x9")					\
X(ldr_x_lsl3,	"register offset", "ldr x lsl 3", A_BUF, 3, 8, K_LD, 0, F_PT, 0, \
  -40, 5, "ldr x9, [%0, %1, lsl #3]", "x9")				\
X(ldr_x_uxtw,	"register offset", "ldr x uxtw", A_BUF, 2, 8, K_LD, 0, 0, 0, \
  -0x11, 0xdead000000000011ULL, "ldr x9, [%0, %w1, uxtw]", "x9")	\
X(ldr_x_uxtw3,	"register offset", "ldr x uxtw 3", A_BUF, 0, 8, K_LD, 0, 0, 0, \
  -24, 0xffffffff00000003ULL, "ldr x9, [%0, %w1, uxtw #3]", "x9")	\
X(ldr_x_sxtw,	"register offset", "ldr x sxtw", A_BUF, 6, 8, K_LD, 0, 0, 0, \
  7, 0x00000000fffffff9ULL, "ldr x9, [%0, %w1, sxtw]", "x9")		\
X(str_x_sxtw3,	"register offset", "str x sxtw 3", A_BUF, 1, 8, K_ST, 0, F_PT, 0, \
  16, 0x12345678fffffffeULL, "str xzr, [%0, %w1, sxtw #3]")		\
X(ldr_x_sxtx,	"register offset", "ldr x sxtx", A_BUF, 4, 8, K_LD, 0, 0, 0, \
  9, -9, "ldr x9, [%0, %1, sxtx]", "x9")				\
X(str_x_sxtx3,	"register offset", "str x sxtx 3", A_BUF, 0, 8, K_ST, 0, 0, 0, \
  24, -3, "str xzr, [%0, %1, sxtx #3]")				\
X(ldr_w_lsl2,	"register offset", "ldr w lsl 2", A_BUF, 6, 4, K_LD, 0, 0, 0, \
  -12, 3, "ldr w9, [%0, %1, lsl #2]", "x9")				\
X(str_w_uxtw2,	"register offset", "str w uxtw 2", A_BUF, 2, 4, K_ST, 0, 0, 0, \
  -16, 0xabcd000000000004ULL, "str wzr, [%0, %w1, uxtw #2]")		\
X(ldr_w_sxtx,	"register offset", "ldr w sxtx", A_BUF, 3, 4, K_LD, 0, 0, 0, \
  33, -33, "ldr w9, [%0, %1, sxtx]", "x9")				\
X(ldrh_sxtw,	"register offset", "ldrh sxtw", A_BUF, 7, 2, K_LD, 0, 0, 0, \
  7, 0xfffffff9ULL, "ldrh w9, [%0, %w1, sxtw]", "x9")			\
X(strh_sxtw1,	"register offset", "strh sxtw 1", A_BUF, 4, 2, K_ST, 0, F_PT, 0, \
  6, 0x00000000fffffffdULL, "strh wzr, [%0, %w1, sxtw #1]")		\
X(ldrh_uxtw1,	"register offset", "ldrh uxtw 1", A_BUF, 1, 2, K_LD, 0, 0, 0, \
  -10, 0x7fffffff00000005ULL, "ldrh w9, [%0, %w1, uxtw #1]", "x9")	\
X(ldrb_sxtx,	"register offset", "ldrb sxtx", A_BUF, 5, 1, K_LD, 0, 0, 0, \
  9, -9, "ldrb w9, [%0, %1, sxtx]", "x9")				\
X(strb_lsl0,	"register offset", "strb lsl 0 (S set)", A_BUF, 3, 1, K_ST, 0, 0, 0, \
  -12, 12, "strb wzr, [%0, %1, lsl #0]")				\
X(ldrb_reg,	"register offset", "ldrb (S clear)", A_BUF, 1, 1, K_LD, 0, 0, 0, \
  -100, 100, "ldrb w9, [%0, %1]", "x9")				\
X(ldrsw_sxtw2,	"register offset", "ldrsw sxtw 2", A_BUF, 3, 4, K_LD, 0, 0, 0, \
  16, 0x77777777fffffffcULL, "ldrsw x9, [%0, %w1, sxtw #2]", "x9")	\
X(ldrsh_lsl1,	"register offset", "ldrsh x lsl 1", A_BUF, 5, 2, K_LD, 0, 0, 0, \
  -4, 2, "ldrsh x9, [%0, %1, lsl #1]", "x9")				\
X(ldrsb_uxtw,	"register offset", "ldrsb w uxtw", A_BUF, 6, 1, K_LD, 0, 0, 0, \
  -1, 0x8000000000000001ULL, "ldrsb w9, [%0, %w1, uxtw]", "x9")	\
X(ldr_q_lsl4,	"register offset", "ldr q lsl 4", A_BUF, 0, 16, K_LD, 0, F_PT, 0, \
  -32, 2, "ldr q0, [%0, %1, lsl #4]", "v0")				\
X(str_q_sxtw,	"register offset", "str q sxtw", A_BUF, 3, 16, K_ST, 0, 0, 0, \
  5, 0xfffffffbULL, ZQ "str q0, [%0, %w1, sxtw]", "v0")		\
X(ldr_q_uxtw4,	"register offset", "ldr q uxtw 4", A_BUF, 8, 16, K_LD, 0, 0, 0, \
  -48, 0x5555555500000003ULL, "ldr q0, [%0, %w1, uxtw #4]", "v0")	\
X(ldr_d_uxtw3,	"register offset", "ldr d uxtw 3", A_BUF, 4, 8, K_LD, 0, 0, 0, \
  -16, 0x1234000000000002ULL, "ldr d0, [%0, %w1, uxtw #3]", "v0")	\
X(str_d_lsl0,	"register offset", "str d lsl 0", A_BUF, 1, 8, K_ST, 0, 0, 0, \
  -3, 3, ZQ "str d0, [%0, %1]", "v0")					\
X(str_s_sxtx2,	"register offset", "str s sxtx 2", A_BUF, 5, 4, K_ST, 0, 0, 0, \
  8, -2, ZQ "str s0, [%0, %1, sxtx #2]", "v0")			\
X(ldr_s_reg,	"register offset", "ldr s lsl 0", A_BUF, 1, 4, K_LD, 0, 0, 0, \
  -40, 40, "ldr s0, [%0, %1]", "v0")					\
X(ldr_h_lsl1,	"register offset", "ldr h lsl 1", A_BUF, 7, 2, K_LD, 0, 0, 0, \
  -6, 3, "ldr h0, [%0, %1, lsl #1]", "v0")				\
X(str_h_sxtw,	"register offset", "str h sxtw", A_BUF, 2, 2, K_ST, 0, 0, 0, \
  1, 0xffffffffULL, ZQ "str h0, [%0, %w1, sxtw]", "v0")		\
X(str_b_uxtw,	"register offset", "str b uxtw", A_BUF, 2, 1, K_ST, 0, 0, 0, \
  -9, 0xffff000000000009ULL, ZQ "str b0, [%0, %w1, uxtw]", "v0")	\
X(ldr_b_sxtw0,	"register offset", "ldr b sxtw 0 (S set)", A_BUF, 6, 1, K_LD, 0, 0, 0, \
  2, 0xfffffffeULL, "ldr b0, [%0, %w1, sxtw #0]", "v0")		\
/* atomics (LSE): LD<op>, ST<op>, SWP; each size, some ordered */	\
X(ldaddb,	"atomic", "ldaddb", A_BUF, 5, 1, K_RMW, N_LSE, F_PT, 0, 0, 0, \
  LSE "ldaddb wzr, w9, [%0]", "x9")					\
X(ldaddh,	"atomic", "ldaddh", A_BUF, 2, 2, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "ldaddh wzr, w9, [%0]", "x9")					\
X(ldadd_w,	"atomic", "ldadd w", A_BUF, 4, 4, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "ldadd wzr, w9, [%0]", "x9")					\
X(ldadd_x,	"atomic", "ldadd x", A_BUF, 8, 8, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "ldadd xzr, x9, [%0]", "x9")					\
X(ldaddal_w,	"atomic", "ldaddal w", A_BUF, 12, 4, K_RMW, N_LSE, F_PT, 0, 0, 0, \
  LSE "ldaddal wzr, w9, [%0]", "x9")					\
X(ldclrab,	"atomic", "ldclrab", A_BUF, 3, 1, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "ldclrab wzr, w9, [%0]", "x9")					\
X(ldclrlh,	"atomic", "ldclrlh", A_BUF, 6, 2, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "ldclrlh wzr, w9, [%0]", "x9")					\
X(ldclral_x,	"atomic", "ldclral x", A_BUF, 0, 8, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "ldclral xzr, x9, [%0]", "x9")					\
X(ldeorb,	"atomic", "ldeorb", A_BUF, 7, 1, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "ldeorb wzr, w9, [%0]", "x9")					\
X(ldeora_w,	"atomic", "ldeora w", A_BUF, 4, 4, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "ldeora wzr, w9, [%0]", "x9")					\
X(ldeorl_x,	"atomic", "ldeorl x", A_BUF, 8, 8, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "ldeorl xzr, x9, [%0]", "x9")					\
X(ldsetalh,	"atomic", "ldsetalh", A_BUF, 2, 2, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "ldsetalh wzr, w9, [%0]", "x9")					\
X(ldset_w,	"atomic", "ldset w", A_BUF, 0, 4, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "ldset wzr, w9, [%0]", "x9")					\
X(ldseta_x,	"atomic", "ldseta x", A_BUF, 16, 8, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "ldseta xzr, x9, [%0]", "x9")					\
X(ldsmaxb,	"atomic", "ldsmaxb", A_BUF, 1, 1, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "ldsmaxb wzr, w9, [%0]", "x9")					\
X(ldsminh,	"atomic", "ldsminh", A_BUF, 4, 2, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "ldsminh wzr, w9, [%0]", "x9")					\
X(ldumax_w,	"atomic", "ldumax w", A_BUF, 4, 4, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "ldumax wzr, w9, [%0]", "x9")					\
X(lduminal_x,	"atomic", "lduminal x", A_BUF, 8, 8, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "lduminal xzr, x9, [%0]", "x9")					\
X(ldsmaxl_x,	"atomic", "ldsmaxl x", A_BUF, 0, 8, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "ldsmaxl xzr, x9, [%0]", "x9")					\
X(swpb,		"atomic", "swpb", A_BUF, 7, 1, K_RMW, N_LSE, 0, 0, 0, 0,	\
  LSE "swpb wzr, w9, [%0]", "x9")					\
X(swph,		"atomic", "swph", A_BUF, 6, 2, K_RMW, N_LSE, 0, 0, 0, 0,	\
  LSE "swph wzr, w9, [%0]", "x9")					\
X(swpa_w,	"atomic", "swpa w", A_BUF, 4, 4, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "swpa wzr, w9, [%0]", "x9")					\
X(swpal_x,	"atomic", "swpal x", A_BUF, 8, 8, K_RMW, N_LSE, F_PT, 0, 0, 0, \
  LSE "swpal xzr, x9, [%0]", "x9")					\
X(swpl_x,	"atomic", "swpl x", A_BUF, 0, 8, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "swpl xzr, x9, [%0]", "x9")					\
X(staddb,	"atomic", "staddb", A_BUF, 1, 1, K_STA, N_LSE, 0, 0, 0, 0, \
  LSE "staddb wzr, [%0]")						\
X(stclrlh,	"atomic", "stclrlh", A_BUF, 6, 2, K_STA, N_LSE, 0, 0, 0, 0, \
  LSE "stclrlh wzr, [%0]")						\
X(steor_w,	"atomic", "steor w", A_BUF, 4, 4, K_STA, N_LSE, 0, 0, 0, 0, \
  LSE "steor wzr, [%0]")						\
X(stsetl_x,	"atomic", "stsetl x", A_BUF, 8, 8, K_STA, N_LSE, 0, 0, 0, 0, \
  LSE "stsetl xzr, [%0]")						\
/* LDAPR (RCpc): in the atomics' encoding space, a plain load */	\
X(ldaprb,	"rcpc", "ldaprb", A_BUF, 3, 1, K_LD, N_RCPC, 0, 0, 0, 0,	\
  RCPC "ldaprb w9, [%0]", "x9")					\
X(ldaprh,	"rcpc", "ldaprh", A_BUF, 6, 2, K_LD, N_RCPC, 0, 0, 0, 0,	\
  RCPC "ldaprh w9, [%0]", "x9")					\
X(ldapr_w,	"rcpc", "ldapr w", A_BUF, 4, 4, K_LD, N_RCPC, 0, 0, 0, 0, \
  RCPC "ldapr w9, [%0]", "x9")					\
X(ldapr_x,	"rcpc", "ldapr x", A_BUF, 8, 8, K_LD, N_RCPC, 0, 0, 0, 0, \
  RCPC "ldapr x9, [%0]", "x9")					\
/* CAS: memory is 0 and so is Rs: the compare succeeds, 0 is stored */	\
X(casb,		"cas", "casb", A_BUF, 3, 1, K_RMW, N_LSE, F_PT, 0, 0, 0,	\
  LSE "casb wzr, wzr, [%0]")						\
X(casab,	"cas", "casab", A_BUF, 6, 1, K_RMW, N_LSE, 0, 0, 0, 0,	\
  LSE "casab wzr, wzr, [%0]")						\
X(casalb,	"cas", "casalb", A_BUF, 0, 1, K_RMW, N_LSE, 0, 0, 0, 0,	\
  LSE "casalb wzr, wzr, [%0]")					\
X(cash,		"cas", "cash", A_BUF, 6, 2, K_RMW, N_LSE, 0, 0, 0, 0,	\
  LSE "cash wzr, wzr, [%0]")						\
X(caslh,	"cas", "caslh", A_BUF, 2, 2, K_RMW, N_LSE, 0, 0, 0, 0,	\
  LSE "caslh wzr, wzr, [%0]")						\
X(casalh,	"cas", "casalh", A_BUF, 0, 2, K_RMW, N_LSE, F_PT, 0, 0, 0, \
  LSE "casalh wzr, wzr, [%0]")					\
X(cas_w,	"cas", "cas w", A_BUF, 4, 4, K_RMW, N_LSE, 0, 0, 0, 0,	\
  LSE "cas wzr, wzr, [%0]")						\
X(casl_w,	"cas", "casl w", A_BUF, 0, 4, K_RMW, N_LSE, 0, 0, 0, 0,	\
  LSE "casl wzr, wzr, [%0]")						\
X(casal_w,	"cas", "casal w", A_BUF, 12, 4, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE "casal wzr, wzr, [%0]")						\
X(cas_x,	"cas", "cas x", A_BUF, 8, 8, K_RMW, N_LSE, F_PT, 0, 0, 0,	\
  LSE "cas xzr, xzr, [%0]")						\
X(casa_x,	"cas", "casa x", A_BUF, 16, 8, K_RMW, N_LSE, 0, 0, 0, 0,	\
  LSE "casa xzr, xzr, [%0]")						\
X(casal_x,	"cas", "casal x", A_BUF, 0, 8, K_RMW, N_LSE, F_PT, 0, 0, 0, \
  LSE "casal xzr, xzr, [%0]")						\
/* CASP: a pair of W (8 bytes) or X (16 bytes) registers, size in bit 30 */ \
X(casp_w,	"casp", "casp w pair", A_BUF, 8, 8, K_RMW, N_LSE, F_PT, 0, 0, 0, \
  LSE ZCASP "casp w4, w5, w6, w7, [%0]", "x4", "x5", "x6", "x7")	\
X(caspal_w,	"casp", "caspal w pair", A_BUF, 0, 8, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE ZCASP "caspal w4, w5, w6, w7, [%0]", "x4", "x5", "x6", "x7")	\
X(caspl_w,	"casp", "caspl w pair", A_BUF, 16, 8, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE ZCASP "caspl w4, w5, w6, w7, [%0]", "x4", "x5", "x6", "x7")	\
X(casp_x,	"casp", "casp x pair", A_BUF, 16, 16, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE ZCASP "casp x4, x5, x6, x7, [%0]", "x4", "x5", "x6", "x7")	\
X(caspa_x,	"casp", "caspa x pair", A_BUF, 0, 16, K_RMW, N_LSE, 0, 0, 0, 0, \
  LSE ZCASP "caspa x4, x5, x6, x7, [%0]", "x4", "x5", "x6", "x7")	\
X(caspal_x,	"casp", "caspal x pair", A_BUF, 0, 16, K_RMW, N_LSE, F_PT, 0, 0, 0, \
  LSE ZCASP "caspal x4, x5, x6, x7, [%0]", "x4", "x5", "x6", "x7")	\
/* load-exclusive (then CLREX), store-exclusive after its load */	\
X(ldxrb,	"exclusive", "ldxrb", A_BUF, 5, 1, K_LD, 0, 0, 0, 0, 0,	\
  "ldxrb w9, [%0]\n\tclrex", "x9")					\
X(ldxrh,	"exclusive", "ldxrh", A_BUF, 2, 2, K_LD, 0, 0, 0, 0, 0,	\
  "ldxrh w9, [%0]\n\tclrex", "x9")					\
X(ldxr_w,	"exclusive", "ldxr w", A_BUF, 4, 4, K_LD, 0, 0, 0, 0, 0,	\
  "ldxr w9, [%0]\n\tclrex", "x9")					\
X(ldxr_x,	"exclusive", "ldxr x", A_BUF, 8, 8, K_LD, 0, F_PT, 0, 0, 0, \
  "ldxr x9, [%0]\n\tclrex", "x9")					\
X(ldaxrb,	"exclusive", "ldaxrb", A_BUF, 1, 1, K_LD, 0, 0, 0, 0, 0,	\
  "ldaxrb w9, [%0]\n\tclrex", "x9")					\
X(ldaxrh,	"exclusive", "ldaxrh", A_BUF, 6, 2, K_LD, 0, 0, 0, 0, 0,	\
  "ldaxrh w9, [%0]\n\tclrex", "x9")					\
X(ldaxr_w,	"exclusive", "ldaxr w", A_BUF, 12, 4, K_LD, 0, 0, 0, 0, 0, \
  "ldaxr w9, [%0]\n\tclrex", "x9")					\
X(ldaxr_x,	"exclusive", "ldaxr x", A_BUF, 0, 8, K_LD, 0, 0, 0, 0, 0,	\
  "ldaxr x9, [%0]\n\tclrex", "x9")					\
X(ldxp_w,	"exclusive", "ldxp w pair", A_BUF, 8, 8, K_LD, 0, F_PT, 0, 0, 0, \
  "ldxp w9, w10, [%0]\n\tclrex", "x9", "x10")				\
X(ldxp_x,	"exclusive", "ldxp x pair", A_BUF, 16, 16, K_LD, 0, F_PT, 0, 0, 0, \
  "ldxp x9, x10, [%0]\n\tclrex", "x9", "x10")				\
X(ldaxp_w,	"exclusive", "ldaxp w pair", A_BUF, 0, 8, K_LD, 0, 0, 0, 0, 0, \
  "ldaxp w9, w10, [%0]\n\tclrex", "x9", "x10")			\
X(ldaxp_x,	"exclusive", "ldaxp x pair", A_BUF, 0, 16, K_LD, 0, 0, 0, 0, 0, \
  "ldaxp x9, x10, [%0]\n\tclrex", "x9", "x10")			\
X(stxrb,	"exclusive", "stxrb", A_BUF, 3, 1, K_STX, 0, F_PT, 0, 0, 0, \
  "ldxrb w9, [%0]\n\tstxrb w10, w9, [%0]", "x9", "x10")		\
X(stxrh,	"exclusive", "stxrh", A_BUF, 6, 2, K_STX, 0, 0, 0, 0, 0,	\
  "ldxrh w9, [%0]\n\tstxrh w10, w9, [%0]", "x9", "x10")		\
X(stxr_w,	"exclusive", "stxr w", A_BUF, 4, 4, K_STX, 0, F_PT, 0, 0, 0, \
  "ldxr w9, [%0]\n\tstxr w10, w9, [%0]", "x9", "x10")		\
X(stxr_x,	"exclusive", "stxr x", A_BUF, 8, 8, K_STX, 0, 0, 0, 0, 0,	\
  "ldxr x9, [%0]\n\tstxr w10, x9, [%0]", "x9", "x10")		\
X(stlxrb,	"exclusive", "stlxrb", A_BUF, 7, 1, K_STX, 0, 0, 0, 0, 0,	\
  "ldaxrb w9, [%0]\n\tstlxrb w10, w9, [%0]", "x9", "x10")		\
X(stlxrh,	"exclusive", "stlxrh", A_BUF, 2, 2, K_STX, 0, 0, 0, 0, 0,	\
  "ldaxrh w9, [%0]\n\tstlxrh w10, w9, [%0]", "x9", "x10")		\
X(stlxr_w,	"exclusive", "stlxr w", A_BUF, 12, 4, K_STX, 0, 0, 0, 0, 0, \
  "ldaxr w9, [%0]\n\tstlxr w10, w9, [%0]", "x9", "x10")		\
X(stlxr_x,	"exclusive", "stlxr x", A_BUF, 0, 8, K_STX, 0, 0, 0, 0, 0, \
  "ldaxr x9, [%0]\n\tstlxr w10, x9, [%0]", "x9", "x10")		\
X(stxp_w,	"exclusive", "stxp w pair", A_BUF, 8, 8, K_STX, 0, F_PT, 0, 0, 0, \
  "ldxp w9, w10, [%0]\n\tstxp w11, w9, w10, [%0]", "x9", "x10", "x11") \
X(stxp_x,	"exclusive", "stxp x pair", A_BUF, 0, 16, K_STX, 0, F_PT, 0, 0, 0, \
  "ldxp x9, x10, [%0]\n\tstxp w11, x9, x10, [%0]", "x9", "x10", "x11") \
X(stlxp_w,	"exclusive", "stlxp w pair", A_BUF, 16, 8, K_STX, 0, 0, 0, 0, 0, \
  "ldaxp w9, w10, [%0]\n\tstlxp w11, w9, w10, [%0]", "x9", "x10", "x11") \
X(stlxp_x,	"exclusive", "stlxp x pair", A_BUF, 16, 16, K_STX, 0, 0, 0, 0, 0, \
  "ldaxp x9, x10, [%0]\n\tstlxp w11, x9, x10, [%0]", "x9", "x10", "x11") \
/* load-acquire, store-release: plain loads and stores */		\
X(ldarb,	"acquire/release", "ldarb", A_BUF, 7, 1, K_LD, 0, 0, 0, 0, 0, \
  "ldarb w9, [%0]", "x9")						\
X(ldarh,	"acquire/release", "ldarh", A_BUF, 2, 2, K_LD, 0, F_PT, 0, 0, 0, \
  "ldarh w9, [%0]", "x9")						\
X(ldar_w,	"acquire/release", "ldar w", A_BUF, 4, 4, K_LD, 0, 0, 0, 0, 0, \
  "ldar w9, [%0]", "x9")						\
X(ldar_x,	"acquire/release", "ldar x", A_BUF, 8, 8, K_LD, 0, 0, 0, 0, 0, \
  "ldar x9, [%0]", "x9")						\
X(stlrb,	"acquire/release", "stlrb", A_BUF, 1, 1, K_ST, 0, 0, 0, 0, 0, \
  "stlrb wzr, [%0]")							\
X(stlrh,	"acquire/release", "stlrh", A_BUF, 6, 2, K_ST, 0, 0, 0, 0, 0, \
  "stlrh wzr, [%0]")							\
X(stlr_w,	"acquire/release", "stlr w", A_BUF, 0, 4, K_ST, 0, 0, 0, 0, 0, \
  "stlr wzr, [%0]")							\
X(stlr_x,	"acquire/release", "stlr x", A_BUF, 16, 8, K_ST, 0, F_PT, 0, 0, 0, \
  "stlr xzr, [%0]")							\
/* LDR (literal): PC-relative, into the pool in .text (4-byte aligned) */ \
X(lit_w,	"literal", "ldr w literal", A_LIT, 4, 4, K_LD, 0, 0, 0, 0, 0, \
  "ldr w9, decode_lit_pool + 36", "x9")				\
X(lit_x,	"literal", "ldr x literal", A_LIT, 12, 8, K_LD, 0, F_PT, 0, 0, 0, \
  "ldr x9, decode_lit_pool + 44", "x9")				\
X(lit_sw,	"literal", "ldrsw literal", A_LIT, 0, 4, K_LD, 0, F_PT, 0, 0, 0, \
  "ldrsw x9, decode_lit_pool + 32", "x9")				\
X(lit_s,	"literal", "ldr s literal", A_LIT, 8, 4, K_LD, 0, 0, 0, 0, 0, \
  "ldr s0, decode_lit_pool + 40", "v0")				\
X(lit_d,	"literal", "ldr d literal", A_LIT, 20, 8, K_LD, 0, 0, 0, 0, 0, \
  "ldr d0, decode_lit_pool + 52", "v0")				\
X(lit_q,	"literal", "ldr q literal", A_LIT, 4, 16, K_LD, 0, F_PT, 0, 0, 0, \
  "ldr q0, decode_lit_pool + 36", "v0")				\
/* LDP/STP, LDNP/STNP, LDPSW: imm7 scaled; offset, pre, post */	\
X(ldp_w,	"pair", "ldp w", A_BUF, 4, 8, K_LD, 0, 0, 0, -8, 0,	\
  "ldp w9, w10, [%0, #8]", "x9", "x10")				\
X(stp_w_pre,	"pair", "stp w pre-index", A_BUF, 2, 8, K_ST, 0, 0, 0, 4, 0, \
  "stp wzr, wzr, [%0, #-4]!")						\
X(ldp_w_post,	"pair", "ldp w post-index", A_BUF, 0, 8, K_LD, 0, 0, 0, 0, 0, \
  "ldp w9, w10, [%0], #-256", "x9", "x10")				\
X(ldp_x,	"pair", "ldp x", A_BUF, 0, 16, K_LD, 0, 0, 0, -16, 0,	\
  "ldp x9, x10, [%0, #16]", "x9", "x10")				\
X(stp_x_pre,	"pair", "stp x pre-index", A_BUF, 3, 16, K_ST, 0, F_PT, 0, 16, 0, \
  "stp xzr, xzr, [%0, #-16]!")					\
X(ldp_x_post,	"pair", "ldp x post-index", A_BUF, 8, 16, K_LD, 0, 0, 0, 0, 0, \
  "ldp x9, x10, [%0], #-512", "x9", "x10")				\
X(stp_x,	"pair", "stp x", A_BUF, 5, 16, K_ST, 0, 0, 0, -504, 0,	\
  "stp xzr, xzr, [%0, #504]")						\
X(ldp_s,	"pair", "ldp s", A_BUF, 1, 8, K_LD, 0, 0, 0, -4, 0,	\
  "ldp s0, s1, [%0, #4]", "v0", "v1")				\
X(stp_s_pre,	"pair", "stp s pre-index", A_BUF, 6, 8, K_ST, 0, 0, 0, 8, 0, \
  ZQ "stp s0, s0, [%0, #-8]!", "v0")					\
X(ldp_d_post,	"pair", "ldp d post-index", A_BUF, 4, 16, K_LD, 0, 0, 0, 0, 0, \
  "ldp d0, d1, [%0], #8", "v0", "v1")				\
X(stp_d,	"pair", "stp d", A_BUF, 0, 16, K_ST, 0, 0, 0, 8, 0,	\
  ZQ "stp d0, d0, [%0, #-8]", "v0")					\
X(ldp_q,	"pair", "ldp q", A_BUF, 0, 32, K_LD, 0, F_PT, 0, -32, 0,	\
  "ldp q0, q1, [%0, #32]", "v0", "v1")				\
X(stp_q_pre,	"pair", "stp q pre-index", A_BUF, 2, 32, K_ST, 0, 0, 0, 32, 0, \
  ZQ "stp q0, q0, [%0, #-32]!", "v0")				\
X(ldp_q_post,	"pair", "ldp q post-index", A_BUF, 8, 32, K_LD, 0, 0, 0, 0, 0, \
  "ldp q0, q1, [%0], #1008", "v0", "v1")				\
X(ldnp_w,	"pair", "ldnp w", A_BUF, 6, 8, K_LD, 0, 0, 0, 8, 0,	\
  "ldnp w9, w10, [%0, #-8]", "x9", "x10")				\
X(ldnp_x,	"pair", "ldnp x", A_BUF, 0, 16, K_LD, 0, 0, 0, 0, 0,	\
  "ldnp x9, x10, [%0]", "x9", "x10")					\
X(stnp_x,	"pair", "stnp x", A_BUF, 1, 16, K_ST, 0, 0, 0, -8, 0,	\
  "stnp xzr, xzr, [%0, #8]")						\
X(ldnp_s,	"pair", "ldnp s", A_BUF, 5, 8, K_LD, 0, 0, 0, -252, 0,	\
  "ldnp s0, s1, [%0, #252]", "v0", "v1")				\
X(ldnp_d,	"pair", "ldnp d", A_BUF, 3, 16, K_LD, 0, 0, 0, 0, 0,	\
  "ldnp d0, d1, [%0]", "v0", "v1")					\
X(stnp_q,	"pair", "stnp q", A_BUF, 0, 32, K_ST, 0, F_PT, 0, 1024, 0, \
  ZQ "stnp q0, q0, [%0, #-1024]", "v0")				\
X(ldpsw,	"pair", "ldpsw", A_BUF, 2, 8, K_LD, 0, F_PT, 0, 4, 0,	\
  "ldpsw x9, x10, [%0, #-4]", "x9", "x10")				\
X(ldpsw_pre,	"pair", "ldpsw pre-index", A_BUF, 7, 8, K_LD, 0, 0, 0, -8, 0, \
  "ldpsw x9, x10, [%0, #8]!", "x9", "x10")				\
X(ldpsw_post,	"pair", "ldpsw post-index", A_BUF, 4, 8, K_LD, 0, 0, 0, 0, 0, \
  "ldpsw x9, x10, [%0], #4", "x9", "x10")				\
/* SIMD structures: multiple, one lane, replicate */ \
X(ld1_2r,	"simd struct", "ld1 two registers", A_BUF, 0, 32, K_LD, 0, F_PT, \
  20, 0, 0, "ld1 {v0.16b, v1.16b}, [%0]", "v0", "v1")		\
X(ld1_8b,	"simd struct", "ld1 8b", A_BUF, 3, 8, K_LD, 0, 0, 3, 0, 0, \
  "ld1 {v0.8b}, [%0]", "v0")						\
X(ld1_post,	"simd struct", "ld1 16b post-index register", A_BUF, 1, 16, K_LD, 0, \
  0, 8, 0, 16, "ld1 {v0.16b}, [%0], %1", "v0")			\
X(st1_post,	"simd struct", "st1 2d post-index", A_BUF, 8, 16, K_ST, 0, F_PT, \
  9, 0, 0, ZQ "st1 {v0.2d}, [%0], #16", "v0")			\
X(ld4_4s,	"simd struct", "ld4 4s", A_BUF, 0, 64, K_LD, 0, 0, 61, 0, 0, \
  "ld4 {v0.4s, v1.4s, v2.4s, v3.4s}, [%0]", "v0", "v1", "v2", "v3") \
X(st2_8h,	"simd struct", "st2 8h", A_BUF, 4, 32, K_ST, 0, 0, 14, 0, 0, \
  ZQ "movi v1.2d, #0\n\tst2 {v0.8h, v1.8h}, [%0]", "v0", "v1")	\
X(ld1_lane,	"simd struct", "ld1 lane s", A_BUF, 4, 4, K_LD, 0, 0, 2, 0, 0, \
  "ld1 {v0.s}[1], [%0]", "v0")					\
X(ld1r,		"simd struct", "ld1r 4s", A_BUF, 0, 4, K_LD, 0, 0, 1, 0, 0, \
  "ld1r {v0.4s}, [%0]", "v0")						\
X(st1_lane,	"simd struct", "st1 lane d", A_BUF, 2, 8, K_ST, 0, 0, 6, 0, 0, \
  ZQ "st1 {v0.d}[1], [%0]", "v0")					\
/* refused by the decoder: SVE, DC ZVA, LDAPUR/STLUR */ \
X(zva,		"refused", "dc zva at the block", A_BIG, 0, LEN_ZVA, K_ST, N_ZVA, \
  F_PT | F_FB, -8, 0, 0, "dc zva, %0")				\
X(zva_in,	"refused", "dc zva inside the block", A_BIG, 0, LEN_ZVA, K_ST, \
  N_ZVA, F_FB, -8, 24, 0, "dc zva, %0")				\
X(sve_ld1d,	"refused", "sve ld1d", A_BIG, 0, LEN_VL, K_LD, N_SVE, F_FB, -5, \
  0, 0, SVE "ptrue p0.d\n\tld1d {z0.d}, p0/z, [%0]", "v0")		\
X(sve_ld1b,	"refused", "sve ld1b", A_BIG, 3, LEN_VL, K_LD, N_SVE, F_FB, 4, \
  0, 0, SVE "ptrue p0.b\n\tld1b {z0.b}, p0/z, [%0]", "v0")		\
X(sve_st1d,	"refused", "sve st1d", A_BIG, 0, LEN_VL, K_ST, N_SVE, F_PT | F_FB, \
  -13, 0, 0, SVE "ptrue p0.d\n\tdup z0.d, #0\n\tst1d {z0.d}, p0, [%0]", \
  "v0")								\
X(ldapur,	"refused", "ldapur w", A_BUF, 4, 4, K_LD, N_RCPC2, F_FB, 1, 3, 0, \
  RCPC2 "ldapur w9, [%0, #-3]", "x9")				\
X(stlur,	"refused", "stlur w", A_BUF, 0, 4, K_ST, N_RCPC2, F_FB, 2, -5, 0, \
  RCPC2 "stlur wzr, [%0, #5]")

/*
 * The literal pool: data in .text, next to the loads that reach it
 * (LDR literal: +-1 MiB). Nothing executes it.
 */
asm(".pushsection .text\n"
    ".balign 64\n"
    ".type decode_lit_pool, %object\n"
    "decode_lit_pool:\n"
    ".fill 128, 1, 0\n"
    ".size decode_lit_pool, 128\n"
    ".popsection\n");
extern const char decode_lit_pool[] __attribute__((visibility("hidden")));

static char buf[512] __attribute__((aligned(64)));
static char big[8192] __attribute__((aligned(4096)));

#define X_FN(id, cls, name, area, off, len, kind, need, flags, ins, adj,	\
	     idx, insn, ...)						\
static noinline void acc_##id(char *p)					\
{									\
	uintptr_t b = (uintptr_t)p + (adj);				\
	uint64_t i = (idx);						\
									\
	asm volatile(insn : "+r"(b) : "r"(i) : "memory", ##__VA_ARGS__); \
}
ACCESSES(X_FN)

struct acc {
	const char *cls;
	const char *name;
	void (*fn)(char *p);
	unsigned char area, kind, need, flags;
	short off, len, ins;
};

#define X_ENT(id, cls, name, area, off, len, kind, need, flags, ins, adj, \
	      idx, insn, ...)						\
	{ cls, name, acc_##id, area, kind, need, flags, off, len, ins },
static const struct acc accs[] = { ACCESSES(X_ENT) };
#define NR_ACCS		((int)(sizeof(accs) / sizeof(accs[0])))

static unsigned int have;	/* N_* the CPU has */
static int sve_vl, zva_len, slots;

static uintptr_t acc_addr(const struct acc *a)
{
	switch (a->area) {
	case A_LIT:
		return (uintptr_t)decode_lit_pool + 32 + a->off;
	case A_BIG:
		return (uintptr_t)big + 2048 + a->off;
	default:
		return (uintptr_t)buf + 64 + a->off;
	}
}

static int acc_len(const struct acc *a)
{
	if (a->len == LEN_VL)
		return sve_vl;
	if (a->len == LEN_ZVA)
		return zva_len;
	return a->len;
}

static const char *acc_missing(const struct acc *a)
{
	unsigned int miss = a->need & ~have;

	if (miss & N_LSE)
		return "no LSE atomics (HWCAP_ATOMICS)";
	if (miss & N_RCPC)
		return "no LDAPR (HWCAP_LRCPC)";
	if (miss & N_RCPC2)
		return "no LDAPUR (HWCAP_ILRCPC)";
	if (miss & N_SVE)
		return "no SVE (HWCAP_SVE)";
	if (miss & N_ZVA)
		return "DC ZVA prohibited or its block not 64 to 2048 bytes";
	return NULL;
}

/* The watchpoints around an access. */
enum { P_BEFORE, P_FIRST, P_LAST, P_AFTER, P_INSIDE };
static const char *const pos_names[] = {
	"before", "first", "last", "after", "inside",
};
static const char *const type_names[] = { "", "r", "w", "rw" };

struct watch {
	unsigned char pos, type;	/* P_*, HW_BREAKPOINT_R/W/RW */
};

/* The bytes a watchpoint at @pos covers: within one 8-byte granule. */
static void watch_bytes(const struct acc *a, int pos, uintptr_t *lo, int *len)
{
	uintptr_t start = acc_addr(a), end = start + acc_len(a);

	switch (pos) {
	case P_BEFORE:
		*lo = (start - 1) & ~(uintptr_t)7;
		*len = start - *lo;
		break;
	case P_FIRST:
		*lo = start;
		*len = 1;
		break;
	case P_LAST:
		*lo = end - 1;
		*len = 1;
		break;
	case P_AFTER:
		*lo = end;
		*len = 8 - (end & 7);
		break;
	default:
		*lo = a->ins < 0 ? end + a->ins : start + a->ins;
		*len = ((*lo & ~(uintptr_t)7) + 8 < end ?
			(*lo & ~(uintptr_t)7) + 8 : end) - *lo;
		break;
	}
}

/* Does a watchpoint of @type at @pos see the access, exactly once? */
static int watch_hit(const struct acc *a, int pos, unsigned int type)
{
	if (pos == P_BEFORE || pos == P_AFTER)
		return 0;
	switch (a->kind) {
	case K_LD:
		return !!(type & HW_BREAKPOINT_R);
	case K_ST:
	case K_STX:
		return !!(type & HW_BREAKPOINT_W);
	default:
		return 1;	/* reads and writes */
	}
}

/* The perf configurations (see the top of the file). */
enum { C_RW, C_TYPE, C_R, C_W, C_FB_RW, C_FB_TYPE, C_FB_TWO, C_NR };
static const char *const cfg_names[] = {
	"rw", "type", "r", "w", "refused rw", "refused type", "refused two",
};

static int cfg_watches(const struct acc *a, int cfg, struct watch *w)
{
	unsigned int t = a->kind == K_LD ? HW_BREAKPOINT_R : HW_BREAKPOINT_W;
	unsigned int u = HW_BREAKPOINT_RW & ~t, all;
	int n = 0;

	switch (cfg) {
	case C_TYPE:
		w[n++] = (struct watch){ P_BEFORE, t };
		w[n++] = (struct watch){ P_FIRST, u };
		w[n++] = (struct watch){ P_LAST, t };
		w[n++] = (struct watch){ P_AFTER, t };
		return n;
	case C_FB_RW:
		w[n++] = (struct watch){ P_BEFORE, HW_BREAKPOINT_RW };
		w[n++] = (struct watch){ P_INSIDE, HW_BREAKPOINT_RW };
		w[n++] = (struct watch){ P_AFTER, HW_BREAKPOINT_RW };
		return n;
	case C_FB_TYPE:
		w[n++] = (struct watch){ P_BEFORE, t };
		w[n++] = (struct watch){ P_FIRST, u };
		w[n++] = (struct watch){ P_INSIDE, t };
		w[n++] = (struct watch){ P_AFTER, t };
		return n;
	case C_R:
		all = HW_BREAKPOINT_R;
		break;
	case C_W:
		all = HW_BREAKPOINT_W;
		break;
	default:	/* C_RW, C_FB_TWO */
		all = HW_BREAKPOINT_RW;
		break;
	}
	w[n++] = (struct watch){ P_BEFORE, all };
	w[n++] = (struct watch){ P_FIRST, all };
	if (acc_len(a) > 1)
		w[n++] = (struct watch){ P_LAST, all };
	w[n++] = (struct watch){ P_AFTER, all };
	return n;
}

static int acc_cfgs(const struct acc *a, int *cfgs)
{
	int n = 0;

	if (a->flags & F_FB) {
		cfgs[n++] = C_FB_RW;
		cfgs[n++] = C_FB_TYPE;
		cfgs[n++] = C_FB_TWO;
		return n;
	}
	switch (a->kind) {
	case K_LD:
	case K_ST:
		cfgs[n++] = C_RW;
		cfgs[n++] = C_TYPE;
		break;
	/*
	 * Atomics: load-only, then store-only watchpoints. QEMU 7.2 with
	 * several vCPUs checks no watchpoint for an atomic on a page watched
	 * both ways (see the top of the file), so load+store watchpoints on
	 * them are left out: they would test QEMU, not the decoder.
	 */
	case K_RMW:
		cfgs[n++] = C_R;
		cfgs[n++] = C_W;
		break;
	case K_STA:
		cfgs[n++] = C_W;
		break;
	default:	/* K_STX */
		cfgs[n++] = C_W;
		break;
	}
	return n;
}

/* Per decoder class: checks made and failed, for the summaries. */
static struct {
	const char *cls;
	int checks, failed, skipped;
} tally[32];

static void count(const char *cls, int ok, int skipped)
{
	int i;

	for (i = 0; tally[i].cls && strcmp(tally[i].cls, cls); i++)
		;
	tally[i].cls = cls;
	tally[i].checks++;
	tally[i].failed += !ok && !skipped;
	tally[i].skipped += skipped;
}

static void summaries(const char *path)
{
	int i;

	for (i = 0; tally[i].cls; i++)
		tap_diag("%s: class %s: %d checks, %d failed, %d skipped", path,
			 tally[i].cls, tally[i].checks, tally[i].failed,
			 tally[i].skipped);
	memset(tally, 0, sizeof(tally));
}

static const struct perf_event_attr count_attr = {
	.sample_period = 1,
	.exclude_kernel = 1,
	.exclude_hv = 1,
	.pinned = 1,
};

/* "perf <cfg>: <insn> at +<o> (<len> bytes)": the test's name. */
static int acc_title(char *s, size_t n, const char *path, const char *cfg,
		     const struct acc *a)
{
	return snprintf(s, n, "%s %s: %s %s at +%d (%d bytes)", path, cfg,
			a->cls, a->name, (int)(acc_addr(a) & 7), acc_len(a));
}

static void perf_check(const struct acc *a, int cfg)
{
	struct watch w[4];
	int n = cfg_watches(a, cfg, w), fd[4], i, r, ok = 1, err = 0, len;
	long long got[4], want[4];
	char msg[512];
	size_t m;
	uintptr_t lo;

	m = acc_title(msg, sizeof(msg), "perf", cfg_names[cfg], a);
	if (n > slots) {
		tap_skip("too few watchpoint registers", "%s", msg);
		count(a->cls, 1, 1);
		return;
	}
	for (i = 0; i < n; i++) {
		watch_bytes(a, w[i].pos, &lo, &len);
		fd[i] = perf_bp_open((void *)lo, w[i].type, len, 0, -1,
				     (struct perf_event_attr *)&count_attr);
		if (fd[i] < 0 && !err)
			err = errno;
	}
	if (!err)
		for (r = 0; r < REPS; r++)
			a->fn((char *)acc_addr(a));
	for (i = 0; i < n; i++) {
		got[i] = fd[i] >= 0 ? perf_count(fd[i]) : -1;
		if (fd[i] >= 0)
			close(fd[i]);
		want[i] = watch_hit(a, w[i].pos, w[i].type) ? REPS : 0;
	}

	if (cfg == C_FB_TWO) {
		/*
		 * before, first, last, after (a refused access is longer
		 * than a byte): at least one of first and last told per
		 * execution, each at most once, never before or after.
		 */
		ok = n == 4 && got[0] == 0 && got[3] == 0 &&
		     got[1] >= 0 && got[1] <= REPS &&
		     got[2] >= 0 && got[2] <= REPS && got[1] + got[2] >= REPS;
	} else if (a->kind == K_STX) {
		/*
		 * A store-exclusive stores, and so traps, only while the
		 * exclusive monitor its load-exclusive set still holds; an
		 * interrupt in between clears it (whether a failing one
		 * traps is IMPLEMENTATION DEFINED; QEMU's does not). So: one
		 * to REPS traps, each told to every watchpoint inside the
		 * access and to none beside it.
		 */
		ok = got[0] == 0 && got[n - 1] == 0 && got[1] >= 1 &&
		     got[1] <= REPS;
		for (i = 2; i < n - 1; i++)
			ok &= got[i] == got[1];
	} else {
		for (i = 0; i < n; i++)
			ok &= got[i] == want[i];
	}
	ok &= !err;

	m += snprintf(msg + m, sizeof(msg) - m, ", %d runs:", REPS);
	for (i = 0; i < n && m < sizeof(msg); i++)
		m += snprintf(msg + m, sizeof(msg) - m, " %s/%s %lld",
			      pos_names[w[i].pos], type_names[w[i].type], got[i]);
	if (cfg == C_FB_TWO && m < sizeof(msg))
		m += snprintf(msg + m, sizeof(msg) - m,
			      " (expected before and after 0, first and last each at most %d, together at least %d)",
			      REPS, REPS);
	else if (m < sizeof(msg)) {
		m += snprintf(msg + m, sizeof(msg) - m, " (expected");
		for (i = 0; i < n && m < sizeof(msg); i++)
			m += snprintf(msg + m, sizeof(msg) - m, " %lld", want[i]);
		if (m < sizeof(msg))
			m += snprintf(msg + m, sizeof(msg) - m, ")");
	}
	if (err && m < sizeof(msg))
		snprintf(msg + m, sizeof(msg) - m, ", perf_event_open: errno %d",
			 err);
	tap_ok(ok, "%s", msg);
	count(a->cls, ok, 0);
}

static void test_perf(void)
{
	int i, c, n, cfgs[4];
	const char *why;
	char msg[256];

	for (i = 0; i < NR_ACCS; i++) {
		const struct acc *a = &accs[i];

		n = acc_cfgs(a, cfgs);
		why = acc_missing(a);
		for (c = 0; c < n; c++) {
			if (why) {
				acc_title(msg, sizeof(msg), "perf",
					  cfg_names[cfgs[c]], a);
				tap_skip(why, "%s", msg);
				count(a->cls, 1, 1);
				continue;
			}
			perf_check(a, cfgs[c]);
		}
	}
	summaries("perf");
}

/* === ptrace: one NT_ARM_HW_WATCH register at a time === */

struct pcase {
	short acc;
	unsigned char pos, type;
	/* filled in by the tracer */
	int stops, bad_addr, setup_err;
	long long beside[2];	/* perf counts just before and after */
	int fd[2];
};

#define MAX_PCASES	512
static struct pcase pcases[MAX_PCASES];
static int nr_pcases;

static void add_pcase(int ai, int pos, unsigned int type)
{
	if (nr_pcases < MAX_PCASES)
		pcases[nr_pcases++] = (struct pcase){
			.acc = ai, .pos = pos, .type = type,
			.fd = { -1, -1 } };
}

static void build_pcases(void)
{
	unsigned int t, u, span;
	int i;

	for (i = 0; i < NR_ACCS; i++) {
		const struct acc *a = &accs[i];

		if (!(a->flags & F_PT) || acc_missing(a))
			continue;
		t = a->kind == K_LD ? HW_BREAKPOINT_R : HW_BREAKPOINT_W;
		u = HW_BREAKPOINT_RW & ~t;
		if (a->flags & F_FB) {
			add_pcase(i, P_BEFORE, HW_BREAKPOINT_RW);
			add_pcase(i, P_INSIDE, HW_BREAKPOINT_RW);
			add_pcase(i, P_AFTER, HW_BREAKPOINT_RW);
			add_pcase(i, P_FIRST, u);	/* wrong type: no stop */
			continue;
		}
		/*
		 * A store-exclusive's load-exclusive must not stop; an
		 * atomic's page must not be watched both ways (QEMU 7.2).
		 */
		span = a->kind == K_STX || a->kind == K_RMW || a->kind == K_STA ?
		       HW_BREAKPOINT_W : HW_BREAKPOINT_RW;
		add_pcase(i, P_BEFORE, span);
		add_pcase(i, P_FIRST, span);
		if (acc_len(a) > 1)
			add_pcase(i, P_LAST, span);
		add_pcase(i, P_AFTER, span);
		if (a->kind == K_LD || a->kind == K_ST)
			add_pcase(i, P_FIRST, u);	/* wrong type: no stop */
		if (a->kind == K_RMW || a->kind == K_STA)
			add_pcase(i, P_FIRST, HW_BREAKPOINT_W);
		if (a->kind == K_RMW)
			add_pcase(i, P_FIRST, HW_BREAKPOINT_R);
	}
}

/*
 * A store-exclusive traps only while its monitor holds, and an interrupt
 * between it and its load-exclusive clears the monitor: such a case runs
 * its access PT_STX_RUNS times and must stop one to PT_STX_RUNS times,
 * as the perf sweep allows for REPS runs.
 */
#define PT_STX_RUNS	3

static int pt_runs(const struct acc *a)
{
	return a->kind == K_STX ? PT_STX_RUNS : 1;
}

static void ptrace_child(void)
{
	int i, r;

	for (i = 0; i < nr_pcases; i++) {
		const struct acc *a = &accs[pcases[i].acc];

		raise(SIGSTOP);
		for (r = 0; r < pt_runs(a); r++)
			a->fn((char *)acc_addr(a));
	}
	raise(SIGSTOP);
}

static int pt_watch(pid_t pid, const struct pcase *k, int enable)
{
	struct user_hwdebug_state st;
	uintptr_t lo;
	int len;

	memset(&st, 0, sizeof(st));
	if (k) {
		watch_bytes(&accs[k->acc], k->pos, &lo, &len);
		st.dbg_regs[0].addr = lo & ~(uintptr_t)7;
		st.dbg_regs[0].ctrl = (enable ? GUEST_CTRL_ENABLE : 0) |
				      GUEST_CTRL_PRIV_EL0 |
				      k->type << GUEST_CTRL_LSC_SHIFT |
				      ((1U << len) - 1) << (lo & 7) <<
				      GUEST_CTRL_BAS_SHIFT;
	}
	return guest_regset(pid, NT_ARM_HW_WATCH, 1, &st);
}

static void pt_setup(pid_t pid, struct pcase *k)
{
	const struct acc *a = &accs[k->acc];
	uintptr_t lo;
	int len, i;

	if (pt_watch(pid, k, 1))
		k->setup_err = errno ? errno : -1;
	/*
	 * The bytes beside an access that stops: told only if mis-decoded.
	 * Not next to a load-only watchpoint: an atomic comes with WnR=1,
	 * and a live store watchpoint would then leave the load-only one
	 * untold (the mixed case the perf part leaves out, see the top).
	 */
	if (!watch_hit(a, k->pos, k->type) || !(k->type & HW_BREAKPOINT_W) ||
	    slots < 3)
		return;
	for (i = 0; i < 2; i++) {
		watch_bytes(a, i ? P_AFTER : P_BEFORE, &lo, &len);
		/* Of the stop's own type: the page watched one way only. */
		k->fd[i] = perf_bp_open((void *)lo, k->type, len, pid, -1,
					(struct perf_event_attr *)&count_attr);
		if (k->fd[i] < 0)
			k->setup_err = errno;
	}
}

static void pt_finish(pid_t pid, struct pcase *k)
{
	int i;

	pt_watch(pid, NULL, 0);
	for (i = 0; i < 2; i++) {
		if (k->fd[i] < 0)
			continue;
		k->beside[i] = perf_count(k->fd[i]);
		close(k->fd[i]);
		k->fd[i] = -1;
	}
}

/* Did the tracee report the right address for this stop? */
static int pt_addr_ok(const struct pcase *k, uintptr_t at)
{
	const struct acc *a = &accs[k->acc];
	uintptr_t start = acc_addr(a), end = start + acc_len(a), lo, from;
	int len;

	watch_bytes(a, k->pos, &lo, &len);
	from = lo > start ? lo : start;
	if (!(a->flags & F_FB))
		return at == from;	/* the first watched byte accessed */
	return at >= from && at < lo + len && at < end;
}

static void test_ptrace(void)
{
	int i = -1, status, errors = 0, stops = 0, ok, m, j;
	siginfo_t si;
	char msg[768];
	pid_t pid;

	build_pcases();
	pid = guest_spawn_traced(ptrace_child);
	if (!tap_ok(pid > 0, "ptrace: traced child starts"))
		return;
	for (;;) {
		if (ptrace(PTRACE_CONT, pid, 0, 0) ||
		    waitpid(pid, &status, 0) != pid) {
			errors++;
			break;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
		if (WSTOPSIG(status) == SIGSTOP) {
			if (i >= 0 && i < nr_pcases)
				pt_finish(pid, &pcases[i]);
			if (++i < nr_pcases)
				pt_setup(pid, &pcases[i]);
			continue;
		}
		if (WSTOPSIG(status) != SIGTRAP || i < 0 || i >= nr_pcases ||
		    ptrace(PTRACE_GETSIGINFO, pid, 0, &si) ||
		    si.si_code != TRAP_HWBKPT || ++stops > 4 * nr_pcases) {
			tap_diag("ptrace: case %d: unexpected stop, signal %d",
				 i, WSTOPSIG(status));
			errors++;
			break;
		}
		pcases[i].stops++;
		if (!pt_addr_ok(&pcases[i], (uintptr_t)si.si_addr)) {
			pcases[i].bad_addr++;
			tap_diag("ptrace: %s %s: watch %s/%s reported at %#lx, access at %#lx",
				 accs[pcases[i].acc].cls, accs[pcases[i].acc].name,
				 pos_names[pcases[i].pos],
				 type_names[pcases[i].type],
				 (unsigned long)si.si_addr,
				 (unsigned long)acc_addr(&accs[pcases[i].acc]));
		}
		/* Step over it as a debugger does: disabled, one step, enabled. */
		if (pt_watch(pid, &pcases[i], 0) ||
		    ptrace(PTRACE_SINGLESTEP, pid, 0, 0) ||
		    waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status) ||
		    WSTOPSIG(status) != SIGTRAP || pt_watch(pid, &pcases[i], 1)) {
			errors++;
			break;
		}
	}
	if (i >= 0 && i < nr_pcases)
		pt_finish(pid, &pcases[i]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	tap_ok(!errors && i >= nr_pcases,
	       "ptrace: %d watch settings run in the tracee (%d errors)",
	       i < nr_pcases ? i : nr_pcases, errors);

	/* One line per instruction: its cases are consecutive. */
	for (i = 0; i < nr_pcases; i = j) {
		const struct acc *a = &accs[pcases[i].acc];
		long long beside = 0;
		int bad = 0, err = 0;

		ok = 1;
		m = acc_title(msg, sizeof(msg), "ptrace", "stops", a);
		m += snprintf(msg + m, sizeof(msg) - m, ":");
		for (j = i; j < nr_pcases && pcases[j].acc == pcases[i].acc; j++) {
			const struct pcase *k = &pcases[j];

			if (a->kind == K_STX && watch_hit(a, k->pos, k->type))
				ok &= k->stops >= 1 && k->stops <= pt_runs(a);
			else
				ok &= k->stops == watch_hit(a, k->pos, k->type) *
						  pt_runs(a);
			beside += k->beside[0] + k->beside[1];
			bad += k->bad_addr;
			err |= k->setup_err;
			if (m < (int)sizeof(msg))
				m += snprintf(msg + m, sizeof(msg) - m,
					      " %s/%s %d", pos_names[k->pos],
					      type_names[k->type], k->stops);
		}
		if (m < (int)sizeof(msg))
			m += snprintf(msg + m, sizeof(msg) - m, " (expected");
		for (j = i; j < nr_pcases && pcases[j].acc == pcases[i].acc; j++)
			if (m < (int)sizeof(msg))
				m += snprintf(msg + m, sizeof(msg) - m, " %d",
					      watch_hit(a, pcases[j].pos,
							pcases[j].type));
		if (m < (int)sizeof(msg))
			snprintf(msg + m, sizeof(msg) - m,
				 "), si_addr wrong %d, perf beside the access %lld (expected 0)%s",
				 bad, beside, err ? ", setup failed" : "");
		ok &= !bad && !beside && !err;
		tap_ok(ok, "%s", msg);
		count(a->cls, ok, 0);
	}
	summaries("ptrace");
}

static void probe_features(void)
{
	unsigned long hwcap = getauxval(AT_HWCAP);
	uint64_t dczid, vl;

	if (hwcap & HWCAP_ATOMICS)
		have |= N_LSE;
	if (hwcap & HWCAP_LRCPC)
		have |= N_RCPC;
	if (hwcap & HWCAP_ILRCPC)
		have |= N_RCPC2;
	if (hwcap & HWCAP_SVE) {
		asm volatile(SVE "cntb %0" : "=r"(vl));
		sve_vl = vl;
		if (sve_vl >= 16 && sve_vl <= 256)
			have |= N_SVE;
	}
	asm volatile("mrs %0, dczid_el0" : "=r"(dczid));
	zva_len = 4 << (dczid & 0xf);
	if (!(dczid & 0x10) && zva_len >= 64 && zva_len <= 2048)
		have |= N_ZVA;
	tap_diag("%d watchpoint registers; LSE %d, LDAPR %d, LDAPUR %d, SVE %d (vector %d bytes), DC ZVA %d (block %d bytes, DCZID_EL0 %#llx)",
		 slots, !!(have & N_LSE), !!(have & N_RCPC),
		 !!(have & N_RCPC2), !!(have & N_SVE), sve_vl,
		 !!(have & N_ZVA), zva_len, (unsigned long long)dczid);
}

int main(void)
{
	int i;

	slots = guest_nr_data_slots();
	if (!tap_ok(slots >= 2, "watchpoint registers: %d (2 or more needed)",
		    slots))
		return tap_done();
	probe_features();

	/* Fault every page in once, unwatched: the runs then trap only. */
	for (i = 0; i < NR_ACCS; i++)
		if (!acc_missing(&accs[i]))
			accs[i].fn((char *)acc_addr(&accs[i]));

	test_perf();
	test_ptrace();
	guest_check_all_free();
	return tap_done();
}
