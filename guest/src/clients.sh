#!/bin/sh
# Debian's own perf (linux-perf) and gdb (gdb-minimal), unmodified, drive
# the kernel's hardware breakpoints the way users do: perf stat and perf
# record on watchpoints and execute breakpoints, a system-wide kernel
# watchpoint, gdb's watch/rwatch/awatch/hbreak, gdb beyond the debug
# registers, and perf bench breakpoint. Every line checks a number or a
# value parsed from the tool's output against what bp_target did.
echo "TAP version 13"

T=$(mktemp -d) || exit 1
cd "$T" || exit 1
export HOME="$T"
target=/bin/bp_target
# Debian's tools by full path: /bin/perf is the perf suite's program.
perf=/usr/bin/perf
gdb=/usr/bin/gdb
arch=$(uname -m)

tests=0
failed=0
# result PASSED DESCRIPTION: one TAP line.
result() {
	tests=$((tests + 1))
	if [ "$1" = 1 ]; then
		echo "ok $tests - $2"
	else
		failed=$((failed + 1))
		echo "not ok $tests - $2"
	fi
}
# eq DESCRIPTION GOT WANT
eq() {
	if [ "$2" = "$3" ]; then
		result 1 "$1: $2"
	else
		result 0 "$1: got '$2', want '$3'"
	fi
}
# within DESCRIPTION GOT LOW HIGH (integers)
within() {
	case "$2" in
	''|*[!0-9]*) result 0 "$1: got '$2', want $3..$4"; return ;;
	esac
	if [ "$2" -ge "$3" ] && [ "$2" -le "$4" ]; then
		result 1 "$1: $2 (in $3..$4)"
	else
		result 0 "$1: got $2, want $3..$4"
	fi
}
# show FILE...: a tool's output as TAP comments, after a failure.
show() {
	sed 's/^/#   /' "$@"
}

# What bp_target watches: "name address" lines.
"$target" addr >addr.out || { echo "Bail out! bp_target addr failed"; exit 1; }
addr() {
	awk -v k="$1" '$1 == k { print $2 }' addr.out
}
word=$(addr bp_word)
hi=$(addr bp_word_hi)
func=$(addr bp_func)
kclear=$(addr kclear)
echo "# $arch: bp_word $word, bp_word.hi $hi, bp_func $func, kclear $kclear"
echo "# perf_event_paranoid $(cat /proc/sys/kernel/perf_event_paranoid)," \
	"kptr_restrict $(cat /proc/sys/kernel/kptr_restrict)"

# ---- perf stat: exact counts ----

# pstat EVENT ARGS...: the count perf stat reports for EVENT over one run
# of bp_target ARGS ("" if perf failed; its output is shown).
pstat() {
	ev=$1
	shift
	if ! "$perf" stat -x, -o stat.out -e "$ev" -- "$target" "$@" \
			>tool.out 2>&1; then
		echo "# perf stat -e $ev $target $* failed:" >&2
		show tool.out stat.out >&2
		return
	fi
	awk -F, '!/^#/ && NF > 2 { print $1; exit }' stat.out
}

n=1000
eq "perf stat mem:bp_word:w:u, $n user writes" \
	"$(pstat "mem:$word:w:u" write $n)" $n
eq "perf stat mem:bp_word:w, $n user writes + $kclear by exec's .bss clearing" \
	"$(pstat "mem:$word:w" write $n)" $((n + kclear))
eq "perf stat mem:bp_word:w:u, $n reads are not writes" \
	"$(pstat "mem:$word:w:u" read $n)" 0
eq "perf stat mem:bp_word:rw:u, $n writes and $n reads" \
	"$(pstat "mem:$word:rw:u" rw $n)" $((2 * n))
eq "perf stat mem:bp_word/4:w:u, $n writes to it, $((n / 2)) to the next 4 bytes" \
	"$(pstat "mem:$word/4:w:u" split $n $((n / 2)))" $n
eq "perf stat mem:bp_word/8:w:u, $n + $((n / 2)) writes to its two halves" \
	"$(pstat "mem:$word/8:w:u" split $n $((n / 2)))" $((n + n / 2))
eq "perf stat mem:bp_func:x:u, $n calls" \
	"$(pstat "mem:$func:x:u" call $n)" $n

# ---- perf record / report / script: samples and who wrote ----

