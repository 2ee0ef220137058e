/* SPDX-License-Identifier: ISC */
/*
 * Small string and time helpers shared by every room.
 */
#ifndef SMIMESYNC_COMMON_STRUTIL_H
#define SMIMESYNC_COMMON_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/attrs.h"

/* True if s holds any ASCII control character (CR, LF, TAB, DEL ...). */
bool str_has_control(const char *s);
/* True if s[0..len) is well-formed UTF-8 without NUL bytes. */
bool str_is_utf8(const char *s, size_t len);
/* Trim ASCII whitespace in place; returns s advanced past leading space. */
char *str_trim(char *s);
bool str_starts_with(const char *s, const char *prefix);
bool str_eq_nocase(const char *a, const char *b);
/* Lowercase hex of bytes (new). */
char *hex_encode(const unsigned char *data, size_t len);
/* Colon-separated uppercase hex, as openssl prints fingerprints (new). */
char *hex_encode_colons(const unsigned char *data, size_t len);
/* The value of one hex digit (either case), or -1. */
int hex_value(char c);
/* "be2bc3..." -> "BE:2B:C3:..." (new): a stored fingerprint as people compare it. */
char *hex_to_colons(const char *hex);

/*
 * Durations: a number followed by s, m, h, d or w ("365d", "12h"). The
 * unit is required ("30" is an error: thirty seconds or thirty days?);
 * only "0" may go without one. Returns -1 on bad syntax or overflow. The
 * one duration grammar: duration options and the reminders list in the
 * config, status --expiring and report/audit --since all read it here.
 */
int parse_duration(const char *s, int64_t *seconds_out) MUST_USE;
/* A bare number such as "30": the error message should ask for a unit. */
bool duration_missing_unit(const char *s);
/* "15d", "12h", "90s": the largest unit that divides the value. */
void format_duration(int64_t seconds, char *out, size_t size);
/* Strict decimal integer within [min, max]. */
int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out) MUST_USE;

/* "2026-11-23T18:50:00Z"; out must hold at least 21 bytes. */
void format_time_utc(time_t t, char *out, size_t size);
/* Parse the format above; returns -1 on error. */
int parse_time_utc(const char *s, time_t *out) MUST_USE;

#endif
