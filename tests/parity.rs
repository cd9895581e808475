//! Long, realistic histories applied by migrator and, file by file, by the
//! database's own client (`sqlite3`, `psql`, `mariadb`), up and back down:
//! the resulting schemas, as the database's own dump tool prints them, must
//! be the same.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::process::{Command, Stdio};

use migrator_core::{Dialect, Migrator};
use tests::{History, Server, server_db};

/// How many revisions each generated history has.
const REVISIONS: usize = 150;

/// One revision: the up and down statements, each complete on its own.
struct Rev {
    up: Vec<String>,
    down: Vec<String>,
}

/// A history that exercises what real projects accumulate on `dialect`.
fn history(dialect: Dialect) -> Vec<Rev> {
    (0..REVISIONS).map(|i| revision(dialect, i)).collect()
}

fn rev(up: &[String], down: &[String]) -> Rev {
    Rev {
        up: up.to_vec(),
        down: down.to_vec(),
    }
}

fn revision(dialect: Dialect, i: usize) -> Rev {
    // Each group of revisions builds on a table created by its first one.
    let g = i / 8;
    let t = format!("items_{g}");
    match (dialect, i % 8) {
        (_, 0) => {
            let id = match dialect {
                Dialect::Sqlite => "id INTEGER PRIMARY KEY AUTOINCREMENT",
                Dialect::Postgres => "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
                Dialect::Mysql => "id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
            };
            rev(
                &[format!(
                    "CREATE TABLE {t} ({id}, name VARCHAR(100) NOT NULL, status VARCHAR(20), price INTEGER NOT NULL DEFAULT 0)"
                )],
                &[format!("DROP TABLE {t}")],
            )
        }
        (_, 1) => rev(
            &[
                format!(
                    "INSERT INTO {t} (name, status, price) VALUES ('Alpha; first', 'new', 10), ('beta', NULL, 20), ('O''Brien', 'old', 30)"
                ),
                format!("UPDATE {t} SET status = 'unknown' WHERE status IS NULL"),
            ],
            &[format!("DELETE FROM {t}")],
        ),
        (Dialect::Postgres, 2) => rev(
            &[
                format!("CREATE TYPE mood_{g} AS ENUM ('happy', 'sad', 'meh')"),
                format!("ALTER TABLE {t} ADD COLUMN mood mood_{g} NOT NULL DEFAULT 'meh'"),
            ],
            &[
                format!("ALTER TABLE {t} DROP COLUMN mood"),
                format!("DROP TYPE mood_{g}"),
            ],
        ),
        (Dialect::Mysql, 2) => rev(
            &[format!(
                "ALTER TABLE {t} ADD COLUMN mood ENUM('happy', 'sad', 'meh') NOT NULL DEFAULT 'meh'"
            )],
            &[format!("ALTER TABLE {t} DROP COLUMN mood")],
        ),
        (Dialect::Sqlite, 2) => rev(
            // The table rebuild SQLite needs to add a CHECK constraint.
            &[
                format!(
                    "CREATE TABLE {t}_new (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(100) NOT NULL, status VARCHAR(20), \
                     price INTEGER NOT NULL DEFAULT 0 CHECK (price >= 0))"
                ),
                format!("INSERT INTO {t}_new (id, name, status, price) SELECT id, name, status, price FROM {t}"),
                format!("DROP TABLE {t}"),
                format!("ALTER TABLE {t}_new RENAME TO {t}"),
            ],
            &[
                format!(
                    "CREATE TABLE {t}_old (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(100) NOT NULL, status VARCHAR(20), \
                     price INTEGER NOT NULL DEFAULT 0)"
                ),
                format!("INSERT INTO {t}_old (id, name, status, price) SELECT id, name, status, price FROM {t}"),
                format!("DROP TABLE {t}"),
                format!("ALTER TABLE {t}_old RENAME TO {t}"),
            ],
        ),
        (Dialect::Postgres, 3) => rev(
            &[
                format!(
                    "CREATE FUNCTION lower_name_{g}() RETURNS trigger AS $body$\nBEGIN\n  NEW.name := lower(NEW.name); -- keep; this\n  RETURN NEW;\nEND;\n$body$ LANGUAGE plpgsql"
                ),
                format!(
                    "CREATE TRIGGER trg_lower_{g} BEFORE INSERT OR UPDATE ON {t} FOR EACH ROW EXECUTE FUNCTION lower_name_{g}()"
                ),
            ],
            &[
                format!("DROP TRIGGER trg_lower_{g} ON {t}"),
                format!("DROP FUNCTION lower_name_{g}()"),
            ],
        ),
        (Dialect::Mysql, 3) => rev(
            &[format!(
                "CREATE TRIGGER trg_lower_{g} BEFORE INSERT ON {t} FOR EACH ROW\nBEGIN\n  IF NEW.status IS NULL THEN\n    SET NEW.status = 'new';\n  END IF;\n  SET NEW.name = LOWER(NEW.name);\nEND"
            )],
            &[format!("DROP TRIGGER trg_lower_{g}")],
        ),
        (Dialect::Sqlite, 3) => rev(
            &[format!(
                "CREATE TRIGGER trg_lower_{g} AFTER INSERT ON {t} FOR EACH ROW\nBEGIN\n  UPDATE {t} SET name = lower(name) WHERE id = NEW.id;\n  UPDATE {t} SET status = CASE WHEN NEW.status IS NULL THEN 'new' ELSE NEW.status END WHERE id = NEW.id;\nEND"
            )],
            &[format!("DROP TRIGGER trg_lower_{g}")],
        ),
        (_, 4) => rev(
            &[format!(
                "CREATE VIEW {t}_priced AS SELECT id, name, price * 2 AS double_price FROM {t} WHERE price > 0"
            )],
            &[format!("DROP VIEW {t}_priced")],
        ),
        (Dialect::Mysql, 5) => rev(
            &[
                format!("CREATE INDEX ix_{t}_status ON {t} (status, price)"),
                format!("CREATE INDEX ix_{t}_name ON {t} (name(10))"),
            ],
            &[
                format!("DROP INDEX ix_{t}_name ON {t}"),
                format!("DROP INDEX ix_{t}_status ON {t}"),
            ],
        ),
        (_, 5) => rev(
            &[
                format!("CREATE INDEX ix_{t}_status ON {t} (status) WHERE status IS NOT NULL"),
                format!("CREATE INDEX ix_{t}_lower ON {t} (lower(name))"),
            ],
            &[format!("DROP INDEX ix_{t}_lower"), format!("DROP INDEX ix_{t}_status")],
        ),
        (Dialect::Postgres, 6) => rev(
            &[
                format!(
                    "DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'audit_{g}') THEN\n    EXECUTE 'CREATE TABLE audit_{g} (id BIGINT, note TEXT)';\n  END IF;\nEND\n$$"
                ),
                format!("COMMENT ON TABLE audit_{g} IS E'notes; with a \\'quote\\''"),
            ],
            &[format!("DROP TABLE audit_{g}")],
        ),
        (Dialect::Mysql, 6) => rev(
            &[
                format!(
                    "CREATE PROCEDURE touch_{g}(IN n INT)\nBEGIN\n  DECLARE i INT DEFAULT 0;\n  WHILE i < n DO\n    UPDATE {t} SET price = price + 1 WHERE id = i;\n    SET i = i + 1;\n  END WHILE;\n  SELECT CASE WHEN n > 1 THEN 'many' ELSE 'one' END;\nEND"
                ),
                format!("CREATE TABLE audit_{g} (id BIGINT, note VARCHAR(100) DEFAULT 'it\\'s; fine')"),
            ],
            &[format!("DROP TABLE audit_{g}"), format!("DROP PROCEDURE touch_{g}")],
        ),
        (Dialect::Sqlite, 6) => rev(
            &[format!(
                "CREATE TABLE audit_{g} (id INTEGER, note TEXT DEFAULT 'it''s; fine')"
            )],
            &[format!("DROP TABLE audit_{g}")],
        ),
        _ => rev(
            &[
                format!("ALTER TABLE {t} ADD COLUMN extra_{i} VARCHAR(10)"),
                format!("UPDATE {t} SET extra_{i} = 'x'"),
            ],
            &[format!("ALTER TABLE {t} DROP COLUMN extra_{i}")],
        ),
    }
}