n=100
if "$perf" record -q -N -o rec.data -e "mem:$word:w:u" -c 1 -- \
		"$target" write $n >tool.out 2>&1; then
	"$perf" script -i rec.data -F ip,sym >script.out 2>&1
	"$perf" report -i rec.data --stdio --sort sym >report.out 2>&1
else
	echo "# perf record failed:"
	show tool.out
	: >script.out
	: >report.out
fi
eq "perf script: one sample per write" \
	"$(awk 'NF >= 2' script.out | wc -l)" $n
eq "perf script: samples in bp_writer" \
	"$(awk '$2 == "bp_writer"' script.out | wc -l)" $n
eq "perf report: sample count" \
	"$(sed -n 's/^# Samples: \([0-9]*\) .*/\1/p' report.out)" $n
eq "perf report: overhead of bp_writer" \
	"$(awk '$3 == "bp_writer" { print $1 }' report.out)" "100.00%"

# ---- a system-wide kernel watchpoint: jiffies ----

hz=$(sed -n 's/^CONFIG_HZ=//p' /etc/hwbp/kernel.config)
jiffies=$(awk '$3 == "jiffies" { print $1; exit }' /proc/kallsyms)
[ -n "$jiffies" ] ||
	jiffies=$(awk '$3 == "jiffies_64" { print $1; exit }' /proc/kallsyms)
secs=2
if [ -z "$hz" ] || [ -z "$jiffies" ] || [ "$jiffies" = 0000000000000000 ]; then
	result 0 "kernel watchpoint on jiffies: no CONFIG_HZ ('$hz') or no address ('$jiffies')"
