# Sourced by test.sh: makes sure Debian's PostgreSQL server runs on 127.0.0.1 and that
# the test role exists, then exports DUTYDESK_TEST_PG for the suite. Each test creates
# and drops its own database.
PG_VERSION="$(ls /usr/lib/postgresql | sort -V | tail -1)"
if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
  pg_createcluster "$PG_VERSION" main >/dev/null
fi
PG_CLUSTER="$(pg_lsclusters -h | head -1 | awk '{print $1" "$2}')"
PG_PORT="$(pg_lsclusters -h | head -1 | awk '{print $3}')"
if ! pg_lsclusters -h | head -1 | grep -q online; then
  # shellcheck disable=SC2086
  pg_ctlcluster $PG_CLUSTER start
fi
runuser -u postgres -- psql -q -p "$PG_PORT" -tc \
  "SELECT 1 FROM pg_roles WHERE rolname='dutydesk_test'" | grep -q 1 ||
  runuser -u postgres -- psql -q -p "$PG_PORT" -c \
  "CREATE ROLE dutydesk_test LOGIN SUPERUSER PASSWORD 'dutydesk_test'"
export DUTYDESK_TEST_PG="postgresql+asyncpg://dutydesk_test:dutydesk_test@127.0.0.1:${PG_PORT}/postgres"
