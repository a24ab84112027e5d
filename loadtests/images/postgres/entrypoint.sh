#!/bin/sh
# Initialise a fresh cluster on the tmpfs, create the databases named in ARCHSIM_DATABASES,
# require the password in ARCHSIM_DB_PASSWORD from the network, then run PostgreSQL as PID 1
# (it handles SIGTERM itself).
set -eu
: "${ARCHSIM_DB_PASSWORD:?set ARCHSIM_DB_PASSWORD}"
databases="${ARCHSIM_DATABASES:-archsim}"
umask 077
printf '%s\n' "$ARCHSIM_DB_PASSWORD" > /tmp/pwfile
initdb -D "$PGDATA" -U archsim --pwfile=/tmp/pwfile --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C >/dev/null
rm -f /tmp/pwfile
echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
for database in $databases; do
    echo "CREATE DATABASE \"$database\" OWNER archsim;" | postgres --single -D "$PGDATA" postgres >/dev/null
done
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp \
    -c shared_buffers=32MB -c jit=off -c max_connections=200 -c fsync=on -c synchronous_commit=off
