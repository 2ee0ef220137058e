#!/bin/sh
# SPDX-License-Identifier: ISC
# Source rules that a compiler does not enforce (STYLE 16): no sprintf,
# vsprintf, strcpy, strcat, atoi or gets anywhere in C code, and an SPDX
# license tag near the top of every source file.
set -u
: "${top_srcdir:?}"
cd "$top_srcdir" || exit 99
fails=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build/*')
banned=$(grep -nE '(^|[^A-Za-z0-9_])(sprintf|vsprintf|strcpy|strcat|atoi|gets)[[:space:]]*\(' $files)
if [ -n "$banned" ]; then
	echo "FAIL: banned functions (use snprintf, buf_*, xstrdup, parse_int64):"
	echo "$banned"
	fails=$((fails + 1))
fi
srcs=$(git ls-files '*.c' '*.h' '*.sh' '*.py' '*.mk' 'tools/*' '.ci/*' 2>/dev/null)
for f in $srcs; do
	head -n 3 "$f" | grep -q 'SPDX-License-Identifier: ISC' || { echo "FAIL: $f has no SPDX tag"; fails=$((fails + 1)); }
done
[ "$fails" = 0 ] && echo "ok: $(echo $files | wc -w) C files clean, every source tagged"
[ "$fails" = 0 ]
