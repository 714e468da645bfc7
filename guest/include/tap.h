/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal TAP (version 13) producer for the guest's test programs.
 *
 * Every check prints one "ok"/"not ok" line; tap_done() prints the plan
 * last and returns the exit status, so a program that dies half way is
 * seen as incomplete by the host (no plan line), never as passed.
 */
#ifndef HWBP_GUEST_TAP_H
#define HWBP_GUEST_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned int tap_count;
static unsigned int tap_failed;

static inline void tap_vline(int ok, const char *directive, const char *fmt,
			     va_list ap)
{
	printf("%s %u - ", ok ? "ok" : "not ok", ++tap_count);
	vprintf(fmt, ap);
	if (directive)
		printf(" # %s", directive);
	printf("\n");
	fflush(stdout);
}

/* Record one result; returns cond so callers can stop on failure. */
__attribute__((format(printf, 2, 3)))
static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vline(cond, NULL, fmt, ap);
	va_end(ap);
	if (!cond)
		tap_failed++;
	return cond;
}

__attribute__((format(printf, 2, 3)))
static inline void tap_skip(const char *reason, const char *fmt, ...)
{
	char directive[256];
	va_list ap;

	snprintf(directive, sizeof(directive), "SKIP %s", reason);
	va_start(ap, fmt);
	tap_vline(1, directive, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 1, 2)))
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* A setup step failed: report it and stop; the missing plan marks the run. */
__attribute__((format(printf, 1, 2), noreturn))
static inline void tap_bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

static inline int tap_done(void)
{
	printf("1..%u\n", tap_count);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

#endif /* HWBP_GUEST_TAP_H */
