/* SPDX-License-Identifier: ISC */
/*
 * Room common/, the ground floor: allocation policy, buffers, errors,
 * logging, strings, files, and the one rule for mail addresses and DNs. It
 * includes nothing from another room and links only libc.
 *
 * Compiler attributes used across smimesync.
 *
 * MUST_USE marks functions whose status must be checked: ignoring it is a
 * bug (a certificate not stored, a mail not queued). PRINTF_LIKE marks every
 * logger and formatter so the compiler checks format strings.
 */
#ifndef SMIMESYNC_COMMON_ATTRS_H
#define SMIMESYNC_COMMON_ATTRS_H

#if defined(__GNUC__) || defined(__clang__)
#define MUST_USE __attribute__((warn_unused_result))
#define PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#define NORETURN __attribute__((noreturn))
#define UNUSED __attribute__((unused))
#else
#define MUST_USE
#define PRINTF_LIKE(fmt, args)
#define NORETURN
#define UNUSED
#endif

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
