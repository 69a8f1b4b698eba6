#!/bin/sh
# Run once by the PostgreSQL image when its data volume is new: creates the login role the service runs
# as. The role owns nothing and may not change the schema; `portal migrate --grant-to portal_app`, run as
# the schema's owner, grants it reading and writing rows, and no more.
set -eu
psql -v ON_ERROR_STOP=1 -v password="$PORTAL_APP_DB_PASSWORD" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE portal_app LOGIN PASSWORD :'password';
SQL
