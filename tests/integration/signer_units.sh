#!/bin/sh
# SPDX-License-Identifier: ISC
# The systemd units as built (issue #16): every one turns core dumps off
# (LimitCORE=0); smimesync-signer.service has no network, writes only its
# state directory, gains no privilege, and systemd's own review rates its
# exposure at most 1.0 ("SAFE"), smimesync.service at most 2.0; the socket
# is one stream socket only root, the signer and smimesync's group may use.
set -u
: "${top_builddir:?}"
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze is not installed"; exit 77; }
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { if eval "$1"; then echo "ok: $2"; else fail "$2"; fi; }

make -s -C "$top_builddir" conf/smimesync.service conf/smimesync-signer.service \
	conf/smimesync-signer.socket >/dev/null || { echo "cannot build the units"; exit 99; }
S=$top_builddir/conf/smimesync-signer.service
K=$top_builddir/conf/smimesync-signer.socket
M=$top_builddir/conf/smimesync.service
has() { grep -qx "$2" "$1"; }

for u in "$S" "$M"; do
	check 'has "$u" "LimitCORE=0"' "$(basename "$u"): LimitCORE=0"
done
for line in "User=smimesync-signer" "PrivateNetwork=yes" "IPAddressDeny=any" \
	"RestrictAddressFamilies=AF_UNIX" "NoNewPrivileges=yes" "ProtectSystem=strict" \
	"CapabilityBoundingSet=" "MemoryDenyWriteExecute=yes" "UMask=0077"; do
	check 'has "$S" "$line"' "smimesync-signer.service: $line"
done
check '[ "$(grep -c "^ReadWritePaths=" "$S")" = 1 ] && grep -q "^ReadWritePaths=.*/lib/smimesync-signer$" "$S"' \
	"smimesync-signer.service writes its state directory and nothing else"
check 'grep -q "^ExecStart=.*/smimesync/smimesync-signer serve --policy .*/smimesync/signer.conf$" "$S"' \
	"smimesync-signer.service runs the signer from libexec with root's policy"
check '[ "$(grep -c "^ListenStream=" "$K")" = 1 ] && has "$K" "SocketMode=0660" && has "$K" "SocketUser=smimesync-signer" &&
	has "$K" "SocketGroup=smimesync" && has "$K" "Accept=no"' \
	"smimesync-signer.socket: one stream socket, mode 0660, for the signer and smimesync's group"
check 'grep -q "^Wants=.*smimesync-signer.socket" "$M"' "smimesync.service brings the signer's socket up"
out=$(systemd-analyze security --offline=true "$S" 2>&1 | tail -n 1)
check 'systemd-analyze security --offline=true --threshold=10 "$S" >/dev/null 2>&1' \
	"systemd-analyze security: smimesync-signer.service at most 1.0 ($out)"
out=$(systemd-analyze security --offline=true "$M" 2>&1 | tail -n 1)
check 'systemd-analyze security --offline=true --threshold=20 "$M" >/dev/null 2>&1' \
	"systemd-analyze security: smimesync.service at most 2.0 ($out)"
echo "$fails failure(s)"
[ "$fails" = 0 ]
