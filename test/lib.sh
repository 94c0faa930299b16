# Shared by test/demo and test/check: packages, build, throwaway cluster.
# Sourced, not run.  Everything here is idempotent.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${WHATSAPP_AUTH_SHARED:-$(cd "$REPO/.." && pwd)/shared}
# WA_PGBIN points at another (relocated) PostgreSQL 15 installation, so two
# checkouts can build, install and test side by side.
PGBIN=${WA_PGBIN:-/usr/lib/postgresql/15/bin}
export PG_CONFIG=$PGBIN/pg_config
# The cluster lives in one private directory: data, socket and server log.
WA_DIR=${WA_DIR:-/tmp/whatsapp_auth-cluster}
WA_PORT=${WA_PORT:-54329}
# Libraries the cluster preloads; add whatsapp_auth for its call statistics.
WA_PRELOAD=${WA_PRELOAD:-pg_cron}

if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi

say() { printf '\n== %s\n' "$*"; }
# psql for scripts: no psqlrc, values only, the first error stops it
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# PostgreSQL refuses to run as root: as root, the cluster belongs to postgres.
as_cluster_owner() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Extra packages a caller needs come as arguments.
install_packages() {
	say "installing PostgreSQL 15, server headers, pg_cron, pgTAP $*"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
		make gcc libc6-dev postgresql-15 postgresql-server-dev-15 \
		postgresql-15-cron postgresql-15-pgtap pgtap "$@"
	command -v node >/dev/null && command -v npm >/dev/null || {
		echo "Node.js 20 and npm are needed for the end-to-end tests" >&2; exit 1; }
}

build_extension() {
	say "building and installing whatsapp_auth"
	make -C "$REPO" -s PG_CONFIG="$PG_CONFIG"
	# a script an earlier install left behind would open a path of its own
	$SUDO rm -f "$("$PG_CONFIG" --sharedir)"/extension/whatsapp_auth--*.sql
	$SUDO make -C "$REPO" -s install PG_CONFIG="$PG_CONFIG"
}

stop_cluster() {
	if [ -f "$WA_DIR/data/postmaster.pid" ]; then
		as_cluster_owner "$PGBIN/pg_ctl" -D "$WA_DIR/data" -m fast -w stop >/dev/null || true
	fi
}

start_cluster() {
	say "starting a throwaway cluster in $WA_DIR (port $WA_PORT, $WA_PRELOAD preloaded)"
	stop_cluster
	rm -rf "$WA_DIR"
	mkdir -m 700 "$WA_DIR"
	[ "$(id -u)" = 0 ] && chown postgres: "$WA_DIR"
	as_cluster_owner "$PGBIN/initdb" -D "$WA_DIR/data" -U postgres --auth=trust \
		-E UTF8 --locale=C.UTF-8 >/dev/null
	cat >>"$WA_DIR/data/postgresql.conf" <<CONF
port = $WA_PORT
listen_addresses = ''
unix_socket_directories = '$WA_DIR'
shared_preload_libraries = '$WA_PRELOAD'
cron.database_name = 'postgres'
# pg_cron reaches the server through the private socket directory
cron.host = '$WA_DIR'
CONF
	as_cluster_owner "$PGBIN/pg_ctl" -D "$WA_DIR/data" -l "$WA_DIR/server.log" -w start >/dev/null
	export PGHOST=$WA_DIR PGPORT=$WA_PORT PGUSER=postgres PGDATABASE=postgres
}
