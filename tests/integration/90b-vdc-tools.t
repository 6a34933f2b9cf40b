# Issue 14: typing into a guest. instances/NAME/console takes keys while
# the guest runs and vdc-hva writes them to its serial port (a pty qemu
# also logs to console.log, so run/console goes on as before): a command
# typed into the test guest's shell runs and its output comes back in
# run/console. Then the program vdc, driven in tmux as a user would:
# `vdc console web1` types a command and shows its output, Ctrl-] leaves
# and gives the terminal back; `vdc top` shows the host and the
# instances, `n`, `r` and `m` change the order, `q` quits; keys for a
# guest that stopped are refused, with the reason.

# At least 300 s; more when the caller asks for more (make valgrind).
VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 300 ? VDC_WATCHDOG : 300 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
. "$(dirname "$0")/hva.sh"

VDC_BIN=${VDC_BIN:-$(dirname "$VDCFS")/vdc}
[ -x "$VDC_BIN" ] || skip_all "no vdc program at $VDC_BIN (make)"
command -v tmux > /dev/null || skip_all "tmux is not installed (scripts/install-deps)"

vdc_start
I=$MNT/instances/web1
ok "the test image is imported into images/tiny" vdc_import_tiny
vdc_join_read
ok "host a comes up" vdc_host_up a 1 || exit 1
vdc_hva_start a
if ! vdc_wait_host_state a up 60; then
	fail "host a joins and reports"
	vdc_hva_diag a
	echo "Bail out! no host"
	exit 1
fi

# ---- console input ----

ok "mkdir, link the image" vdc_instance web1
fails_with EINVAL "a key for a guest that is not running is EINVAL" put "" "$I/console"
ok "echo on > power" put on "$I/power"
vdc_wait_state web1 running 60 || { fail "web1 runs"; vdc_hva_diag a; }
ok "the guest is ready" vdc_wait 90 vdc_console_has web1 "vdc-guest: ready"
is "$(get "$I/console" | wc -c | tr -d ' ')" 0 "a read of console returns nothing"
# busybox init asks for Enter before it starts the shell on ttyS0
# (askfirst): Enter, then a command, until the command's output comes.
shell_up() {
	printf '\recho shell-up-$((1+1))\r' > "$I/console"
	vdc_wait 3 vdc_console_has web1 "shell-up-2"
}
ok "Enter starts the guest's shell on its serial console, which runs a command" vdc_wait 60 shell_up
ok "a command is written to console" bash -c "printf 'echo typed-\$((6*7))\\r' > '$I/console'"
ok "it ran in the guest: its output is in run/console" vdc_wait 15 vdc_console_has web1 "typed-42"
# The round trip of a key: written, fetched by vdc-hva, typed into the
# pty, echoed by the guest's tty (TCG), logged by qemu, uploaded (batched
# every 50 ms), shown in run/console. The keys' part alone is a few ms
# (86b-console-input: the long-poll answers in 5 ms).
t0=$(date +%s%N)
printf 'echo rt-$((2+3))\r' > "$I/console"
vdc_wait 10 vdc_console_has web1 "rt-5"
ms=$((($(date +%s%N) - t0) / 1000000))
ok "a command's output comes back in run/console in $ms ms (under 3000 on a busy machine)" test "$ms" -lt 3000
ok "tar of the instance holds an empty console file" \
	eval 'tar -C "$MNT/instances" -cf - --exclude=run --exclude=disk web1 | tar -tvf - web1/console | grep -q " 0 .* web1/console$"'

# ---- vdc console ----

TMUX_SOCK=$VDC_TMP/tmux.sock
tmux_pid=
# The tmux server this test started, by its pid, before the hosts go (lib.sh's hooks).
vdc_tmux_cleanup() {
	[ -n "$tmux_pid" ] && kill "$tmux_pid" 2> /dev/null
	tmux_pid=
}
VDC_CLEANUP_HOOKS="vdc_tmux_cleanup ${VDC_CLEANUP_HOOKS:-}"
tm() { tmux -S "$TMUX_SOCK" "$@"; }
screen() { tm capture-pane -p -t vdc; }
screen_has() { screen | grep -q -- "$1"; }

