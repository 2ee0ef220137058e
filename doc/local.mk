# SPDX-License-Identifier: ISC
dist_man_MANS += doc/smimesync.conf.5
dist_man_MANS += doc/smimesync.8 doc/smimesync-templates.5 doc/smimesync-signer.8
EXTRA_DIST += doc/invariants.md
# The design note of incremental sync (issue #17), for developers.
EXTRA_DIST += doc/incremental.md
