# SPDX-License-Identifier: ISC
dist_man_MANS += doc/smimesync.conf.5
