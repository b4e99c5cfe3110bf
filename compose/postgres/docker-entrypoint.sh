#!/usr/bin/env bash
# Entrypoint of the offline PostgreSQL image: the official image's behaviour, trimmed.
# On first start (no PGDATA/PG_VERSION) it runs initdb with POSTGRES_USER/POSTGRES_PASSWORD,
# allows password (scram-sha-256) logins from any host, creates POSTGRES_DB, runs
# /docker-entrypoint-initdb.d/*, and then execs the server with the given arguments.
# It runs as the postgres user throughout (there is no gosu step down from root).
set -Eeo pipefail

log() { printf '%s [entrypoint] %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$*"; }
fail() { printf '%s [entrypoint] error: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$*" >&2; exit 1; }

# `docker run image -c key=value` means `postgres -c key=value`, as with the official image.
if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi

# Like the official image: FOO_FILE=/run/secrets/foo may stand in for FOO.
file_env() {
	local var="$1" file_var="${1}_FILE" default="${2:-}"
	if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
		fail "both $var and $file_var are set (but they are exclusive)"
	fi
	local value="$default"
	if [ -n "${!var:-}" ]; then
		value="${!var}"
	elif [ -n "${!file_var:-}" ]; then
		value="$(< "${!file_var}")"
	fi
	export "$var"="$value"
	unset "$file_var"
}

setup_env() {
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER postgres
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=}"
	export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
}

check_password() {
	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != 'trust' ]; then
		fail "the database is uninitialized and POSTGRES_PASSWORD is empty.
       Set POSTGRES_PASSWORD (e.g. -e POSTGRES_PASSWORD=secret), or POSTGRES_HOST_AUTH_METHOD=trust
       to allow every connection without a password (not recommended)."
	fi
}

init_database_dir() {
	mkdir -p "$PGDATA"
	chmod 00700 "$PGDATA" || :
	if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
		mkdir -p "$POSTGRES_INITDB_WALDIR"
		set -- --waldir "$POSTGRES_INITDB_WALDIR" "$@"
	fi
	# The password goes through a pipe, never onto a command line.
	# shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is split on purpose, as upstream does.
	initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
		$POSTGRES_INITDB_ARGS "$@"
}

setup_hba() {
	# Without an explicit method, use whatever password_encryption says (scram-sha-256 on 14+).
	local auth
	auth="$(postgres -C password_encryption "$@")"
	: "${POSTGRES_HOST_AUTH_METHOD:=$auth}"
	{
		printf '\n'
		if [ "$POSTGRES_HOST_AUTH_METHOD" = 'trust' ]; then
			printf '# warning trust is enabled for all connections\n'
		fi
		printf 'host all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD"
	} >> "$PGDATA/pg_hba.conf"
}

# During initialisation the server listens on the unix socket only, so a client polling
# TCP port 5432 (e.g. testcontainers) cannot mistake the temporary server for the real one.
temp_server_start() {
	set -- "$@" -c listen_addresses='' -p "${PGPORT:-5432}"
	PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -o "$(printf '%q ' "$@")" -w start
}

temp_server_stop() {
	PGUSER="${PGUSER:-postgres}" pg_ctl -D "$PGDATA" -m fast -w stop
}

psql_init() {
	psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
}

create_db() {
	if [ "$POSTGRES_DB" = 'postgres' ]; then
		return
	fi
	local exists
	exists="$(POSTGRES_DB=postgres psql_init --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<-'EOSQL'
		SELECT 1 FROM pg_database WHERE datname = :'db' ;
	EOSQL
	)"
	if [ -z "$exists" ]; then
		psql_init --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
			CREATE DATABASE :"db" ;
		EOSQL
		printf '\n'
	fi
}

run_init_files() {
	local f
	for f in /docker-entrypoint-initdb.d/*; do
		case "$f" in
			*.sh)
				if [ -x "$f" ]; then
					log "running $f"
					"$f"
				else
					log "sourcing $f"
					# shellcheck disable=SC1090
					. "$f"
				fi
				;;
			*.sql) log "running $f"; psql_init --dbname "$POSTGRES_DB" -f "$f"; printf '\n' ;;
			*.sql.gz) log "running $f"; gunzip -c "$f" | psql_init --dbname "$POSTGRES_DB"; printf '\n' ;;
			*.sql.xz) log "running $f"; xzcat "$f" | psql_init --dbname "$POSTGRES_DB"; printf '\n' ;;
			*) log "ignoring $f" ;;
		esac
	done
}

want_help() {
	local arg
	for arg; do
		case "$arg" in
			-'?'|--help|--describe-config|-V|--version) return 0 ;;
		esac
	done
	return 1
}

main() {
	if [ "$1" = 'postgres' ] && ! want_help "$@"; then
		if [ "$(id -u)" = '0' ]; then
			fail "this image runs PostgreSQL as the postgres user; do not start it with --user root"
		fi
		setup_env
		if [ ! -s "$PGDATA/PG_VERSION" ]; then
			check_password
			init_database_dir
			# "$@" minus the leading "postgres": the -c options also apply to the setup server.
			setup_hba "${@:2}"
			export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
			temp_server_start "${@:2}"
			create_db
			run_init_files
			temp_server_stop
			unset PGPASSWORD
			log 'PostgreSQL init process complete; ready for start up.'
		else
			log 'PostgreSQL database directory appears to contain a database; skipping initialization'
		fi
	fi
	exec "$@"
}

main "$@"
