//! Ways of reaching a server. TLS to PostgreSQL, against an instance of
//! the test's own with `ssl=on` and a certificate signed by a CA the test
//! makes (`openssl`): each `sslmode` connects and migrates, a wrong host
//! name and a wrong CA fail with advice that names the setting; the same
//! against a MariaDB instance of the test's own with TLS; the shared
//! MariaDB, without TLS, refuses `ssl-mode=REQUIRED` clearly. Unix sockets to both
//! shared servers migrate the demo history.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use migrator_core::{Migrations, Migrator};
use tests::{OwnPostgres, Server, server_db};

static DEMO: Migrations = migrator_macros::embed_migrations!("../migrations");

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`{name}.pem`, `{name}.key`) in `dir`.
fn ca(dir: &Path, name: &str) {
    let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &pem,
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
        ],
    );
}

/// The server's key and certificate for the name `localhost`, signed by
/// the CA `ca`.
fn server_cert(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(dir.join("san.ext"), "subjectAltName=DNS:localhost\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    );
    std::fs::set_permissions(
        dir.join("server.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
}

/// For each `(host, query)` of `ok`: a database `tls<n>` made through
/// `admin`, then the demo history migrated over `url(host, db, query)`.
async fn each_connects_and_migrates(ok: &[(&str, String)], admin: &str, url: &dyn Fn(&str, &str, &str) -> String) {
    for (n, (host, query)) in ok.iter().enumerate() {
        let db = format!("tls{n}");
        tests::exec(admin, &format!("CREATE DATABASE {db}")).await;
        let mut m = Migrator::new(&DEMO)
            .connect(&url(host, &db, query))
            .await
            .unwrap_or_else(|e| panic!("{query}: {e}"));
        let report = m.upgrade("heads").await.unwrap();
        assert_eq!(report.applied.len(), DEMO.revisions.len(), "{query}");
        m.close().await;
    }
}

#[tokio::test]
async fn postgres_over_tls_in_every_sslmode() {
    if !tests::tool("openssl", "version") {
        return;
    }
    let mut certs = std::path::PathBuf::new();
    let Some(pg) = OwnPostgres::start(
        &["ssl=on", "ssl_cert_file=../server.pem", "ssl_key_file=../server.key"],
        |dir| {
            ca(dir, "ca");
            ca(dir, "other");
            server_cert(dir);
            certs = dir.to_path_buf();
        },
    ) else {
        return;
    };
    let ca_pem = certs.join("ca.pem");
    let other_pem = certs.join("other.pem");
    let url = |host: &str, db: &str, query: &str| format!("postgres://postgres@{host}:{}/{db}?{query}", pg.port);
    // Each mode that should connect does, and migrates a database of its own.
    let ok = [
        ("127.0.0.1", "sslmode=require".to_owned()),
        (
            "127.0.0.1",
            format!("sslmode=verify-ca&sslrootcert={}", ca_pem.display()),
        ),
        (
            "localhost",
            format!("sslmode=verify-full&sslrootcert={}", ca_pem.display()),
        ),
    ];
    each_connects_and_migrates(&ok, &url("127.0.0.1", "postgres", "sslmode=disable"), &url).await;
    // The session really is encrypted.
    let ssl = tests::scalar(
        &url("127.0.0.1", "postgres", "sslmode=require"),
        "SELECT CAST(ssl AS TEXT) FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )
    .await;
    assert_eq!(ssl.as_deref(), Some("true"));
    // verify-full with a name the certificate does not carry.
    let wrong_host = url(
        "127.0.0.1",
        "postgres",
        &format!("sslmode=verify-full&sslrootcert={}", ca_pem.display()),
    );
    let e = Migrator::new(&DEMO).connect(&wrong_host).await.unwrap_err().to_string();
    assert!(
        e.contains("does not name the host in the URL") && e.contains("sslmode=verify-ca"),
        "{e}"
    );
    // verify-ca against the wrong CA.
    let wrong_ca = url(
        "127.0.0.1",
        "postgres",
        &format!("sslmode=verify-ca&sslrootcert={}", other_pem.display()),
    );
    let e = Migrator::new(&DEMO).connect(&wrong_ca).await.unwrap_err().to_string();
    assert!(
        e.contains("not signed by a CA this client trusts") && e.contains("sslrootcert="),
        "{e}"
    );
}

/// A MariaDB instance of the test's own with TLS: `REQUIRED` and
/// `VERIFY_IDENTITY` connect and migrate over an encrypted session; a name
/// or a CA that does not match fails with advice in MySQL's own terms.
#[tokio::test]
async fn mariadb_over_tls_required_and_verified() {
    if !tests::tool("openssl", "version") {
        return;
    }
    let Some(my) = tests::OwnMariadb::start(
        &[
            "--ssl-ca=../ca.pem",
            "--ssl-cert=../server.pem",
            "--ssl-key=../server.key",
        ],
        |dir| {
            ca(dir, "ca");
            ca(dir, "other");
            server_cert(dir);
        },
    ) else {
        return;
    };
    // The server reads its files relative to its data directory.
    let certs = my.dir.path().to_path_buf();
    for f in ["ca.pem", "server.pem", "server.key"] {
        assert!(certs.join(f).exists());
    }
    let ca_pem = certs.join("ca.pem");
    let url = |host: &str, db: &str, query: &str| format!("mysql://root@{host}:{}/{db}?{query}", my.port);
    let ok = [
        ("127.0.0.1", "ssl-mode=REQUIRED".to_owned()),
        (
            "localhost",
            format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={}", ca_pem.display()),
        ),
    ];
    each_connects_and_migrates(&ok, &url("127.0.0.1", "mysql", "ssl-mode=REQUIRED"), &url).await;
    for n in 0..ok.len() {
        let tables = tests::tables(&url("127.0.0.1", &format!("tls{n}"), "ssl-mode=REQUIRED")).await;
        assert_eq!(tables.len(), 7);
    }
    // The session really is encrypted.
    let cipher = tests::scalar(
        &url("127.0.0.1", "mysql", "ssl-mode=REQUIRED"),
        "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_CIPHER'",
    )
    .await;
    assert!(cipher.is_some_and(|c| c.starts_with("TLS")), "not encrypted");
    let wrong_host = url(
        "127.0.0.1",
        "tls1",
        &format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={}", ca_pem.display()),
    );
    let e = Migrator::new(&DEMO).connect(&wrong_host).await.unwrap_err().to_string();
    assert!(
        e.contains("does not name the host in the URL") && e.contains("ssl-mode=VERIFY_CA") && !e.contains("sslmode"),
        "{e}"
    );
    let wrong_ca = url(
        "localhost",
        "tls1",
        &format!("ssl-mode=VERIFY_CA&ssl-ca={}", certs.join("other.pem").display()),
    );
    let e = Migrator::new(&DEMO).connect(&wrong_ca).await.unwrap_err().to_string();
    assert!(
        e.contains("not signed by a CA this client trusts") && e.contains("ssl-ca="),
        "{e}"
    );
}

#[tokio::test]
async fn a_server_without_tls_refuses_a_required_tls_clearly() {
    let Some(db) = server_db(Server::Mysql).await else {
        return;
    };
    let url = format!("{}?ssl-mode=REQUIRED", db.url);
    let e = Migrator::new(&DEMO).connect(&url).await.unwrap_err().to_string();
    assert!(e.contains("the server offers no TLS") && e.contains("ssl-mode"), "{e}");
}

#[tokio::test]
async fn unix_sockets_reach_both_servers() {
    for (server, socket) in [
        (Server::Postgres, "/var/run/postgresql"),
        (Server::Mysql, "/run/mysqld/mysqld.sock"),
    ] {
        let Some(db) = server_db(server).await else {
            return;
        };
        if !Path::new(socket).exists() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{} has no socket at {socket} under CI=true", server.name());
            }
            eprintln!("skipped: no socket at {socket}");
            continue;
        }
        let name = db.url.rsplit('/').next().unwrap();
        let url = match server {
            Server::Postgres => format!("postgres:///{name}?host={socket}&user=postgres"),
            Server::Mysql => format!("mysql://root@localhost/{name}?socket={socket}"),
        };
        let mut m = Migrator::new(&DEMO)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(
            m.upgrade("heads").await.unwrap().applied.len(),
            DEMO.revisions.len(),
            "{url}"
        );
        m.close().await;
        // The same database, seen over TCP.
        assert_eq!(tests::tables(&db.url).await.len(), 7, "{url}");
    }
}