elif "$perf" stat -a -e "mem:0x$jiffies:w" -o stat.out -- sleep $secs \
		>tool.out 2>&1; then
	# Per second of the elapsed time perf measured, in 1/1000 of HZ.
	rate=$(awk -v hz="$hz" '
		/mem:/ { gsub(",", "", $1); hits = $1 }
		/seconds time elapsed/ { secs = $1 }
		END { if (secs > 0 && hits != "") printf "%d", hits / secs / hz * 1000 }
	' stat.out)
	echo "# jiffies at 0x$jiffies, HZ=$hz:"
	show stat.out
	within "perf stat -a mem:jiffies:w over sleep $secs, writes per second per mille of HZ=$hz" \
		"$rate" 750 1250
else
	result 0 "perf stat -a -e mem:0x$jiffies:w sleep $secs failed"
	show tool.out stat.out
fi

# ---- perf on a watch-probe event (tracefs w:, our kernel) ----

T=/sys/kernel/tracing
[ -e $T/dynamic_events ] || mount -t tracefs nodev $T
if ! echo 'w:pj w@jiffies' >> $T/dynamic_events 2>/dev/null; then
	result 0 "perf stat -a -e wprobes:pj: no watch-probe event (w:pj w@jiffies refused)"
	result 0 "perf record -a -e wprobes:pj: no watch-probe event"
else
	if [ -n "$hz" ] && "$perf" stat -a -e wprobes:pj -o wp.out -- sleep $secs \
			>tool.out 2>&1; then
		rate=$(awk -v hz="$hz" '
			/wprobes:pj/ { gsub(",", "", $1); hits = $1 }
			/seconds time elapsed/ { secs = $1 }
			END { if (secs > 0 && hits != "") printf "%d", hits / secs / hz * 1000 }
		' wp.out)
		show wp.out
		within "perf stat -a -e wprobes:pj (w@jiffies) over sleep $secs, events per second per mille of HZ=$hz" \
			"$rate" 750 1250
	else
		result 0 "perf stat -a -e wprobes:pj sleep $secs failed"
		show tool.out wp.out
	fi
	if "$perf" record -a -e wprobes:pj -o wp.data -- sleep 1 >tool.out 2>&1 &&
	   "$perf" script -i wp.data >wp.script 2>>tool.out; then
		n=$(grep -c 'wprobes:pj:' wp.script)
		head -n 2 wp.script | sed 's/^/# /'
		within "perf record -a -e wprobes:pj over sleep 1: one sample per write of jiffies, about HZ=$hz" \
			"$n" $((hz * 3 / 4)) $((hz * 5 / 4))
	else
		result 0 "perf record -a -e wprobes:pj failed"
		show tool.out
	fi
	echo '-:wprobes/pj' >> $T/dynamic_events
fi

# ---- gdb: watch, rwatch, awatch, hbreak ----

# gdb_run ARGS -- COMMANDS...: a batch session on bp_target ARGS, stopped
# at its first instruction before the commands; output in gdb.out.
gdb_run() {
	args=
	while [ "$1" != -- ]; do
		args="$args $1"
		shift
	done
	shift
	set -- -nx -batch -ex "set startup-with-shell off" -ex starti "$@"
	# shellcheck disable=SC2086
	"$gdb" "$@" --args "$target" $args >gdb.out 2>&1
	gdb_rc=$?
}
# The stops in gdb.out, one word each: w<N>:<old>><new>:<function> for a
# watchpoint that saw a change, w<N>:=<value>:<function> for one that saw
# a read, b<N>:<function> for a breakpoint; "exited" when the program ended.
stops() {
	awk '
		/^Hardware .*watchpoint [0-9]+: / {
			n = $0; sub(/:.*/, "", n); sub(/.* /, "", n); wp = n
		}
		/^Old value = / { old = $4 }
		/^New value = / { new = $4 }
		/^Value = / { val = $3 }
		/^0x[0-9a-f]+ in [^ ]+ \(\)/ && wp != "" {
			if (new != "")
				printf "w%s:%s>%s:%s ", wp, old, new, $3
			else if (val != "")
				printf "w%s:=%s:%s ", wp, val, $3
			wp = old = new = val = ""
		}
		/^Breakpoint [0-9]+, 0x[0-9a-f]+ in [^ ]+ \(\)/ {
			sub(",", "", $2); printf "b%s:%s ", $2, $5
		}
		/^\[Inferior 1 \(process [0-9]+\) exited normally\]/ {
			printf "exited "
		}
	' gdb.out | sed 's/ $//'
}
# gdb_check DESCRIPTION WANT-STOPS
gdb_check() {
	got=$(stops)
	if [ "$got" = "$2" ] && [ "$gdb_rc" = 0 ]; then
		result 1 "$1: $got"
	else
		result 0 "$1: got '$got' (gdb exit $gdb_rc), want '$2'"
		show gdb.out
	fi
}
# has DESCRIPTION PATTERN: gdb.out holds a line matching PATTERN.
has() {
	if grep -q -- "$2" gdb.out; then
		result 1 "$1"
	else
		result 0 "$1: no line matching '$2'"
		show gdb.out
	fi
}

lo='*(int *)&bp_word'
gdb_run write 3 -- -ex "watch $lo" -ex continue -ex continue -ex kill
has "gdb watch: a hardware watchpoint" "^Hardware watchpoint 1: \*(int \*)&bp_word$"
gdb_check "gdb watch: old and new values of two writes" \
	"w1:0>1:bp_writer w1:1>2:bp_writer"

gdb_run read 3 -- -ex "set var $lo = 7" -ex "rwatch $lo" \
	-ex continue -ex continue -ex kill
has "gdb rwatch: a hardware read watchpoint" "^Hardware read watchpoint 1: "
gdb_check "gdb rwatch: two reads of the value gdb set" \
	"w1:=7:bp_reader w1:=7:bp_reader"

gdb_run rw 3 -- -ex "awatch $lo" -ex continue -ex continue -ex continue -ex kill
has "gdb awatch: a hardware access watchpoint" \
	"^Hardware access (read/write) watchpoint 1: "
gdb_check "gdb awatch: write, read, write" \
	"w1:0>1:bp_rw w1:=1:bp_rw w1:1>2:bp_rw"

gdb_run call 3 -- -ex "hbreak bp_func" -ex continue -ex continue \
	-ex continue -ex continue
has "gdb hbreak after starti: a hardware assisted breakpoint" \
	"^Hardware assisted breakpoint 1 at $func$"
gdb_check "gdb hbreak: three calls, then the program exits" \
	"b1:bp_func b1:bp_func b1:bp_func exited"

# The same on a 32-bit (AArch32) build of bp_target, in the arm64 guest:
# gdb drives a compat process's debug registers.
if [ "$arch" = aarch64 ]; then
	target=/bin/bp_target32
	gdb_run write 3 -- -ex "watch $lo" -ex continue -ex continue -ex kill
	gdb_check "gdb watch on a 32-bit process: old and new values of two writes" \
		"w1:0>1:bp_writer w1:1>2:bp_writer"
	gdb_run call 3 -- -ex "hbreak bp_func" -ex continue -ex continue \
		-ex continue -ex continue
	gdb_check "gdb hbreak on a 32-bit process: three calls, then the program exits" \
		"b1:bp_func b1:bp_func b1:bp_func exited"
	target=/bin/bp_target
fi

# One watchpoint more than the CPU has: x86 has four debug registers for
# them, QEMU's arm64 "max" CPU four watchpoint registers. gdb must say it
# cannot insert the 5th, and once it is deleted the other four must work.
set --
for i in 0 1 2 3 4; do
	set -- "$@" -ex "watch ((long *)&bp_many)[$i]"
done
gdb_run many 2 -- "$@" -ex continue -ex "delete 5" -ex continue \
	-ex continue -ex continue -ex continue -ex kill
has "gdb: a 5th hardware watchpoint cannot be inserted" \
	"^Could not insert hardware watchpoint 5\.$"
gdb_check "gdb: without the 5th, the other four stop in turn" \
	"w1:0>1:bp_spread w2:0>1:bp_spread w3:0>1:bp_spread w4:0>1:bp_spread"

# ---- perf stat beyond the registers: flexible breakpoints ----

# Eight non-pinned watchpoints, twice the registers: perf multiplexes them
# and scales each count, printing the share of the time each ran (the
# CSV's 5th field). Each word takes $m writes.
m=20000
set --
for i in 0 1 2 3 4 5 6 7; do
	set -- "$@" -e "mem:$(addr bp_many$i):w:u"
done
if "$perf" stat -x, -o flex.out "$@" -- "$target" many $m >tool.out 2>&1; then
	got=$(awk -F, -v m=$m '!/^#/ && NF > 4 {
		n++
		if ($1 >= m * 0.8 && $1 <= m * 1.2) near++
		if ($5 + 0 > 0 && $5 + 0 < 100) part++
	} END { printf "%d events, %d within 20%%, %d ran part of the time", n, near, part }' flex.out)
	eq "perf stat with 8 mem:bp_many:w:u on 4 registers, $m writes each" \
		"$got" "8 events, 8 within 20%, 8 ran part of the time"
	sed 's/^/#   /' flex.out
else
	result 0 "perf stat with 8 mem:bp_many:w:u failed"
	show tool.out flex.out
fi

# ---- perf stat on a range: one watchpoint over several registers ----

# x86 splits mem:ADDR/32 over four debug registers: the writes to the
# four words it covers count, the four after it and the scrub word not.
# arm64 watches all eight words, 64 aligned bytes, with one MASK block.
if [ "$arch" = x86_64 ]; then
	r=2000
	eq "perf stat mem:bp_many/32:w:u, $r writes to each of its 4 words and none counted outside" \
		"$(pstat "mem:$(addr bp_many0)/32:w:u" many $r)" $((4 * r))
elif [ "$arch" = aarch64 ]; then
	r=2000
	eq "perf stat mem:bp_many/64:w:u, $r writes to each of its 8 words and none counted outside" \
		"$(pstat "mem:$(addr bp_many0)/64:w:u" many $r)" $((8 * r))
fi

# ---- perf bench breakpoint: it runs to the end ----

# bench DESCRIPTION HEADER-PATTERN ARGS...
bench() {
	what=$1
	pattern=$2
	shift 2
	"$perf" bench breakpoint "$@" >bench.out 2>&1
	rc=$?
	secs=$(sed -n 's/^ *Total time: \([0-9.]*\) \[sec\]$/\1/p' bench.out)
	if [ "$rc" = 0 ] && [ -n "$secs" ] && grep -q -- "$pattern" bench.out; then
		result 1 "perf bench breakpoint $what: exit 0, $secs s"
	else
		result 0 "perf bench breakpoint $what: exit $rc, total time '$secs'"
		show bench.out
	fi
}
bench "thread -b 4 -p 8 -t 8" "with 4 breakpoints and 8 parallelism$" \
	thread -b 4 -p 8 -t 8
bench "enable -p 4 -a 4" "with 4 passive and 4 active threads$" \
	enable -p 4 -a 4

cd / && rm -rf "$T"
echo "1..$tests"
[ "$failed" = 0 ]
