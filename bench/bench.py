#!/usr/bin/env python3
"""Benchmarks migrator against the floor: sqlite3 running the same SQL and
the same version bookkeeping.

Usage: bench/run [N ...]   (default N = 1000 10000)

For each N it generates a history of N revisions (each creating a table and
an index, dropping both on the way down), then measures, whole process,
median of several runs:

- apply from empty, per-revision mode: `migrator upgrade head` versus
  `sqlite3` running one transaction per revision (SQL + version row + log row);
- apply from empty, all mode: the same with one transaction for everything;
- no-op `upgrade head` on an up-to-date database;
- `history` and `heads` (no database), with `--dir`;
- the same history embedded at compile time (bench/embedded, built for each
  N): the rebuild time after touching one revision file, a no-op upgrade,
  `history`, `heads` and `current`.

Prints a Markdown table; ratios are migrator / sqlite3 in the same run.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rev_id(i):
    return "r%06d" % i


def generate(n, out):
    """Writes the migrator history to out/migrations and returns the floor
    scripts (per-revision, all) as SQL text."""
    mdir = os.path.join(out, "migrations")
    os.makedirs(mdir)
    per_rev = [
        "CREATE TABLE IF NOT EXISTS migrator_version (version_num VARCHAR(32) NOT NULL, "
        "CONSTRAINT migrator_version_pkc PRIMARY KEY (version_num));",
        "CREATE TABLE IF NOT EXISTS migrator_log (id INTEGER PRIMARY KEY AUTOINCREMENT, revision VARCHAR(32) NOT NULL, "
        "operation VARCHAR(16) NOT NULL, checksum VARCHAR(64), started_at VARCHAR(32) NOT NULL, finished_at VARCHAR(32), "
        "success BOOLEAN NOT NULL, error TEXT, statements_done INTEGER, tool_version VARCHAR(32) NOT NULL);",
        "SELECT version_num FROM migrator_version;",
    ]
    body = []
    for i in range(1, n + 1):
        rid = rev_id(i)
        parent = rev_id(i - 1) if i > 1 else ""
        up = "CREATE TABLE t%d (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, created_at TIMESTAMP);\n" \
             "CREATE INDEX ix_t%d_name ON t%d (name);" % (i, i, i)
        down = "DROP INDEX ix_t%d_name;\nDROP TABLE t%d;" % (i, i)
        with open(os.path.join(mdir, "%s_table_%d.sql" % (rid, i)), "w") as f:
            f.write("-- create table t%d\n--\n-- Revision ID: %s\n-- Revises: %s\n\n-- migrate:up\n%s\n\n-- migrate:down\n%s\n"
                    % (i, rid, parent, up, down))
        if i == 1:
            version = "INSERT INTO migrator_version (version_num) VALUES ('%s');" % rid
        else:
            version = "UPDATE migrator_version SET version_num = '%s' WHERE version_num = '%s';" % (rid, parent)
        log = ("INSERT INTO migrator_log (revision, operation, checksum, started_at, finished_at, success, error, "
               "statements_done, tool_version) VALUES ('%s', 'upgrade', '%s', '2026-01-01 00:00:00.000', "
               "'2026-01-01 00:00:00.001', 1, NULL, NULL, 'migrator 0.1.0');" % (rid, "0" * 64))
        body.append((up, version, log))
    per_revision = "\n".join(per_rev + ["BEGIN IMMEDIATE;\n%s\n%s\n%s\nCOMMIT;" % b for b in body]) + "\n"
    all_mode = "\n".join(per_rev + ["BEGIN IMMEDIATE;"] + ["%s\n%s\n%s" % b for b in body] + ["COMMIT;"]) + "\n"
    return per_revision, all_mode


def timed(cmd, cwd, stdin=None, setup=None, runs=5):
    """Median wall time in seconds of `cmd`, calling `setup()` before each."""
    times = []
    for _ in range(runs):
        if setup:
            setup()
        with open(stdin) if stdin else open(os.devnull) as inp:
            start = time.perf_counter()
            r = subprocess.run(cmd, cwd=cwd, stdin=inp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            elapsed = time.perf_counter() - start
        if r.returncode != 0:
            sys.exit("command failed: %s\n%s" % (" ".join(cmd), r.stderr.decode()))
        times.append(elapsed)
    return statistics.median(times)


def target_dir():
    return os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def build_embedded(migrations):
    """Builds bench/embedded over `migrations`; returns the binary, the
    seconds a release rebuild takes after one revision file is touched
    (mtime only) and after one is edited (its SQL changes), and the
    binary's size."""
    env = dict(os.environ, MIGRATOR_BENCH_MIGRATIONS=migrations, CARGO_TARGET_DIR=target_dir())
    crate = os.path.join(ROOT, "bench", "embedded")
    build = lambda: subprocess.run(["cargo", "build", "--release", "-q"], cwd=crate, env=env, check=True)
    build()
    first = os.path.join(migrations, sorted(os.listdir(migrations))[0])
    os.utime(first)
    start = time.perf_counter()
    build()
    touched = time.perf_counter() - start
    with open(first, "a") as f:
        f.write("-- edited\n")
    start = time.perf_counter()
    build()
    edited = time.perf_counter() - start
    binary = os.path.join(target_dir(), "release", "migrator-bench-embedded")
    return binary, touched, edited, os.path.getsize(binary)


