#!/bin/bash
# Start-up benchmark: what each tool costs before it does anything, i.e.
# `TOOL --help`, beside `ip -V`, `nft --version` and /bin/true in the same
# run, variants interleaved; and how many shared objects each one maps (the
# dynamic loader's work: libvirt and libcurl are loaded only when first
# needed, README "Layout"). A pipeline of cyris tools pays this per step.
. "$(dirname "$0")/lib.sh"

STARTS=${STARTS:-$([ "$QUICK" = 1 ] && echo 10 || echo 50)}
tools=(cyris-bridge cyris-fw cyris-tunnel cyris-check cyris-aws cyris-vm cyris-topo)
declare -A cmd T
for t in "${tools[@]}"; do cmd[$t]="$CYRIS_BIN/$t --help"; done
cmd[ip]="ip -V"; cmd[nft]="nft --version"; cmd[true]="/bin/true"
names=("${tools[@]}" ip nft true)
# one process start, in microseconds
start_us() { local s e; s=${EPOCHREALTIME/./}; ${cmd[$1]} >/dev/null 2>&1; e=${EPOCHREALTIME/./}; echo $((e - s)); }
# the shared objects the loader maps for it (ld.so's own list)
objects() { local b=${cmd[$1]%% *}; b=$(command -v "$b"); LD_TRACE_LOADED_OBJECTS=1 "$b" 2>/dev/null | grep -c '=>\|ld-linux'; }
quiet
for n in "${names[@]}"; do start_us "$n" >/dev/null; done   # (page cache warm)
for ((r = 0; r < STARTS; r++)); do
	for n in "${names[@]}"; do T[$n]="${T[$n]:-} $(start_us "$n")"; done
done
{
	echo "### Start-up: each tool's \`--help\`, beside \`ip\`, \`nft\` and /bin/true"
	echo
	echo "Machine: $(machine). Median of $STARTS starts each, variants interleaved."
	echo
	echo "| program | start ms | shared objects mapped |"
	echo "|---|---:|---:|"
	for n in "${names[@]}"; do
		m=$(median ${T[$n]})
		printf '| `%s` | %s | %s |\n' "${cmd[$n]#"$CYRIS_BIN/"}" "$(awk -v u="$m" 'BEGIN { printf "%.1f", u / 1000 }')" "$(objects "$n")"
	done
} | tee "$BENCH_OUT/start.md"
