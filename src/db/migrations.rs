//! Migrations are embedded from `migrations/sqlite` and `migrations/postgres`: the same names, in the
//! same order, one SQL dialect each.
//!
//! The service may run as a database role without DDL rights: when nothing is pending, starting up only
//! reads which migrations were applied, and `portal migrate --grant-to ROLE`, run as the schema's owner,
//! gives such a role what the service needs and no more.

use diesel::backend::Backend;
use diesel::migration::{MigrationSource, MigrationVersion};
use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::DbConnection;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Text)]
    value: String,
}

/// Any fixed number, shared by every app instance: only one of them migrates at a time.
const MIGRATION_LOCK: i64 = 7_305_114_820;

/// Applies every pending migration and names the ones applied. With nothing pending it changes nothing,
/// so a role without DDL rights can start the service on a schema its owner has migrated.
pub fn run_pending(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let pending = pending(conn)?;
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let applied = match conn {
        DbConnection::Sqlite(c) => names(c.run_pending_migrations(SQLITE)),
        DbConnection::Postgres(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(c)?;
            let result = names(c.run_pending_migrations(POSTGRES));
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(c)?;
            result
        }
    };
    applied.map_err(|e| {
        anyhow::anyhow!(
            "applying the pending migrations ({}) failed: {e}. A service whose database role may not change the \
             schema needs `portal migrate` run first by the schema's owner",
            pending.join(", ")
        )
    })
}

/// The embedded migrations this database has not applied yet, oldest first, found without writing.
pub fn pending(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    // A database never migrated has no bookkeeping table yet: then every migration is pending.
    let applied: Vec<String> = diesel::sql_query("SELECT version AS value FROM __diesel_schema_migrations")
        .load::<TextRow>(conn)
        .map(|rows| rows.into_iter().map(|r| r.value).collect())
        .unwrap_or_default();
    let embedded = match conn {
        DbConnection::Sqlite(_) => versions::<diesel::sqlite::Sqlite>(&SQLITE),
        DbConnection::Postgres(_) => versions::<diesel::pg::Pg>(&POSTGRES),
    }?;
    Ok(embedded.into_iter().filter(|v| !applied.contains(v)).collect())
}

fn versions<DB: Backend>(source: &dyn MigrationSource<DB>) -> anyhow::Result<Vec<String>> {
    let migrations = source.migrations().map_err(|e| anyhow::anyhow!("the embedded migrations: {e}"))?;
    Ok(migrations.iter().map(|m| m.name().version().to_string()).collect())
}

/// Gives `role` what the service needs on PostgreSQL and no more: reading and writing rows of every
/// table and sequence in the schema, but no DDL (so it cannot drop the audit trail's append-only
/// triggers), no update or delete of audit events, and only reading the migrations' bookkeeping.
/// Run after migrating, by the schema's owner; running it again changes nothing.
pub fn grant_to(conn: &mut DbConnection, role: &str) -> anyhow::Result<()> {
    let DbConnection::Postgres(c) = conn else {
        anyhow::bail!("--grant-to is for PostgreSQL; SQLite has no roles");
    };
    let valid = role.len() <= 63
        && role.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && role.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        anyhow::bail!("`{role}` is not a role name: lower-case letters, digits and `_`, at most 63");
    }
    let schema = diesel::sql_query("SELECT current_schema() AS value").get_result::<TextRow>(c)?.value;
    let schema = schema.replace('"', "\"\"");
    let statements = [
        format!("GRANT USAGE ON SCHEMA \"{schema}\" TO \"{role}\""),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA \"{schema}\" TO \"{role}\""),
        format!("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA \"{schema}\" TO \"{role}\""),
        format!("REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM \"{role}\""),
        format!("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON __diesel_schema_migrations FROM \"{role}\""),
    ];
    c.build_transaction().run(|c| {
        for statement in &statements {
            diesel::sql_query(statement).execute(c)?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(())
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