ok "a tmux session runs a shell" tm new-session -d -s vdc -x 120 -y 40 "env VDC='$MNT' PS1='sh$ ' bash --norc -i"
tmux_pid=$(tm display-message -p '#{pid}')
like "$tmux_pid" '^[0-9]+$' "tmux's server pid is known (killed at the end)"
vdc_wait 10 screen_has 'sh\$'
tm send-keys -t vdc "stty -g > $VDC_TMP/stty.before; $VDC_BIN console web1; stty -g > $VDC_TMP/stty.after; echo left-\$?" Enter
ok "vdc console web1 says how to leave" vdc_wait 10 screen_has 'Ctrl-]'
tm send-keys -t vdc "echo vdc-console-\$((7*6))" Enter
ok "a command typed in vdc console runs in the guest, its output on the screen" \
	vdc_wait 15 screen_has 'vdc-console-42'
ok "... and in run/console" vdc_console_has web1 "vdc-console-42"
tm send-keys -t vdc C-]
ok "Ctrl-] leaves vdc console with status 0" vdc_wait 10 screen_has 'left-0'
is "$(cat "$VDC_TMP/stty.after" 2> /dev/null)" "$(cat "$VDC_TMP/stty.before" 2> /dev/null)" \
	"the terminal's modes are given back as they were"
tm send-keys -t vdc "clear; $VDC_BIN console nosuch; echo status-\$?" Enter
ok "vdc console of no such instance fails with a sentence" vdc_wait 10 screen_has 'status-1'
like "$(screen)" "no such instance: nosuch" "... that names it"

# ---- vdc top ----

ok "mkdir a second instance (defined, not running)" vdc_instance zz9
put 64M "$MNT/instances/zz9/memory"
tm send-keys -t vdc "clear; $VDC_BIN top; echo top-left-\$?" Enter
ok "vdc top shows the host" vdc_wait 10 screen_has '^ *a '
nok "... and no file of hosts/ as a host" screen_has 'CACHEDIR.TAG\|^join'
ok "... and the instances with their state and host" vdc_wait 5 eval "screen | grep -Eq '^ *web1 +running +a '"
ok "... a stopped one too" screen_has '^ *zz9 *defined'
ok "... web1's cpu in percent (its run/cpu)" vdc_wait 10 eval "screen | grep -Eq '^ *web1 +running +a +[0-9]+(\.[0-9])? '"
ok "... host a's cpu busy in percent and its three load averages (its run/cpu, run/load)" \
	vdc_wait 10 eval "screen | grep -Eq '^ *a +up .* [0-9]+% .* [0-9]+\.[0-9]{2} [0-9]+\.[0-9]{2} [0-9]+\.[0-9]{2} *\$'"
order() { screen | awk '$1 == "web1" || $1 == "zz9" { printf "%s ", $1 }'; }
tm send-keys -t vdc n
ok "n sorts by name" vdc_wait 5 eval '[ "$(order)" = "web1 zz9 " ]'
tm send-keys -t vdc r
ok "r reverses the order" vdc_wait 5 eval '[ "$(order)" = "zz9 web1 " ]'
tm send-keys -t vdc m
ok "m sorts by memory, the most first" vdc_wait 5 eval '[ "$(order)" = "web1 zz9 " ]'
ok "the header says the order" screen_has 'sorted by memory'
tm send-keys -t vdc q
ok "q quits with status 0" vdc_wait 10 screen_has 'top-left-0'

# ---- keys for a guest that stopped ----

ok "power off" put off "$I/power"
ok "web1 stops" vdc_wait_state web1 stopped 60
tm send-keys -t vdc "clear; $VDC_BIN console web1; echo left-again-\$?" Enter
vdc_wait 10 screen_has 'Ctrl-]'
tm send-keys -t vdc x
ok "vdc console says a key was not taken" vdc_wait 10 screen_has 'keys not taken: Invalid argument'
ok "... and why, from run/err" vdc_wait 5 screen_has 'instance web1 is stopped: its console takes input only while it is running'
tm send-keys -t vdc C-]
ok "Ctrl-] leaves" vdc_wait 10 screen_has 'left-again-0'

done_testing
