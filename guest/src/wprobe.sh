#!/bin/sh
# Watch-probe dynamic events (CONFIG_WPROBE_EVENTS, kernel/trace/
# trace_wprobe.c), from the shell as their documentation shows them: a
# write probe on jiffies, a read probe with $value on the test module's
# variable, a watch probe across CPU hotplug, the slots they hold and give
# back, and definitions the kernel must refuse with an error_log message.
echo "TAP version 13"

tests=0
# result PASSED DESCRIPTION: one TAP line.
result() {
	tests=$((tests + 1))
	if [ "$1" = 1 ]; then
		echo "ok $tests - $2"
	else
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
# show FILE...: what a check saw, as TAP comments, after a failure.
show() {
	head -n 20 "$@" | sed 's/^/#   /'
}

T=/sys/kernel/tracing
[ -e $T/dynamic_events ] || mount -t tracefs nodev $T
if [ ! -e $T/dynamic_events ]; then
	echo "Bail out! no tracefs dynamic_events"
	exit 1
fi
in_use=/sys/kernel/debug/hw_breakpoint/in_use
arch=$(uname -m)
W=$(mktemp -d) || exit 1

# define DEFINITION: append it to dynamic_events; status as the write's.
define() {
	echo "$1" >> $T/dynamic_events 2>/dev/null
}
# hits EVENT: the event's lines in the trace buffer, into $W/EVENT.
hits() {
	grep " $1: (" $T/trace > "$W/$1" || true
	wc -l < "$W/$1"
}
# busy SECONDS: keep a CPU running (its tick updates jiffies every jiffy).
busy() {
	timeout "$1" sh -c 'while :; do :; done' 2>/dev/null
}

echo 0 > $T/tracing_on
echo > $T/trace
echo 1 > $T/tracing_on

# 1. The documentation's first example, and what dynamic_events shows.
if define 'w:jw w@jiffies v=$value a=$addr'; then
	result 1 "w:jw w@jiffies is accepted"
else
	result 0 "w:jw w@jiffies is accepted"
fi
eq "dynamic_events shows it" "$(grep '^w:' $T/dynamic_events)" \
	'w:wprobes/jw w@jiffies:4 v=$value:x32 a=$addr'
if [ -d $T/events/wprobes/jw ] &&
   grep -q 'field:unsigned long __probe_ip;' $T/events/wprobes/jw/format; then
	result 1 "events/wprobes/jw exists with an __probe_ip field"
else
	result 0 "events/wprobes/jw exists with an __probe_ip field"
fi
eq "a disabled watch probe holds no register (in_use)" "$(cat $in_use)" 0

# 2. Enabled: one event per write of jiffies, by the writer's ip.
echo 1 > $T/events/wprobes/jw/enable
eq "enabled, it holds registers (in_use)" "$(cat $in_use)" 1
busy 2
echo 0 > $T/events/wprobes/jw/enable
eq "disabled again, in_use" "$(cat $in_use)" 0
n=$(hits jw)
# Every write adds one or more ticks; $value (the low 32 bits of jiffies:
# after the store on x86, before it on arm64) grows by as much.
first=$(head -n 1 $W/jw | sed -n 's/.* v=\(0x[0-9a-f]*\).*/\1/p')
last=$(tail -n 1 $W/jw | sed -n 's/.* v=\(0x[0-9a-f]*\).*/\1/p')
span=$(( ${last:-0} - ${first:-0} ))
if [ "$n" -ge 10 ] && [ "$span" -ge $((n - 1)) ] && [ "$span" -le $((4 * n)) ]; then
	result 1 "2 s with a busy CPU: $n writes of jiffies seen, jiffies grew by $span"
else
	result 0 "2 s with a busy CPU: $n writes of jiffies seen, jiffies grew by $span (want >= 10, span n-1..4n)"
	show $W/jw
fi
# The values are those of successive writes: strictly increasing.
if sed -n 's/.* v=\(0x[0-9a-f]*\).*/\1/p' $W/jw | {
	p=
	while read -r v; do
		v=$((v))
		[ -z "$p" ] || [ "$v" -gt "$p" ] || exit 1
		p=$v
	done
   }; then
	result 1 "\$value increases from event to event"
else
	result 0 "\$value increases from event to event"
	show $W/jw
fi
# The writer: the tick code that advances jiffies_64.
others=$(grep -v -E ' jw: \((tick_do_update_jiffies64|do_timer|tick_periodic|tick_sched_do_timer|tick_nohz_[a-z_]*|tick_irq_enter)\+0x' $W/jw | wc -l)
if [ "$n" -gt 0 ] && [ "$others" -eq 0 ]; then
	result 1 "every hit's ip is in the tick code that writes jiffies"
else
	result 0 "every hit's ip is in the tick code that writes jiffies ($others others)"
	grep -v -E ' jw: \((tick_do_update_jiffies64|do_timer|tick_periodic|tick_sched_do_timer|tick_nohz_[a-z_]*|tick_irq_enter)\+0x' $W/jw | show
fi
# What a user sees, and who wrote.
head -n 1 $W/jw | sed 's/^ */# e.g. /'
echo "# writers: $(sed -n 's/.* jw: (\([a-z_0-9]*\)+.*/\1/p' $W/jw | sort | uniq -c | tr -s ' \n' ' ')"
want=$(awk '$3 == "jiffies" { print $1 }' /proc/kallsyms | head -n 1)
got=$(head -n 1 $W/jw | sed -n 's/.* a=0x\([0-9a-f]*\).*/\1/p')
if [ -n "$got" ] && [ $((0x$got)) = $((0x$want)) ]; then
	result 1 "\$addr is jiffies' address (0x$got)"
else
	result 0 "\$addr is jiffies' address: got 0x$got, want 0x$want"
fi

# 3. Removal.
if echo '-:wprobes/jw' >> $T/dynamic_events &&
   ! grep -q '^w:' $T/dynamic_events && [ ! -d $T/events/wprobes/jw ]; then
	result 1 "-:wprobes/jw removes the event"
else
	result 0 "-:wprobes/jw removes the event"
fi
eq "after removal, in_use" "$(cat $in_use)" 0

# 4. A read probe with $value on the test module's variable. x86 watches
# reads only together with writes (DR7 has no read-only type): there the
# probe is rw and r is refused.
echo > $T/trace
if ! modprobe wprobe_test; then
	echo "Bail out! modprobe wprobe_test failed"
	exit 1
fi
P=/sys/module/wprobe_test/parameters
rtype=r
if [ "$arch" = x86_64 ]; then
	rtype=rw
	echo > $T/error_log
	if define 'w:rv r@wprobe_test_value'; then
		result 0 "x86: a read-only watch probe is refused"
	else
		result 1 "x86: a read-only watch probe is refused"
	fi
	if grep -q 'The debug registers cannot watch this address' $T/error_log; then
		result 1 "x86: error_log says why"
	else
		result 0 "x86: error_log says why"
		show $T/error_log
	fi
fi
if define "w:rv $rtype@wprobe_test_value val=\$value"; then
	result 1 "$rtype@wprobe_test_value val=\$value is accepted"
else
	result 0 "$rtype@wprobe_test_value val=\$value is accepted"
fi
echo 1234 > $P/value
echo 1 > $T/events/wprobes/rv/enable
cat $P/value > /dev/null
cat $P/value > /dev/null
echo 0 > $T/events/wprobes/rv/enable
n=$(grep -c ' rv: (param_get_int+0x[0-9a-f]*/0x[0-9a-f]*) val=0x4d2$' $T/trace)
eq "two reads of the variable through sysfs, two events in param_get_int with val=1234" "$n" 2
if [ "$n" != 2 ]; then
	show $T/trace
fi
if rmmod wprobe_test 2>/dev/null; then
	result 0 "the module a watch probe watches cannot be unloaded"
	modprobe wprobe_test
else
	result 1 "the module a watch probe watches cannot be unloaded"
fi

# 5. CPU hotplug: a CPU offlined and onlined again while the probe is
# enabled watches again (the watchpoint follows hotplug).
cpu=$(( $(grep -c '^processor' /proc/cpuinfo) - 1 ))
echo > $T/trace
echo 1 > $T/events/wprobes/rv/enable
if [ "$cpu" -ge 1 ] && echo 0 > /sys/devices/system/cpu/cpu$cpu/online &&
   echo 1 > /sys/devices/system/cpu/cpu$cpu/online; then
	taskset -c "$cpu" cat $P/value > /dev/null
	taskset -c 0 cat $P/value > /dev/null
	echo 0 > $T/events/wprobes/rv/enable
	on=$(grep -c "\[00$cpu\] .* rv: (param_get_int+" $T/trace)
	on0=$(grep -c "\[000\] .* rv: (param_get_int+" $T/trace)
	eq "a read on CPU $cpu after it went offline and online again is seen there" "$on" 1
	eq "and one on CPU 0" "$on0" 1
	[ "$on" = 1 ] || show $T/trace
else
	echo 0 > $T/events/wprobes/rv/enable
	result 0 "CPU $cpu goes offline and online again"
fi
echo '-:wprobes/rv' >> $T/dynamic_events
eq "after removing rv, in_use" "$(cat $in_use)" 0
if rmmod wprobe_test; then
	result 1 "with the probe gone the module unloads"
else
	result 0 "with the probe gone the module unloads"
fi

# 6. set_wprobe from a kprobe on the module's function: the watch probe
# follows the object the function is handed (obj->val is 8 bytes in) and
# records the function's write to it; clear_wprobe sends it back.
modprobe wprobe_test
base=$(awk '$3 == "wprobe_test_objs" { print $1 }' /proc/kallsyms | head -n 1)
var=$(awk '$3 == "wprobe_test_value" { print $1 }' /proc/kallsyms | head -n 1)
define 'w:wv w@wprobe_test_value a=$addr'
echo 'p:kprobes/poke wprobe_test_poke obj=$arg1 val=$arg2:s32' >> $T/kprobe_events
if echo 'set_wprobe:wv:obj+8 if val < 100' > $T/events/kprobes/poke/trigger; then
	result 1 "set_wprobe:wv:obj+8 on a kprobe is accepted"
else
	result 0 "set_wprobe:wv:obj+8 on a kprobe is accepted"
fi
eq "the trigger file lists it" "$(grep -v '^#' $T/events/kprobes/poke/trigger)" \
	'set_wprobe:wprobes/wv:obj+8 if val < 100'
eq "the trigger arms the watch probe (in_use)" "$(cat $in_use)" 1
echo > $T/trace
echo 1 > $T/events/wprobes/wv/enable
for v in 11 22 33; do
	taskset -c 0 sh -c "echo $v > $P/poke"
done
echo 0 > $T/events/wprobes/wv/enable
grep ' wv: (' $T/trace > $W/wv
n=$(grep -c ' wv: (wprobe_test_poke+0x' $W/wv)
eq "three pokes, three writes seen in wprobe_test_poke" "$n" 3
a=$(sed -n 's/.* a=0x\([0-9a-f]*\).*/\1/p' $W/wv | tr '\n' ' ')
want="$(printf '%x %x %x ' $((0x$base + 8)) $((0x$base + 24)) $((0x$base + 8)))"
eq "each at its object's val (wprobe_test_objs+8, +24, +8)" "$a" "$want"
[ "$n" = 3 ] || show $W/wv $T/trace
if echo '-:wprobes/wv' >> $T/dynamic_events 2>/dev/null; then
	result 0 "a watch probe a trigger uses cannot be removed"
else
	result 1 "a watch probe a trigger uses cannot be removed"
fi
# clear_wprobe on the large values: back to the variable it was defined
# on, so the poke's write is not seen and a write of the variable is.
if echo 'clear_wprobe:wv if val >= 100' >> $T/events/kprobes/poke/trigger; then
	result 1 "clear_wprobe:wv beside it is accepted"
else
	result 0 "clear_wprobe:wv beside it is accepted"
fi
echo > $T/trace
echo 1 > $T/events/wprobes/wv/enable
taskset -c 0 sh -c "echo 44 > $P/poke"
taskset -c 0 sh -c "echo 200 > $P/poke"
taskset -c 0 sh -c "echo 55 > $P/value"
echo 0 > $T/events/wprobes/wv/enable
a=$(grep ' wv: (' $T/trace | sed -n 's/.* a=0x\([0-9a-f]*\).*/\1/p' | tr '\n' ' ')
want="$(printf '%x %x ' $((0x$base + 24)) $((0x$var)))"
eq "set, clear, then the variable's write: events at obj[1].val and the variable" "$a" "$want"
[ "$a" = "$want" ] || show $T/trace
echo '!clear_wprobe:wv' > $T/events/kprobes/poke/trigger
echo '!set_wprobe:wv:obj+8' > $T/events/kprobes/poke/trigger
eq "without the triggers, the disabled watch probe holds nothing (in_use)" "$(cat $in_use)" 0
refused_trigger() {
	if echo "$1" > $T/events/kprobes/poke/trigger 2>/dev/null; then
		result 0 "trigger '$1' is refused"
		echo "!$1" > $T/events/kprobes/poke/trigger
	else
		result 1 "trigger '$1' is refused"
	fi
}
refused_trigger 'set_wprobe:no_such_wprobe:obj'
refused_trigger 'set_wprobe:wv:no_such_field'
refused_trigger 'set_wprobe:wv'
refused_trigger 'set_wprobe:wv:obj:5'
echo '-:kprobes/poke' >> $T/dynamic_events
echo '-:wprobes/wv' >> $T/dynamic_events
eq "triggers and probes gone, in_use" "$(cat $in_use)" 0
rmmod wprobe_test

# 7. Definitions the kernel refuses, each with its error_log message and
# no event and no register left behind.
refused() {
	echo > $T/error_log
	if define "$1"; then
		result 0 "'$1' is refused"
		echo "-:wprobes/bad" >> $T/dynamic_events
		return
	fi
	if grep -q "$2" $T/error_log; then
		result 1 "'$1' is refused: $2"
	else
		result 0 "'$1' is refused, error_log says '$2'"
		show $T/error_log
	fi
	if grep -q '^w:' $T/dynamic_events || [ -d $T/events/wprobes/bad ] ||
	   [ "$(cat $in_use)" != 0 ]; then
		result 0 "  and leaves nothing behind"
	else
		result 1 "  and leaves nothing behind"
	fi
}
refused 'w:bad w@no_such_symbol_here' 'Invalid probed address or symbol'
refused 'w:bad w@jiffies:3' 'Watch length must be 1, 2, 4, 8 or more than 8'
refused 'w:bad w@jiffies:0' 'Watch length must be'
refused 'w:bad w@0x10000' 'Watch probes watch kernel addresses only'
refused 'w:bad x@jiffies' 'Watch type must be r, w or rw'
refused 'w:bad w@jiffies $arg1' 'can be used only on function entry or exit'
refused 'w:bad w@jiffies $retval' 'is not available on probe'
refused 'w:bad' 'Invalid probed address or symbol'
# A second definition under a name in use: refused, the first one kept.
define 'w:twice w@jiffies'
echo > $T/error_log
if define 'w:twice w@jiffies:8'; then
	result 0 "a second w:twice is refused"
elif grep -q 'already used by another event' $T/error_log &&
     [ "$(grep -c '^w:wprobes/twice w@jiffies:4$' $T/dynamic_events)" = 1 ]; then
	result 1 "a second w:twice is refused: already used by another event"
else
	result 0 "a second w:twice is refused, error_log says it is in use"
	show $T/error_log $T/dynamic_events
fi
echo '-:wprobes/twice' >> $T/dynamic_events
eq "nothing left: in_use" "$(cat $in_use)" 0

echo "1..$tests"