/// The history as migrator revision files.
fn write_files(revs: &[Rev]) -> History {
    let mut h = History::new();
    for (i, r) in revs.iter().enumerate() {
        let id = format!("p{i:04}");
        let parent = format!("p{:04}", i.wrapping_sub(1));
        let revises: Vec<&str> = if i == 0 { vec![] } else { vec![parent.as_str()] };
        // Every fifth revision with several statements runs its last ones
        // in a `transaction:false` section after its transactional one.
        let up = match r.up.len() {
            n if n >= 2 && i % 5 == 3 => format!(
                "{};\n\n-- migrate:up transaction:false\n{};",
                r.up[..n / 2].join(";\n"),
                r.up[n / 2..].join(";\n")
            ),
            _ => r.up.join(";\n") + ";",
        };
        h.revision(&id, &revises, &up, &(r.down.join(";\n") + ";"));
    }
    h
}

/// Feeds statements to the dialect's own client, the way a person would
/// run a file with it (with a custom delimiter for MySQL's routines).
fn client(dialect: Dialect, url: &str, statements: &[String]) {
    let input = match dialect {
        Dialect::Mysql => format!(
            "DELIMITER //\n{}",
            statements.iter().map(|s| format!("{s}//\n")).collect::<String>()
        ),
        _ => statements.iter().map(|s| format!("{s};\n")).collect::<String>(),
    };
    feed(dialect, url, &input);
}

