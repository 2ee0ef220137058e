/* SPDX-License-Identifier: ISC */
int conf_placeholder_symbol;
