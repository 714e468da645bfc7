// SPDX-License-Identifier: GPL-2.0
/*
 * bp_target.c built as an AArch32 program (arm-linux-gnueabihf-gcc), for
 * gdb on a 32-bit process in the arm64 guest (clients suite).
 */
#include "bp_target.c"
