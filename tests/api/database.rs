//! The database layer as operators meet it: migrations on both backends, and outages.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};
use portal::db::{Db, DbConnection, migrations};
use portal::domain::role::Role;
use secrecy::ExposeSecret;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{TestDatabase, problem, spawn_app_with};

fn names_in(folder: &str) -> BTreeSet<String> {
    std::fs::read_dir(format!("{}/migrations/{folder}", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn both_backends_have_the_same_migrations_each_with_up_and_down() {
    let sqlite = names_in("sqlite");
    assert_eq!(sqlite, names_in("postgres"));
    assert!(!sqlite.is_empty());
    for backend in ["sqlite", "postgres"] {
        for name in &sqlite {
            for file in ["up.sql", "down.sql"] {
                let path = format!("{}/migrations/{backend}/{name}/{file}", env!("CARGO_MANIFEST_DIR"));
                assert!(std::path::Path::new(&path).is_file(), "{path} is missing");
            }
        }
    }
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// Tables, columns, indexes and constraints, in a stable order.
fn schema_of(conn: &mut DbConnection) -> Vec<String> {
    let query = match conn {
        DbConnection::Sqlite(_) => {
            "SELECT type || ' ' || name || ' ' || coalesce(sql, '') AS line FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations' ORDER BY name"
        }
        DbConnection::Postgres(_) => {
            "SELECT line FROM ( \
               SELECT table_name::text || '.' || column_name::text || ' ' || data_type::text || ' ' || is_nullable::text \
                      || ' ' || coalesce(column_default::text, '') AS line \
               FROM information_schema.columns \
               WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' \
               UNION ALL SELECT indexdef FROM pg_indexes \
               WHERE schemaname = 'public' AND tablename <> '__diesel_schema_migrations' \
               UNION ALL SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) \
               FROM pg_constraint WHERE connamespace = 'public'::regnamespace \
                 AND conrelid::regclass::text <> '__diesel_schema_migrations' \
             ) AS schema ORDER BY line"
        }
    };
    diesel::sql_query(query).load::<Line>(conn).unwrap().into_iter().map(|l| l.line).collect()
}

#[test]
fn migrations_go_up_down_and_up_again_to_the_same_schema() {
    let (_database, url) = TestDatabase::create();
    let mut settings = portal::config::Settings::for_tests().unwrap();
    settings.database.url = url.into();
    let db = Db::new(&settings.database).unwrap();
    let mut conn = db.connection().unwrap();

    let applied = migrations::run_pending(&mut conn).unwrap();
    assert_eq!(applied.len(), names_in("sqlite").len());
    let first = schema_of(&mut conn);
    assert!(first.iter().any(|line| line.contains("users")), "{first:#?}");

    migrations::revert_all(&mut conn).unwrap();
    assert_eq!(schema_of(&mut conn), Vec::<String>::new(), "down leaves nothing behind");

    migrations::run_pending(&mut conn).unwrap();
    assert_eq!(schema_of(&mut conn), first);
}

/// A TCP proxy in front of PostgreSQL that can be cut, as a network or server failure would.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (accepting, tracked) = (up.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    continue; // dropping the socket refuses the connection
                }
                let target = target.clone();
                let relay = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tracked.lock().unwrap().push(relay);
            }
        });
        Proxy { port, up, connections }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for relay in self.connections.lock().unwrap().drain(..) {
            relay.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// One request of the load: when it was sent, what it got, how long it took.
struct Answer {
    sent: Instant,
    status: u16,
    took: Duration,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_database_is_gone_requests_get_503_and_the_service_recovers_by_itself() {
    let Ok(admin_url) = std::env::var("TEST_POSTGRES_URL") else {
        return sqlite_writes_wait_out_a_foreign_lock_then_get_503().await;
    };
    let parsed = url::Url::parse(&admin_url).unwrap();
    let proxy = Proxy::start(format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap_or(5432))).await;
    let proxy_port = proxy.port;
    let app = spawn_app_with(move |s| {
        let mut url = url::Url::parse(s.database.url.expose_secret()).unwrap();
        url.set_port(Some(proxy_port)).unwrap();
        s.database.url = url.to_string().into();
    })
    .await;
    let token = app.token_for(Role::Reviewer).await;

    // Eight clients read without pause, signed in, through the cut and the return.
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<JoinHandle<Vec<Answer>>> = (0..8)
        .map(|_| {
            let (client, url, token, stop) = (app.client.clone(), app.url("/api/v1/me"), token.clone(), stop.clone());
            tokio::spawn(async move {
                let mut answers = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let sent = Instant::now();
                    let status = client.get(&url).bearer_auth(&token).send().await.unwrap().status().as_u16();
                    answers.push(Answer { sent, status, took: sent.elapsed() });
                }
                answers
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cut_at = Instant::now();
    proxy.cut();
    tokio::time::sleep(Duration::from_secs(3)).await;
    problem(app.login("someone@park.example", "whatever it is").await, 503, "unavailable").await;
    let restored_at = Instant::now();
    proxy.restore();
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::SeqCst);
    let mut answers = Vec::new();
    for client in clients {
        let client = tokio::time::timeout(Duration::from_secs(5), client).await;
        answers.push(client.expect("a client hung after the database came back").unwrap());
    }

    for answer in answers.iter().flatten() {
        assert!(matches!(answer.status, 200 | 503), "a request got {}", answer.status);
        assert!(answer.took < Duration::from_millis(2500), "a request took {:?}", answer.took);
    }
    let during_the_cut = |a: &&Answer| a.sent > cut_at + Duration::from_millis(100) && a.sent + a.took < restored_at;
    let refused: Vec<u16> = answers.iter().flatten().filter(during_the_cut).map(|a| a.status).collect();
    assert!(!refused.is_empty() && refused.iter().all(|s| *s == 503), "while cut: {refused:?}");
    for (n, client) in answers.iter().enumerate() {
        let last_second: Vec<u16> =
            client.iter().filter(|a| a.sent > restored_at + Duration::from_secs(4)).map(|a| a.status).collect();
        assert!(
            !last_second.is_empty() && last_second.iter().all(|s| *s == 200),
            "client {n}, four seconds after the database came back: {last_second:?}"
        );
    }
    problem(app.login("someone@park.example", "whatever it is").await, 401, "invalid_credentials").await;
}

/// SQLite cannot go away, but another process can hold its write lock (a backup, a stuck job): a write
/// then waits `busy_timeout` and is refused with 503 rather than hanging, reads go on, and the first
/// write after the lock is released succeeds.
async fn sqlite_writes_wait_out_a_foreign_lock_then_get_503() {
    let app = spawn_app_with(|s| s.database.sqlite_busy_timeout_ms = 300).await;
    let TestDatabase::Sqlite(dir) = &app.database else { unreachable!("no TEST_POSTGRES_URL, so SQLite") };
    app.create_user(portal::domain::role::Role::Admin, "admin@park.example").await;

    let mut holder = SqliteConnection::establish(&dir.path().join("portal.db").to_string_lossy()).unwrap();
    holder.batch_execute("BEGIN IMMEDIATE; DELETE FROM sessions WHERE 0;").unwrap();

    let started = Instant::now();
    problem(app.login("admin@park.example", crate::helpers::PASSWORD).await, 503, "unavailable").await;
    assert!(started.elapsed() < Duration::from_secs(3), "answered after {:?}", started.elapsed());
    let ready = app.client.get(app.url("/health/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "readers are not blocked by a writer");

    holder.batch_execute("COMMIT;").unwrap();
    assert_eq!(app.login("admin@park.example", crate::helpers::PASSWORD).await.status(), 200);
}

/// `table.column` → the diesel type `src/db/schema.rs` declares, e.g. `Nullable<Text>`.
type Columns = std::collections::BTreeMap<String, String>;

/// The columns the `diesel::table!` blocks of `schema` declare.
fn declared_columns(schema: &str) -> Columns {
    let mut columns = Columns::new();
    let mut table: Option<String> = None;
    for line in schema.lines().map(str::trim) {
        if let Some(name) = line.strip_suffix('{').and_then(|head| head.split_once(" (")).map(|(name, _)| name.trim()) {
            table = Some(name.to_owned());
        } else if line == "}" {
            table = None;
        } else if let (Some(table), Some((column, sql_type))) = (&table, line.split_once(" -> ")) {
            columns.insert(format!("{table}.{column}"), sql_type.trim_end_matches(',').to_owned());
        }
    }
    columns
}

#[derive(QueryableByName)]
struct StoredColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    nullable: String,
}

/// The columns the migrations created, as diesel types. On SQLite an `INTEGER PRIMARY KEY AUTOINCREMENT`
/// is the 64-bit row id, read as `BigInt`, and a primary key column is never null. The search indexes
/// (FTS5 virtual tables and their shadow tables) are not tables of the schema.
fn migrated_columns(conn: &mut DbConnection) -> Columns {
    let query = match conn {
        DbConnection::Sqlite(_) => {
            "SELECT m.name AS table_name, p.name AS column_name, \
                    CASE WHEN upper(m.sql) LIKE '%' || upper(p.name) || ' INTEGER PRIMARY KEY AUTOINCREMENT%' \
                         THEN 'BIGINT' ELSE upper(p.type) END AS data_type, \
                    CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN 'NO' ELSE 'YES' END AS nullable \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations' \
               AND m.name IN (SELECT name FROM pragma_table_list WHERE type = 'table')"
        }
        DbConnection::Postgres(_) => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name, upper(data_type::text) AS data_type, \
                    is_nullable::text AS nullable \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'"
        }
    };
    diesel::sql_query(query)
        .load::<StoredColumn>(conn)
        .unwrap()
        .into_iter()
        .map(|c| {
            let diesel_type = match c.data_type.as_str() {
                "BIGINT" => "BigInt",
                "INTEGER" => "Integer",
                "TEXT" => "Text",
                "BOOLEAN" => "Bool",
                "TIMESTAMP" | "TIMESTAMP WITHOUT TIME ZONE" => "Timestamp",
                "DATE" => "Date",
                other => panic!("{}.{} has the type {other}, which schema.rs cannot name", c.table_name, c.column_name),
            };
            let diesel_type =
                if c.nullable == "YES" { format!("Nullable<{diesel_type}>") } else { diesel_type.to_owned() };
            (format!("{}.{}", c.table_name, c.column_name), diesel_type)
        })
        .collect()
}

/// Every column whose declaration and migrated form differ, one line each.
fn differences(declared: &Columns, migrated: &Columns) -> Vec<String> {
    let names: BTreeSet<&String> = declared.keys().chain(migrated.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| match (declared.get(name), migrated.get(name)) {
            (Some(a), Some(b)) if a == b => None,
            (a, b) => Some(format!("{name}: schema.rs says {a:?}, the migrations make {b:?}")),
        })
        .collect()
}

#[test]
fn schema_rs_declares_exactly_the_tables_and_columns_the_migrations_create() {
    let (_database, url) = TestDatabase::create();
    let mut settings = portal::config::Settings::for_tests().unwrap();
    settings.database.url = url.into();
    let db = Db::new(&settings.database).unwrap();
    let mut conn = db.connection().unwrap();
    migrations::run_pending(&mut conn).unwrap();

    let schema = std::fs::read_to_string(format!("{}/src/db/schema.rs", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let declared = declared_columns(&schema);
    let migrated = migrated_columns(&mut conn);
    assert!(declared.len() > 50 && declared.contains_key("disbursements.voucher_no"), "{declared:#?}");
    assert_eq!(differences(&declared, &migrated), Vec::<String>::new());

    // The comparison sees a column that differs in type, in nullability, or that exists on one side only.
    for (from, to) in [
        ("tech_sme -> Bool,", "tech_sme -> Nullable<Bool>,"),
        ("voucher_no -> Nullable<Text>,", "voucher_no -> Nullable<BigInt>,"),
        ("        note -> Nullable<Text>,\n", ""),
    ] {
        assert!(schema.contains(from), "{from}");
        let doctored = declared_columns(&schema.replacen(from, to, 1));
        assert_eq!(differences(&doctored, &migrated).len(), 1, "{from} → {to}");
    }
}
