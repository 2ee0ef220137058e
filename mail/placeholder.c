/* SPDX-License-Identifier: ISC */
int mail_placeholder_symbol;
