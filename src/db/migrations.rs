//! Migrations are embedded from `migrations/sqlite` and `migrations/postgres`: the same names, in the
//! same order, one SQL dialect each.

use diesel::RunQueryDsl;
use diesel::migration::MigrationVersion;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::DbConnection;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Any fixed number, shared by every app instance: only one of them migrates at a time.
const MIGRATION_LOCK: i64 = 7_305_114_820;

/// Applies every pending migration and names the ones applied.
pub fn run_pending(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConnection::Sqlite(c) => names(c.run_pending_migrations(SQLITE)),
        DbConnection::Postgres(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(c)?;
            let result = names(c.run_pending_migrations(POSTGRES));
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(c)?;
            result
        }
    };
    applied.map_err(|e| anyhow::anyhow!("migration failed: {e}"))
}

/// Reverts every applied migration, newest first.
pub fn revert_all(conn: &mut DbConnection) -> anyhow::Result<()> {
    let result = match conn {
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE).map(drop),
        DbConnection::Postgres(c) => c.revert_all_migrations(POSTGRES).map(drop),
    };
    result.map_err(|e| anyhow::anyhow!("reverting migrations failed: {e}"))
}

fn names(result: diesel::migration::Result<Vec<MigrationVersion<'_>>>) -> diesel::migration::Result<Vec<String>> {
    result.map(|versions| versions.iter().map(ToString::to_string).collect())
}
