# SPDX-License-Identifier: Apache-2.0
# faults-lib.sh - what the faults-*.sh tests share on top of backend-lib.sh:
# the fault-injecting proxy (tests/servers/faultproxy.py) between the backend
# and the local mail server, and reading its statistics.
. "$top_srcdir/tests/integration/backend-lib.sh"

# p2m_start_proxy NAME TARGET-PORT: a faultproxy in front of TARGET-PORT,
# controlled by $T/NAME.control (proxy_control NAME JSON).  Sets PROXY_PORT.
p2m_start_proxy() {
	local name="$1" target="$2"
	[ -f "$T/$name.control" ] || proxy_control "$name" '{}'
	rm -f "$T/$name.port"
	"$PYTHON3" "$top_srcdir/tests/servers/faultproxy.py" --target "$target" \
		--port-file "$T/$name.port" --control "$T/$name.control" --stats "$T/$name.stats" \
		>"$T/$name.log" 2>&1 &
	P2M_PIDS="$P2M_PIDS $!"
	PROXY_PORT=$(wait_port_file "$T/$name.port")
}

# proxy_control NAME JSON: the proxy's behaviour from the next connection on
# (and "refuse" within 0.1 s); waits until the proxy has logged it.
proxy_control() {
	local n i=0
	n=$(grep -c '^faultproxy: control:' "$T/$1.log" 2>/dev/null)
	printf '%s\n' "$2" >"$T/$1.control.tmp" && mv "$T/$1.control.tmp" "$T/$1.control"
	[ -f "$T/$1.port" ] || return 0
	while [ "$(grep -c '^faultproxy: control:' "$T/$1.log" 2>/dev/null)" -le "${n:-0}" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	# "refuse" takes effect on the watcher's next turn
	sleep 0.3
}

# proxy_stat NAME KEY: one number of the proxy's statistics (now, peak, total, drops, stalls).
proxy_stat() {
	"$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$T/$1.stats" "$2"
}

# elapsed_since T0: whole seconds since T0 (date +%s).
elapsed_since() { echo $(($(date +%s) - $1)); }
