//! A small service that carries its schema history in its binary.
//!
//! - `service` migrates the database in `DATABASE_URL` (default
//!   `sqlite://service.db`) to its heads at startup — under the migration
//!   lock, so several replicas can start at once — then does its work.
//! - `service migrate ...` is the whole `migrator` command line over the
//!   same embedded history: `service migrate current`, `service migrate
//!   downgrade -1`, `service migrate history`, ...

use std::process::ExitCode;

use migrator_core::{Migrations, Migrator};

static MIGRATIONS: Migrations = migrator_macros::embed_migrations!("migrations");

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args();
    let program = args.next().unwrap_or_else(|| "service".to_owned());
    let rest: Vec<String> = args.collect();
    if rest.first().map(String::as_str) == Some("migrate") {
        // The whole command line, inside this runtime; advice it prints
        // names `service migrate ...`.
        let cli = std::iter::once(format!("{program} migrate")).chain(rest.into_iter().skip(1));
        return migrator_cli::run(cli, Some(&MIGRATIONS)).await;
    }
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Migrates, then does the service's work (here: reports what it finds).
/// The migration runs on the connection the service opened itself, as a
/// service with its own pool or connection settings does; migrator takes
/// the lock on it and gives it back.
async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    use sqlx::Connection as _;

    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://service.db".to_owned());
    let (report, notes) = if url.starts_with("postgres") {
        let conn = sqlx::PgConnection::connect(&url).await?;
        let mut db = Migrator::new(&MIGRATIONS).connect_with(conn).await?;
        let report = db.upgrade("heads").await?;
        let mut conn = db
            .into_connection()
            .into_postgres()
            .ok_or("not the PostgreSQL connection")?;
        let notes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notes")
            .fetch_one(&mut conn)
            .await?;
        (report, notes)
    } else {
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
        let conn = sqlx::SqliteConnection::connect_with(&options.create_if_missing(true)).await?;
        let mut db = Migrator::new(&MIGRATIONS).connect_with(conn).await?;
        let report = db.upgrade("heads").await?;
        let mut conn = db.into_connection().into_sqlite().ok_or("not the SQLite connection")?;
        let notes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notes")
            .fetch_one(&mut conn)
            .await?;
        (report, notes)
    };
    println!(
        "migrated: {} revision(s) applied, the database is at {}",
        report.applied.len(),
        report.current.join(", ")
    );
    println!("serving {notes} note(s)");
    Ok(())
}
