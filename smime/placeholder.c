/* SPDX-License-Identifier: ISC */
int smime_placeholder_symbol;
