#!/bin/bash
# Every example in examples/ runs against a fresh mount, with the mount
# point as $1, and exits 0. New examples are picked up automatically: an
# executable file runs as itself, a *.sh file with bash; other files
# (README, *.md, data) are not examples.
. "$(dirname "$0")/lib.sh"

EXAMPLES=$VDC_SRC_ROOT/examples
scripts=()
if [ -d "$EXAMPLES" ]; then
	while IFS= read -r -d '' f; do
		case ${f##*/} in
		README* | *.md | *.txt) continue ;;
		esac
		if [ -x "$f" ] || [ "${f%.sh}" != "$f" ]; then
			scripts+=("$f")
		fi
	done < <(find "$EXAMPLES" -maxdepth 1 -type f -print0 | sort -z)
fi
[ "${#scripts[@]}" -gt 0 ] || skip_all "examples/ holds no example scripts yet"

n=0
for f in "${scripts[@]}"; do
	n=$((n + 1))
	name=${f##*/}
	vdc_start "ex$n"
	mnt_var=MNT_ex$n
	mnt=${!mnt_var}
	if [ -x "$f" ]; then
		cmd=("$f" "$mnt")
	else
		cmd=(bash "$f" "$mnt")
	fi
	out=$(cd "$VDC_TMP" && timeout -k 5 60 "${cmd[@]}" 2>&1 < /dev/null)
	rc=$?
	is "$rc" 0 "examples/$name exits 0" || diag "$out"
	ok "vdcfs still answers after examples/$name" mountpoint -q "$mnt"
	vdc_stop "ex$n"
done

done_testing