/// Runs a script with the dialect's own client.
fn feed(dialect: Dialect, url: &str, input: &str) {
    let mut cmd = match dialect {
        Dialect::Sqlite => {
            let mut c = Command::new("sqlite3");
            c.args(["-bail", url.trim_start_matches("sqlite://")]);
            c
        }
        Dialect::Postgres => {
            let mut c = Command::new("psql");
            c.args(["-q", "-v", "ON_ERROR_STOP=1", "-d", url]);
            c
        }
        Dialect::Mysql => {
            let (rest, db) = url.trim_start_matches("mysql://").rsplit_once('/').unwrap();
            let (user, host) = rest.split_once('@').unwrap();
            let (host, port) = host.split_once(':').unwrap_or((host, "3306"));
            let mut c = Command::new("mariadb");
            c.args([
                "-h",
                host,
                "-P",
                port,
                "-u",
                user,
                "--default-character-set=utf8mb4",
                db,
            ]);
            c
        }
    };
    use std::io::Write as _;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{dialect} client failed: {}\n{input}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The version rows of the database at `url`, sorted.
async fn version_rows(url: &str) -> Vec<String> {
    tests::strings(url, "SELECT version_num FROM migrator_version ORDER BY version_num").await
}

/// The schema as the database's own dump tool prints it, without
/// migrator's tables and without what differs between two databases.
fn dump(dialect: Dialect, url: &str) -> String {
    dump_with(dialect, url, false)
}

/// [`dump`], with the rows when `data` is set.
fn dump_with(dialect: Dialect, url: &str, data: bool) -> String {
    let output = match dialect {
        Dialect::Sqlite => Command::new("sqlite3")
            .args([
                url.trim_start_matches("sqlite://"),
                if data { ".dump" } else { ".schema" },
            ])
            .output(),
        Dialect::Postgres => Command::new("pg_dump")
            .args([
                if data { "--inserts" } else { "--schema-only" },
                "--no-owner",
                "--no-privileges",
                "-T",
                "migrator_*",
                "-d",
                url,
            ])
            .output(),
        Dialect::Mysql => {
            let (rest, db) = url.trim_start_matches("mysql://").rsplit_once('/').unwrap();
            let (user, host) = rest.split_once('@').unwrap();
            let (host, port) = host.split_once(':').unwrap_or((host, "3306"));
            Command::new("mariadb-dump")
                .args([
                    "-h",
                    host,
                    "-P",
                    port,
                    "-u",
                    user,
                    if data { "--skip-extended-insert" } else { "--no-data" },
                    "--skip-comments",
                    "--routines",
                    "--triggers",
                ])
                .arg(format!("--ignore-table={db}.migrator_version"))
                .arg(format!("--ignore-table={db}.migrator_log"))
                .arg(db)
                .output()
        }
    }
    .unwrap();
    assert!(
        output.status.success(),
        "dump failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| {
            !l.contains("migrator_")
                && !l.contains("sqlite_sequence")
                && !l.starts_with("-- Dumped")
                && !l.starts_with("\\restrict")
                && !l.starts_with("\\unrestrict")
        })
        .map(|l| {
            // AUTO_INCREMENT counters differ with the path taken, not the schema.
            match l.find(" AUTO_INCREMENT=") {
                Some(i) => {
                    let rest = &l[i + 16..];
                    let end = rest.find(' ').unwrap_or(rest.len());
                    format!("{}{}", &l[..i], &rest[end..])
                }
                None => l.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn parity(dialect: Dialect, ours: &str, theirs: &str) {
    let revs = history(dialect);
    let h = write_files(&revs);
    let m = h.load();
    let mut db = Migrator::new(&m).connect(ours).await.unwrap();
    assert_eq!(db.upgrade("heads").await.unwrap().applied.len(), REVISIONS);
    for r in &revs {
        client(dialect, theirs, &r.up);
    }
    let up = dump(dialect, ours);
    assert!(up.contains("items_0"), "the dump shows the schema:\n{up}");
    let reference = dump(dialect, theirs);
    if up != reference {
        let first = up.lines().zip(reference.lines()).position(|(a, b)| a != b).unwrap_or(0);
        let around = |d: &str| {
            d.lines()
                .skip(first.saturating_sub(3))
                .take(8)
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "schemas differ after upgrading, from line {first}:\nmigrator:\n{}\nclient:\n{}",
            around(&up),
            around(&reference)
        );
    }
    db.downgrade("base").await.unwrap();
    for r in revs.iter().rev() {
        client(dialect, theirs, &r.down);
    }
    let down = dump(dialect, ours);
    assert_eq!(down, dump(dialect, theirs), "schemas differ after downgrading");
    assert!(!down.contains("items_"), "everything was dropped:\n{down}");
}

/// The offline upgrade script, run by the client, leaves the schema and the
/// version rows an online run leaves; the offline `head:base` downgrade
/// script empties the schema again.
async fn offline(dialect: Dialect, ours: &str, theirs: &str) {
    use migrator_core::bookkeeping::Tables;
    use migrator_core::{Graph, offline_script};
    let revs = history(dialect);
    let m = write_files(&revs).load();
    Migrator::new(&m)
        .connect(ours)
        .await
        .unwrap()
        .upgrade("heads")
        .await
        .unwrap();
    let graph = Graph::new(&m).unwrap();
    let up = graph.plan_upgrade(&[], "heads", dialect).unwrap();
    feed(
        dialect,
        theirs,
        &offline_script(&up, dialect, &Tables::default(), true, false),
    );
    assert_eq!(
        dump(dialect, ours),
        dump(dialect, theirs),
        "schemas differ after the offline upgrade"
    );
    assert_eq!(version_rows(theirs).await, version_rows(ours).await);
    let head = up.after.iter().collect::<Vec<_>>();
    let down = graph.plan_downgrade(&head, "base", dialect).unwrap();
    feed(
        dialect,
        theirs,
        &offline_script(&down, dialect, &Tables::default(), false, false),
    );
    let emptied = dump(dialect, theirs);
    assert!(
        !emptied.contains("items_"),
        "the offline downgrade empties the schema:\n{emptied}"
    );
    assert!(version_rows(theirs).await.is_empty());
}

#[tokio::test]
async fn sqlite_offline_scripts() {
    if !tests::tool("sqlite3", "--version") {
        return;
    }
    let (a, b) = (History::new(), History::new());
    offline(Dialect::Sqlite, &a.sqlite_url(), &b.sqlite_url()).await;
}

#[tokio::test]
async fn postgres_offline_scripts() {
    if !tests::tool("psql", "--version") || !tests::tool("pg_dump", "--version") {
        return;
    }
    let Some(a) = server_db(Server::Postgres).await else {
        return;
    };
    let Some(b) = server_db(Server::Postgres).await else {
        return;
    };
    offline(Dialect::Postgres, &a.url, &b.url).await;
}

#[tokio::test]
async fn mysql_offline_scripts() {
    if !tests::tool("mariadb", "--version") || !tests::tool("mariadb-dump", "--version") {
        return;
    }
    let Some(a) = server_db(Server::Mysql).await else {
        return;
    };
    let Some(b) = server_db(Server::Mysql).await else {
        return;
    };
    offline(Dialect::Mysql, &a.url, &b.url).await;
}

#[tokio::test]
async fn sqlite_history_matches_sqlite3() {
    if !tests::tool("sqlite3", "--version") {
        return;
    }
    let (a, b) = (History::new(), History::new());
    parity(Dialect::Sqlite, &a.sqlite_url(), &b.sqlite_url()).await;
}

#[tokio::test]
async fn postgres_history_matches_psql() {
    if !tests::tool("psql", "--version") || !tests::tool("pg_dump", "--version") {
        return;
    }
    let Some(a) = server_db(Server::Postgres).await else {
        return;
    };
    let Some(b) = server_db(Server::Postgres).await else {
        return;
    };
    parity(Dialect::Postgres, &a.url, &b.url).await;
}

#[tokio::test]
async fn mysql_history_matches_mariadb_client() {
    if !tests::tool("mariadb", "--version") || !tests::tool("mariadb-dump", "--version") {
        return;
    }
    let Some(a) = server_db(Server::Mysql).await else {
        return;
    };
    let Some(b) = server_db(Server::Mysql).await else {
        return;
    };
    parity(Dialect::Mysql, &a.url, &b.url).await;
}

#[test]
fn the_histories_put_semicolons_inside_statements() {
    // So that migrator's splitter is exercised, while the clients get the
    // statements as written.
    for d in Dialect::ALL {
        let revs = history(d);
        let inner = revs.iter().flat_map(|r| &r.up).filter(|s| s.contains(';')).count();
        assert!(inner >= REVISIONS / 8, "{d}: {inner}");
    }
}

/// A small seeded generator (xorshift), so that a corpus is reproducible
/// from the printed seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % n as u64).unwrap()
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// A string literal of `dialect` holding `text`.
fn literal(dialect: Dialect, text: &str) -> String {
    let doubled = text.replace('\'', "''");
    match dialect {
        Dialect::Mysql => format!("'{}'", doubled.replace('\\', "\\\\")),
        _ => format!("'{doubled}'"),
    }
}

/// Statements and comments of every kind the splitter must get right:
/// tables and columns named like keywords (`event`, `begin`, `trigger`),
/// identifiers and strings holding `;`, `--` and `/*`, comments between
/// and inside statements, each dialect's own quoting (MySQL backslash
/// escapes and `#` comments, PostgreSQL `E''`, dollar quotes and nested
/// comments, a `--` comment ended by a bare CR), LF or CRLF line ends.
fn corpus(dialect: Dialect, rng: &mut Rng) -> String {
    let q = |name: &str| match dialect {
        Dialect::Mysql => format!("`{name}`"),
        _ => format!("\"{name}\""),
    };
    let mut tables = vec!["event".to_owned(), q("trigger"), q("semi;colon -- x /* y")];
    if dialect == Dialect::Sqlite {
        // SQLite's bracket quoting.
        tables.push("[br;acket]".to_owned());
    }
    let texts = [
        "a;b",
        "it's; here",
        "-- not a comment",
        "/* not; a comment */",
        "end;",
        "BEGIN; END;",
        "$$;$$",
        "#;hash",
        "back\\slash;",
        "line\nbreak;",
    ];
    let comments: Vec<&str> = match dialect {
        Dialect::Mysql => vec!["-- note; x\n", "/* a; b */ ", "# hash; comment\n"],
        Dialect::Postgres => vec![
            "-- note; x\n",
            "/* a; b */ ",
            "/* outer /* inner; */ still; */ ",
            "-- cr; ends it\r",
        ],
        Dialect::Sqlite => vec!["-- note; x\n", "/* a; b */ "],
    };
    let mut out = Vec::new();
    for t in &tables {
        out.push(format!(
            "CREATE TABLE {t} (id INTEGER, begin VARCHAR(80), {} VARCHAR(80))",
            q("end")
        ));
    }
    for n in 0..30 {
        let t = &tables[rng.below(tables.len())];
        let text = literal(dialect, rng.pick(&texts));
        let value = match (dialect, rng.below(4)) {
            (Dialect::Postgres, 0) => "E'e\\'s; x'".to_owned(),
            (Dialect::Postgres, 1) => "$q$dollar; 'quoted'$q$".to_owned(),
            (Dialect::Mysql, 0) => "'it\\'s; escaped'".to_owned(),
            _ => text,
        };
        let mut statement = match rng.below(3) {
            0 | 1 => format!(
                "INSERT INTO {t} (id, begin, {}) VALUES ({n}, {value}, {value})",
                q("end")
            ),
            _ => format!("UPDATE {t} SET begin = {value} WHERE id = {}", rng.below(n + 1)),
        };
        if rng.below(3) == 0 {
            // A comment inside the statement.
            let c = rng.pick(&comments);
            statement = statement
                .replacen(" (id", &format!(" {c}(id"), 1)
                .replacen(" SET", &format!(" {c}SET"), 1);
        }
        if rng.below(3) == 0 {
            statement = format!("{}{statement}", rng.pick(&comments));
        }
        out.push(statement);
    }
    let end = if rng.below(2) == 0 { "\n" } else { "\r\n" };
    out.iter().map(|s| format!("{s};{end}")).collect()
}

/// Each corpus runs through migrator statement by statement (a
/// `transaction:false` section) and through the database's own client;
/// the schemas and rows must be the same.
async fn splitter_matches_client(
    dialect: Dialect,
    pairs: impl Fn() -> Option<(String, String, Vec<Box<dyn std::any::Any>>)>,
) {
    let seed: u64 = std::env::var("MIGRATOR_SPLIT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_202);
    eprintln!("splitter corpus seed {seed} (MIGRATOR_SPLIT_SEED replays it)");
    let mut rng = Rng(seed | 1);
    for case in 0..6 {
        let Some((ours, theirs, _guards)) = pairs() else { return };
        let text = corpus(dialect, &mut rng);
        let h = History::new();
        h.write(
            "00001_corpus.sql",
            &format!("-- corpus\n-- Revision ID: c1\n\n-- migrate:up transaction:false\n{text}\n-- migrate:down\n"),
        );
        let m = h.load();
        let mut db = Migrator::new(&m).connect(&ours).await.unwrap();
        if let Err(e) = db.upgrade("heads").await {
            panic!("seed {seed}, case {case}: migrator failed: {e}\n{text}");
        }
        db.close().await;
        feed(dialect, &theirs, &text);
        let (a, b) = (dump_with(dialect, &ours, true), dump_with(dialect, &theirs, true));
        assert!(a.contains("semi;colon"), "the dump shows the corpus:\n{a}");
        if a != b {
            let only = |x: &str, y: &str| x.lines().filter(|l| !y.contains(l)).collect::<Vec<_>>().join("\n");
            panic!(
                "seed {seed}, case {case}: migrator and the client differ\nonly migrator's:\n{}\nonly the client's:\n{}\non:\n{text}",
                only(&a, &b),
                only(&b, &a)
            );
        }
    }
}

#[tokio::test]
async fn sqlite_splitter_matches_sqlite3() {
    if !tests::tool("sqlite3", "--version") {
        return;
    }
    splitter_matches_client(Dialect::Sqlite, || {
        let (a, b) = (History::new(), History::new());
        let urls = (a.sqlite_url(), b.sqlite_url());
        Some((urls.0, urls.1, vec![Box::new(a) as Box<dyn std::any::Any>, Box::new(b)]))
    })
    .await;
}

async fn server_pair(server: Server) -> Option<(String, String, Vec<Box<dyn std::any::Any>>)> {
    let a = server_db(server).await?;
    let b = server_db(server).await?;
    Some((
        a.url.clone(),
        b.url.clone(),
        vec![Box::new(a) as Box<dyn std::any::Any>, Box::new(b)],
    ))
}

#[tokio::test]
async fn postgres_splitter_matches_psql() {
    if !tests::tool("psql", "--version") || !tests::tool("pg_dump", "--version") {
        return;
    }
    let Some(first) = server_pair(Server::Postgres).await else {
        return;
    };
    let mut spare = Some(first);
    let mut pairs = Vec::new();
    for _ in 0..6 {
        pairs.push(match spare.take() {
            Some(p) => Some(p),
            None => server_pair(Server::Postgres).await,
        });
    }
    let pairs = std::sync::Mutex::new(pairs);
    splitter_matches_client(Dialect::Postgres, || pairs.lock().unwrap().pop().flatten()).await;
}

#[tokio::test]
async fn mysql_splitter_matches_mariadb_client() {
    if !tests::tool("mariadb", "--version") || !tests::tool("mariadb-dump", "--version") {
        return;
    }
    let mut pairs = Vec::new();
    for _ in 0..6 {
        pairs.push(server_pair(Server::Mysql).await);
    }
    let pairs = std::sync::Mutex::new(pairs);
    splitter_matches_client(Dialect::Mysql, || pairs.lock().unwrap().pop().flatten()).await;
}
