# Clusters of a router fleet on one machine: one router, partitions p0..pN-1.
# Sourced by test/router_test and test/bench/router, after test/lib.sh.
# Each node is a throwaway cluster in $FLEET_DIR/<name>, listening only on
# its own socket directory; partition N listens on FLEET_PORT + 1 + N and
# its database is wa_pN (PL/Proxy names a partition by its database in
# every error, so each gets its own name).

FLEET_DIR=${FLEET_DIR:-/tmp/whatsapp_auth-fleet}
FLEET_PORT=${FLEET_PORT:-54360}

node_dir() { echo "$FLEET_DIR/$1"; }
partition_port() { echo $((FLEET_PORT + 1 + $1)); }
partition_conninfo() { echo "host=$(node_dir "p$1") port=$(partition_port "$1") dbname=wa_p$1"; }

# psql on a node: node_psql router|pN [psql arguments]
node_psql() {
	local name=$1; shift
	local port db
	if [ "$name" = router ]; then port=$FLEET_PORT db=wa_router
	else port=$(partition_port "${name#p}") db=wa_$name; fi
	psql -X -q -v ON_ERROR_STOP=1 -h "$(node_dir "$name")" -p "$port" -U postgres -d "$db" "$@"
}

node_stop() {
	local dir; dir=$(node_dir "$1")
	[ -f "$dir/data/postmaster.pid" ] && as_cluster_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
}

node_start() {
	as_cluster_owner "$PGBIN/pg_ctl" -D "$(node_dir "$1")/data" -l "$(node_dir "$1")/server.log" -w start >/dev/null
}

# node_init name port database: a fresh cluster with pg_cron for that database.
node_init() {
	local name=$1 port=$2 db=$3 dir
	dir=$(node_dir "$name")
	node_stop "$name"
	rm -rf "$dir"
	mkdir -p -m 700 "$dir"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	as_cluster_owner "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
	cat >>"$dir/data/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$dir'
shared_preload_libraries = 'pg_cron'
cron.database_name = '$db'
cron.host = '$dir'
shared_buffers = 64MB
max_connections = 60
CONF
	node_start "$name"
	as_cluster_owner "$PGBIN/createdb" -h "$dir" -p "$port" -U postgres "$db"
}

partition_init() {
	node_init "p$1" "$(partition_port "$1")" "wa_p$1"
	node_psql "p$1" -c 'CREATE EXTENSION whatsapp_auth'
}

# The README's procedure, for partitions 0..n-1.
router_init() {
	local n=$1 i options=
	node_init router "$FLEET_PORT" wa_router
	for ((i = 0; i < n; i++)); do options+="${options:+, }p$i '$(partition_conninfo "$i")'"; done
	node_psql router <<SQL
CREATE EXTENSION whatsapp_auth_router CASCADE;
CREATE SERVER whatsapp_auth FOREIGN DATA WRAPPER plproxy OPTIONS (modular_mapping '1', $options);
CREATE USER MAPPING FOR PUBLIC SERVER whatsapp_auth OPTIONS (user 'postgres');
INSERT INTO whatsapp_auth.partitions (partition) SELECT generate_series(0, $n - 1);
SQL
}

fleet_stop() {
	local d
	for d in "$FLEET_DIR"/*/; do [ -d "$d" ] && node_stop "$(basename "$d")"; done
}