def bench(n, migrator, rows):
    work = tempfile.mkdtemp(prefix="migrator-bench-%d-" % n)
    try:
        per_revision, all_mode = generate(n, work)
        for name, text in (("floor_per_revision.sql", per_revision), ("floor_all.sql", all_mode)):
            with open(os.path.join(work, name), "w") as f:
                f.write(text)
        db = os.path.join(work, "bench.db")
        url = "sqlite://" + db

        def fresh():
            if os.path.exists(db):
                os.remove(db)

        runs = 5 if n <= 1000 else 3
        for mode, floor in (("per-revision", "floor_per_revision.sql"), ("all", "floor_all.sql")):
            t_floor = timed(["sqlite3", db], work, stdin=os.path.join(work, floor), setup=fresh, runs=runs)
            t_mig = timed([migrator, "-q", "--dir", "migrations", "-d", url, "--transaction-mode", mode, "upgrade", "head"],
                          work, setup=fresh, runs=runs)
            rows.append((n, "apply from empty, %s" % mode, t_mig, t_floor))
        # Up to date now: a no-op upgrade.
        t_noop = timed([migrator, "-q", "--dir", "migrations", "-d", url, "upgrade", "head"], work, runs=7)
        t_floor_noop = timed(["sqlite3", db, "SELECT version_num FROM migrator_version;"], work, runs=7)
        rows.append((n, "no-op upgrade head", t_noop, t_floor_noop))
        for cmd in ("history", "heads"):
            rows.append((n, cmd + " (--dir)", timed([migrator, "--dir", "migrations", cmd], work, runs=5), None))
        # The same history embedded at compile time, as a service ships it.
        embedded, touched, edited, size = build_embedded(os.path.join(work, "migrations"))
        sql_bytes = sum(os.path.getsize(os.path.join(work, "migrations", f)) for f in os.listdir(os.path.join(work, "migrations")))
        rows.append((n, "release rebuild after touching one revision file", touched, None))
        rows.append((n, "release rebuild after editing one revision file", edited, None))
        print("# %d revisions: embedded binary %.1f MB, revision files %.1f MB" % (n, size / 1e6, sql_bytes / 1e6), file=sys.stderr)
        t_noop = timed([embedded, "-q", "-d", url, "upgrade", "head"], work, runs=7)
        rows.append((n, "no-op upgrade head (embedded)", t_noop, t_floor_noop))
        for cmd in (["history"], ["heads"]):
            rows.append((n, cmd[-1] + " (embedded)", timed([embedded] + cmd, work, runs=7), None))
        rows.append((n, "current (embedded; database with the N tables)",
                     timed([embedded, "-d", url, "current"], work, runs=7), t_floor_noop))
        # A database holding only the bookkeeping, at head: what `current`
        # itself costs, without SQLite loading a schema of 2N objects.
        stamped = os.path.join(work, "stamped.db")
        subprocess.run([embedded, "-q", "-d", "sqlite://" + stamped, "stamp", "heads"], cwd=work, check=True)
        t_floor_stamped = timed(["sqlite3", stamped, "SELECT version_num FROM migrator_version;"], work, runs=7)
        rows.append((n, "current (embedded; bookkeeping tables only)",
                     timed([embedded, "-d", "sqlite://" + stamped, "current"], work, runs=7), t_floor_stamped))
    finally:
        shutil.rmtree(work, ignore_errors=True)


