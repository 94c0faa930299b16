# A pg_auto_failover formation on this machine, for test/failover_test and
# test/bench/ha: a monitor, a primary and a synchronous secondary, each run
# by its own `pg_autoctl run` (the manager; no failover logic of ours).
# Sourced after lib.sh.  Every node listens on 127.0.0.1 only and keeps
# its socket in a private directory; pg_autoctl's own state goes under
# $HA_DIR (XDG directories), never into the postgres user's home.
HA_DIR=${HA_DIR:-$WA_DIR-ha}
HA_PORT=${HA_PORT:-$((WA_PORT + 1))}         # the monitor; the nodes take the next two
NODE_PORTS=($((HA_PORT + 1)) $((HA_PORT + 2)))
HA_SOCK=$HA_DIR/sock
MONITOR_URI="postgres://autoctl_node@127.0.0.1:$HA_PORT/pg_auto_failover?sslmode=disable"

autoctl() {
	as_cluster_owner env -u PGPORT -u PGDATABASE -u PGUSER XDG_CONFIG_HOME="$HA_DIR/config" XDG_DATA_HOME="$HA_DIR/share" \
		XDG_RUNTIME_DIR="$HA_DIR/run" PG_REGRESS_SOCK_DIR="$HA_SOCK" PGHOST="$HA_SOCK" \
		pg_autoctl "$@"
}
# psql on node 1 or 2 (or the monitor: m) through the private socket
hq() {
	local port=$HA_PORT db=pg_auto_failover
	[ "$1" = m ] || { port=${NODE_PORTS[$1 - 1]}; db=postgres; }
	shift
	psql -X -q -At -v ON_ERROR_STOP=1 -h "$HA_SOCK" -p "$port" -U postgres -d "$db" "$@"
}
# Run a node's keeper (or the monitor) in the background, its log beside it.
ha_run() {
	autoctl run --pgdata "$HA_DIR/$1" >>"$HA_DIR/$1.log" 2>&1 &
}
# Wait (bounded) until the monitor reports the given states of node1 and node2.
ha_wait_states() {
	local want=$1 limit=${2:-120} got= i
	for i in $(seq "$limit"); do
		got=$(hq m -c "SELECT string_agg(nodename || ':' || reportedstate, ' ' ORDER BY nodename)
			FROM pgautofailover.node WHERE reportedstate = goalstate" 2>/dev/null || true)
		[ "$got" = "$want" ] && return 0
		sleep 1
	done
	echo "not ok: the formation did not reach \"$want\" within ${limit}s (last: \"$got\")" >&2
	return 1
}

ha_stop() {
	local n
	for n in node2 node1 monitor; do
		[ -d "$HA_DIR/$n" ] || continue
		autoctl stop --pgdata "$HA_DIR/$n" --immediate >/dev/null 2>&1 || true
	done
	sleep 1
	for n in node2 node1 monitor; do
		[ -f "$HA_DIR/$n/postmaster.pid" ] &&
			as_cluster_owner "$PGBIN/pg_ctl" -D "$HA_DIR/$n" -m immediate -w stop >/dev/null 2>&1 || true
	done
	return 0
}

# Monitor, then node1 (the first primary), then node2 (its secondary, a
# pg_basebackup of node1).  The failure detection is tightened from the
# defaults (20 s to call a node unhealthy, 30 s for a lost primary to be
# taken as demoted) to keep the drill short; primary_demote_timeout stays
# above the keepers' network_partition_timeout, the time after which a
# primary cut off from monitor and standby demotes itself, so two primaries
# never take writes at once.
ha_start() {
	say "pg_auto_failover: monitor on $HA_PORT, nodes on ${NODE_PORTS[*]} (in $HA_DIR)"
	ha_stop
	rm -rf "$HA_DIR"
	mkdir -p -m 700 "$HA_DIR" "$HA_SOCK" "$HA_DIR/config" "$HA_DIR/share" "$HA_DIR/run"
	[ "$(id -u)" = 0 ] && chown -R postgres: "$HA_DIR"
	autoctl create monitor --pgdata "$HA_DIR/monitor" --pgport "$HA_PORT" --pgctl "$PGBIN/pg_ctl" \
		--hostname 127.0.0.1 --listen 127.0.0.1 --auth trust --no-ssl >"$HA_DIR/create-monitor.log" 2>&1
	cat >>"$HA_DIR/monitor/postgresql.conf" <<CONF
unix_socket_directories = '$HA_SOCK'
pgautofailover.health_check_period = 1000
pgautofailover.health_check_timeout = 1000
pgautofailover.health_check_max_retries = 1
pgautofailover.health_check_retry_delay = 500
pgautofailover.node_considered_unhealthy_timeout = 3000
pgautofailover.primary_demote_timeout = 6000
CONF
	ha_run monitor
	local i
	for i in $(seq 60); do hq m -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.5; done

	# node1's data directory is ours (initdb, the settings the extension
	# wants); pg_autoctl registers it as the primary.  node2 copies it.
	as_cluster_owner "$PGBIN/initdb" -D "$HA_DIR/node1" -U postgres --auth=trust \
		-E UTF8 --locale=C.UTF-8 >/dev/null
	cat >>"$HA_DIR/node1/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$HA_SOCK'
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
# jobs in background workers: cron.job keeps the host and port of the node
# that scheduled them, which a libpq connection from another node would use
cron.use_background_workers = on
CONF
	for n in 1 2; do
		autoctl create postgres --pgdata "$HA_DIR/node$n" --pgport "${NODE_PORTS[$n - 1]}" \
			--pgctl "$PGBIN/pg_ctl" --pghost "$HA_SOCK" --hostname 127.0.0.1 --listen 127.0.0.1 \
			--name "node$n" --monitor "$MONITOR_URI" --auth trust --no-ssl >"$HA_DIR/create-node$n.log" 2>&1 ||
			{ tail -20 "$HA_DIR/create-node$n.log"; return 1; }
		autoctl config set --pgdata "$HA_DIR/node$n" timeout.network_partition_timeout 4 >/dev/null
		autoctl config set --pgdata "$HA_DIR/node$n" timeout.prepare_promotion_walreceiver 1 >/dev/null
		ha_run "node$n"
		if [ "$n" = 1 ]; then ha_wait_states 'node1:single' 60; else ha_wait_states 'node1:primary node2:secondary' 120; fi
	done
}
