/* SPDX-License-Identifier: ISC */
int directory_placeholder_symbol;