PG_ADMIN = os.environ.get("MIGRATOR_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/test")
MY_ADMIN = os.environ.get("MIGRATOR_BENCH_MYSQL", "mysql://root@127.0.0.1:3306/test")


def server_floor(n, dialect, mode):
    """The same upgrade as the database's own client runs it, with the
    bookkeeping migrator does on that dialect."""
    out = []
    if dialect == "postgres":
        out.append("CREATE TABLE IF NOT EXISTS migrator_version (version_num VARCHAR(32) NOT NULL, "
                   "CONSTRAINT migrator_version_pkc PRIMARY KEY (version_num));")
        out.append("CREATE TABLE IF NOT EXISTS migrator_log (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
                   "revision VARCHAR(32) NOT NULL, operation VARCHAR(16) NOT NULL, checksum VARCHAR(64), "
                   "started_at VARCHAR(32) NOT NULL, finished_at VARCHAR(32), success BOOLEAN NOT NULL, error TEXT, "
                   "statements_done INTEGER, tool_version VARCHAR(32) NOT NULL);")
    else:
        out.append("CREATE TABLE IF NOT EXISTS migrator_version (version_num VARCHAR(32) NOT NULL, "
                   "CONSTRAINT migrator_version_pkc PRIMARY KEY (version_num));")
        out.append("CREATE TABLE IF NOT EXISTS migrator_log (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, "
                   "revision VARCHAR(32) NOT NULL, operation VARCHAR(16) NOT NULL, checksum VARCHAR(64), "
                   "started_at VARCHAR(32) NOT NULL, finished_at VARCHAR(32), success BOOLEAN NOT NULL, error TEXT, "
                   "statements_done INTEGER, tool_version VARCHAR(32) NOT NULL);")
    out.append("SELECT version_num FROM migrator_version;")
    if dialect == "postgres" and mode == "all":
        out.append("BEGIN;")
    for i in range(1, n + 1):
        rid, parent = rev_id(i), rev_id(i - 1)
        stmts = ["CREATE TABLE t%d (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, created_at TIMESTAMP)" % i,
                 "CREATE INDEX ix_t%d_name ON t%d (name)" % (i, i)]
        version = ("INSERT INTO migrator_version (version_num) VALUES ('%s')" % rid if i == 1 else
                   "UPDATE migrator_version SET version_num = '%s' WHERE version_num = '%s'" % (rid, parent))
        log = ("INSERT INTO migrator_log (revision, operation, checksum, started_at, finished_at, success, error, "
               "statements_done, tool_version) VALUES ('%s', 'upgrade', '%s', '2026-01-01 00:00:00.000', %s, %s, NULL, %s, "
               "'migrator 0.1.0')")
        if dialect == "postgres":
            body = stmts + [version, log % (rid, "0" * 64, "'2026-01-01 00:00:00.001'", "true", "NULL")]
            out.append(("BEGIN;\n%s;\nCOMMIT;" if mode == "per-revision" else "%s;") % ";\n".join(body))
        else:
            out.append(log % (rid, "0" * 64, "NULL", "0", "0") + ";")
            for k, st in enumerate(stmts):
                out.append(st + ";")
                out.append("UPDATE migrator_log SET statements_done = %d WHERE id = LAST_INSERT_ID();" % (k + 1))
            out.append("BEGIN;\n%s;\nUPDATE migrator_log SET success = 1, finished_at = '2026-01-01 00:00:00.001', "
                       "statements_done = 2 WHERE revision = '%s';\nCOMMIT;" % (version, rid))
    if dialect == "postgres" and mode == "all":
        out.append("COMMIT;")
    return "\n".join(out) + "\n"


def server_bench(n, migrator, rows, work, dialect):
    admin = PG_ADMIN if dialect == "postgres" else MY_ADMIN
    base, _ = admin.rsplit("/", 1)
    name = "migrator_bench_%d" % os.getpid()
    url = "%s/%s" % (base, name)
    if dialect == "postgres":
        admin_cmd = lambda sql: ["psql", "-q", "-d", admin, "-c", sql]
        client = ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", url]
        reset_sql = ["DROP DATABASE IF EXISTS %s WITH (FORCE)" % name, "CREATE DATABASE %s" % name]
    else:
        rest = admin[len("mysql://"):].rsplit("/", 1)[0]
        user, host = rest.split("@")
        host, port = (host.split(":") + ["3306"])[:2]
        conn = ["-h", host, "-P", port, "-u", user]
        admin_cmd = lambda sql: ["mariadb"] + conn + ["-e", sql]
        client = ["mariadb"] + conn + [name]
        reset_sql = ["DROP DATABASE IF EXISTS %s; CREATE DATABASE %s" % (name, name)]

    def fresh():
        for sql in reset_sql:
            subprocess.run(admin_cmd(sql), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    try:
        fresh()
    except (subprocess.CalledProcessError, FileNotFoundError):
        print("skipped %s: server or client not available" % dialect, file=sys.stderr)
        return
    modes = ["per-revision", "all"] if dialect == "postgres" else ["per-revision"]
    for mode in modes:
        floor = os.path.join(work, "floor_%s_%s.sql" % (dialect, mode))
        with open(floor, "w") as f:
            f.write(server_floor(n, dialect, mode))
        t_floor = timed(client, work, stdin=floor, setup=fresh, runs=3)
        t_mig = timed([migrator, "-q", "--dir", "migrations", "-d", url, "--transaction-mode", mode, "upgrade", "head"],
                      work, setup=fresh, runs=3)
        client_name = "psql" if dialect == "postgres" else "mariadb"
        rows.append((n, "%s: apply from empty, %s (floor: %s)" % (dialect, mode, client_name), t_mig, t_floor))
    t_noop = timed([migrator, "-q", "--dir", "migrations", "-d", url, "upgrade", "head"], work, runs=5)
    rows.append((n, "%s: no-op upgrade head (--dir)" % dialect, t_noop, None))
    subprocess.run(admin_cmd(reset_sql[0].split(";")[0]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10000]
    migrator = os.environ.get("MIGRATOR_BIN") or os.path.join(target_dir(), "release", "migrator")
    if not os.path.exists(migrator):
        sys.exit("no migrator binary at %s; run bench/run, which builds it" % migrator)
    if not shutil.which("sqlite3"):
        sys.exit("sqlite3 is not installed (apt-get install sqlite3)")
    rows = []
    for n in sizes:
        bench(n, migrator, rows)
    # The servers, at the sizes up to MIGRATOR_BENCH_SERVER_MAX (default 1000).
    server_max = int(os.environ.get("MIGRATOR_BENCH_SERVER_MAX", "1000"))
    for n in [n for n in sizes if n <= server_max]:
        work = tempfile.mkdtemp(prefix="migrator-bench-server-%d-" % n)
        try:
            generate(n, work)
            for dialect in ("postgres", "mysql"):
                server_bench(n, migrator, rows, work, dialect)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print("| revisions | measurement | migrator | sqlite3 (floor) | ratio |")
    print("|---:|---|---:|---:|---:|")
    for n, what, t_mig, t_floor in rows:
        floor = "%.1f ms" % (t_floor * 1000) if t_floor is not None else "—"
        ratio = "%.2fx" % (t_mig / t_floor) if t_floor else "—"
        shown = "%.2f s" % t_mig if t_mig >= 1 else "%.1f ms" % (t_mig * 1000)
        print("| %d | %s | %s | %s | %s |" % (n, what, shown, floor, ratio))


if __name__ == "__main__":
    main()
