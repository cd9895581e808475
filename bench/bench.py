#!/usr/bin/env python3
"""Benchmarks migrator against the floor (the database's own client running
the same SQL and the same bookkeeping) and against the peers (sqlx-cli and
Alembic on the same history in their own layouts).

Usage: bench/run [N ...]   (default N = 1000 10000 100000)

For each N up to 10,000 it generates a history of N revisions (each creating
a table and an index, dropping both on the way down) and measures, whole
process, the median of several runs:

- apply from empty on SQLite in per-revision and all mode, against sqlite3
  running the same statements and bookkeeping, sqlx-cli (per-revision) and
  Alembic (both modes);
- a no-op `upgrade head` on the up-to-date database (and the peers' no-op);
- `history` and `heads` reading the directory (`--dir`);
- the same history embedded at compile time (bench/embedded): the build
  after `cargo clean -p`, rebuilds after touching and after editing one
  file, the binary's size, a no-op upgrade, `history`, `heads`, `current`
  and `status`, and peak memory;
- PostgreSQL and MySQL: apply from empty in each transaction mode against
  psql/mariadb running the same statements and bookkeeping, sqlx-cli, and
  a no-op upgrade.

Sizes above 10,000 measure only the embedded binary (read commands and a
no-op upgrade on a database holding the bookkeeping of N revisions).

Prints a Markdown table; ratios are the measured time over the floor of the
same row, in the same run.
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


def generate(n, out, floors=True):
    """Writes the migrator history to out/migrations and returns the floor
    scripts (per-revision, all) as SQL text."""
    mdir = os.path.join(out, "migrations")
    os.makedirs(mdir)
    per_rev = [
        "CREATE TABLE IF NOT EXISTS migrator_version (version_num VARCHAR(32) NOT NULL, "
        "CONSTRAINT migrator_version_pkc PRIMARY KEY (version_num));",
        "CREATE TABLE IF NOT EXISTS migrator_log (id INTEGER PRIMARY KEY AUTOINCREMENT, revision VARCHAR(32) NOT NULL, "
        "operation VARCHAR(16) NOT NULL, checksum VARCHAR(64), started_at VARCHAR(32) NOT NULL, finished_at VARCHAR(32), "
        "success BOOLEAN NOT NULL, error TEXT, statements_done INTEGER, tool_version VARCHAR(32) NOT NULL, "
        "applied_digest VARCHAR(32));",
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
               "statements_done, tool_version, applied_digest) VALUES ('%s', 'upgrade', '%s', '2026-01-01 00:00:00.000', "
               "'2026-01-01 00:00:00.001', 1, NULL, NULL, 'migrator 0.1.0', '%s');" % (rid, "0" * 64, "0" * 32))
        body.append((up, version, log))
    if not floors:
        return None, None
    per_revision = "\n".join(per_rev + ["BEGIN IMMEDIATE;\n%s\n%s\n%s\nCOMMIT;" % b for b in body]) + "\n"
    all_mode = "\n".join(per_rev + ["BEGIN IMMEDIATE;"] + ["%s\n%s\n%s" % b for b in body] + ["COMMIT;"]) + "\n"
    return per_revision, all_mode


def up_down(i):
    up = ("CREATE TABLE t%d (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, created_at TIMESTAMP)" % i,
          "CREATE INDEX ix_t%d_name ON t%d (name)" % (i, i))
    down = ("DROP INDEX ix_t%d_name" % i, "DROP TABLE t%d" % i)
    return up, down


def write_sqlx(n, out):
    """The same history in sqlx-cli's layout: reversible `<version>_<name>`
    `.up.sql` / `.down.sql` pairs."""
    d = os.path.join(out, "sqlx")
    os.makedirs(d)
    for i in range(1, n + 1):
        up, down = up_down(i)
        for kind, stmts in (("up", up), ("down", down)):
            with open(os.path.join(d, "%d_table_%d.%s.sql" % (i, i, kind)), "w") as f:
                f.write(";\n".join(stmts) + ";\n")
    return d


ALEMBIC_ENV = """import os
from alembic import context
from sqlalchemy import create_engine

engine = create_engine(os.environ["BENCH_URL"])
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None,
                      transaction_per_migration=os.environ.get("BENCH_MODE") == "per-revision")
    with context.begin_transaction():
        context.run_migrations()
"""


def write_alembic(n, out):
    """The same history as an Alembic project: one Python file per revision
    running the same statements with `op.execute`."""
    d = os.path.join(out, "alembic")
    os.makedirs(os.path.join(d, "versions"))
    with open(os.path.join(d, "env.py"), "w") as f:
        f.write(ALEMBIC_ENV)
    with open(os.path.join(d, "script.py.mako"), "w") as f:
        f.write("")
    ini = os.path.join(out, "alembic.ini")
    with open(ini, "w") as f:
        f.write("[alembic]\nscript_location = %s\n" % d)
    for i in range(1, n + 1):
        up, down = up_down(i)
        parent = repr(rev_id(i - 1)) if i > 1 else "None"
        body = ["revision = %r" % rev_id(i), "down_revision = %s" % parent, "branch_labels = None",
                "depends_on = None", "", "from alembic import op", "", "", "def upgrade():"]
        body += ["    op.execute(%r)" % st for st in up] + ["", "", "def downgrade():"]
        body += ["    op.execute(%r)" % st for st in down]
        with open(os.path.join(d, "versions", "%s_table_%d.py" % (rev_id(i), i)), "w") as f:
            f.write("\n".join(body) + "\n")
    return ini


def peak_kb(cmd, cwd):
    """Peak resident memory of one run, in KiB (GNU time)."""
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, cwd=cwd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    return int(r.stderr.strip().splitlines()[-1])


def timed(cmd, cwd, stdin=None, setup=None, runs=5, env=None):
    """Median wall time in seconds of `cmd`, calling `setup()` before each."""
    times = []
    for _ in range(runs):
        if setup:
            setup()
        with open(stdin) if stdin else open(os.devnull) as inp:
            start = time.perf_counter()
            r = subprocess.run(cmd, cwd=cwd, stdin=inp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
            elapsed = time.perf_counter() - start
        if r.returncode != 0:
            # Recorded in the table, and the run goes on.
            lines = [l for l in r.stderr.decode().splitlines() if l.strip()]
            return Failed(lines[0] if lines else "exit %d" % r.returncode)
        times.append(elapsed)
    return statistics.median(times)


def timed_in_turns(entries, cwd):
    """Median wall times of several commands measured in turns: one run of
    each, then the next round, so that the machine drifting (this one's
    disk flushes moved by 2x within an hour) weighs on all of them alike.
    Each entry is a dict with `cmd` and optionally `stdin`, `setup`, `env`
    and `runs` (default 3); returns the medians, or Failed, in order."""
    times = [[] for _ in entries]
    failed = [None for _ in entries]
    for round_ in range(max(e.get("runs", 3) for e in entries)):
        for k, e in enumerate(entries):
            if failed[k] or round_ >= e.get("runs", 3):
                continue
            t = timed(e["cmd"], cwd, stdin=e.get("stdin"), setup=e.get("setup"), runs=1, env=e.get("env"))
            if isinstance(t, Failed):
                failed[k] = t
            else:
                times[k].append(t)
    return [failed[k] or statistics.median(times[k]) for k in range(len(entries))]


class Failed:
    """A measurement whose command failed, with the first line it printed."""

    def __init__(self, why):
        self.why = why


def show_row(n, what, t, t_floor):
    def shown(x):
        if x is None:
            return "—"
        if isinstance(x, Failed):
            return "failed (%s)" % x.why.replace("|", "/")
        return "%.2f s" % x if x >= 1 else "%.1f ms" % (x * 1000)
    ok = lambda x: x is not None and not isinstance(x, Failed)
    ratio = "%.2fx" % (t / t_floor) if ok(t) and ok(t_floor) and t_floor else "—"
    return "| %d | %s | %s | %s | %s |" % (n, what, shown(t), shown(t_floor), ratio)


class Rows(list):
    """The table's rows, each also printed to stderr as it is measured."""

    def append(self, row):
        print(show_row(*row), file=sys.stderr, flush=True)
        super().append(row)


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
    subprocess.run(["cargo", "clean", "--release", "-q", "-p", "migrator-bench-embedded"], cwd=crate, env=env,
                   check=True)
    start = time.perf_counter()
    build()
    clean = time.perf_counter() - start
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
    return binary, touched, edited, os.path.getsize(binary), clean


SQLX = os.path.join(os.path.expanduser("~"), ".cache", "migrator-bench-tools", "bin", "sqlx")
ALEMBIC_PY = os.environ.get("MIGRATOR_ALEMBIC_PYTHON",
                            os.path.join(os.path.expanduser("~"), ".cache", "migrator-alembic-1.20", "bin", "python"))
PEER_MAX = int(os.environ.get("MIGRATOR_BENCH_PEER_MAX", "10000"))


def alembic_cmd(ini, *args):
    return [ALEMBIC_PY, "-m", "alembic", "-c", ini] + list(args)


def bench(n, migrator, rows, memory):
    """SQLite at N revisions: apply from empty against the floor and the
    peers, a no-op upgrade, the read commands, the embedded binary."""
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
        peers = n <= PEER_MAX
        sqlx_dir = write_sqlx(n, work) if peers and os.path.exists(SQLX) else None
        ini = write_alembic(n, work) if peers and os.path.exists(ALEMBIC_PY) else None
        alembic_env = dict(os.environ, BENCH_URL="sqlite:///" + db)
        peer_runs = 3 if n <= 1000 else 1
        for mode, floor in (("per-revision", "floor_per_revision.sql"), ("all", "floor_all.sql")):
            entries = [
                dict(cmd=["sqlite3", db], stdin=os.path.join(work, floor), setup=fresh, runs=runs),
                dict(cmd=[migrator, "-q", "--dir", "migrations", "-d", url, "--transaction-mode", mode, "upgrade",
                          "head"], setup=fresh, runs=runs),
            ]
            names = []
            if mode == "per-revision" and sqlx_dir:
                entries.append(dict(cmd=[SQLX, "migrate", "run", "--source", sqlx_dir, "--database-url",
                                         url + "?mode=rwc"], setup=fresh, runs=peer_runs))
                names.append("peer: sqlx-cli `migrate run` from empty (per-revision)")
            if ini:
                entries.append(dict(cmd=alembic_cmd(ini, "upgrade", "head"), setup=fresh, runs=peer_runs,
                                    env=dict(alembic_env, BENCH_MODE=mode)))
                names.append("peer: Alembic `upgrade head` from empty (%s)" % mode)
            t_floor, t_mig, *t_peers = timed_in_turns(entries, work)
            rows.append((n, "apply from empty, %s (floor: sqlite3)" % mode, t_mig, t_floor))
            for name, t in zip(names, t_peers):
                rows.append((n, name, t, t_floor))
        # Up to date: a no-op upgrade.
        fresh()
        subprocess.run([migrator, "-q", "--dir", "migrations", "-d", url, "upgrade", "head"], cwd=work, check=True)
        t_floor_noop = timed(["sqlite3", db, "SELECT version_num FROM migrator_version;"], work, runs=7)
        t_noop = timed([migrator, "-q", "--dir", "migrations", "-d", url, "upgrade", "head"], work, runs=7)
        rows.append((n, "no-op upgrade head (--dir)", t_noop, t_floor_noop))
        for cmd in ("history", "heads"):
            rows.append((n, cmd + " (--dir)", timed([migrator, "--dir", "migrations", cmd], work, runs=5), None))
        if sqlx_dir:
            sqlx_db = os.path.join(work, "sqlx.db")
            subprocess.run([SQLX, "migrate", "run", "--source", sqlx_dir, "--database-url",
                            "sqlite://%s?mode=rwc" % sqlx_db], cwd=work, check=True, stdout=subprocess.DEVNULL)
            t = timed([SQLX, "migrate", "run", "--source", sqlx_dir, "--database-url", "sqlite://" + sqlx_db], work,
                      runs=5)
            rows.append((n, "peer: sqlx-cli no-op `migrate run`", t, t_floor_noop))
        if ini:
            alembic_db = os.path.join(work, "alembic.db")
            env = dict(os.environ, BENCH_URL="sqlite:///" + alembic_db)
            subprocess.run(alembic_cmd(ini, "upgrade", "head"), cwd=work, env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t = timed(alembic_cmd(ini, "upgrade", "head"), work, runs=3, env=env)
            rows.append((n, "peer: Alembic no-op `upgrade head`", t, t_floor_noop))
            rows.append((n, "peer: Alembic `history`", timed(alembic_cmd(ini, "history"), work, runs=3, env=env), None))
        # The same history embedded at compile time, as a service ships it.
        embedded_rows(n, work, url, t_floor_noop, rows, memory)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# The embedded binary of each size, kept for the server no-op rows.
EMBEDDED = {}


def embedded_rows(n, work, url, t_floor_noop, rows, memory):
    embedded, touched, edited, size, clean = build_embedded(os.path.join(work, "migrations"))
    keep = os.path.join(tempfile.mkdtemp(prefix="migrator-bench-bin-"), "migrator-embedded-%d" % n)
    shutil.copy(embedded, keep)
    EMBEDDED[n] = keep
    embedded = keep
    mdir = os.path.join(work, "migrations")
    sql_bytes = sum(os.path.getsize(os.path.join(mdir, f)) for f in os.listdir(mdir))
    rows.append((n, "embed_migrations!: release build of the crate after `cargo clean -p` (whole crate)", clean, None))
    rows.append((n, "embed_migrations!: release rebuild after touching one revision file", touched, None))
    rows.append((n, "embed_migrations!: release rebuild after editing one revision file", edited, None))
    memory.append((n, "binary size: %.1f MB (revision files %.1f MB)" % (size / 1e6, sql_bytes / 1e6)))
    print("- %d revisions: %s" % memory[-1], file=sys.stderr, flush=True)
    if url:
        t_noop = timed([embedded, "-q", "-d", url, "upgrade", "head"], work, runs=7)
        rows.append((n, "no-op upgrade head (embedded; database with the N tables)", t_noop, t_floor_noop))
    # A database holding only the bookkeeping at head, with an upgrade log
    # row per revision: what migrator itself costs, without SQLite loading
    # a schema of 2N objects.
    stamped = os.path.join(work, "bookkeeping.db")
    bookkeeping_only(n, stamped, embedded, work)
    s_url = "sqlite://" + stamped
    t_floor_s = timed(["sqlite3", stamped, "SELECT version_num FROM migrator_version;"], work, runs=7)
    rows.append((n, "no-op upgrade head (embedded; bookkeeping tables only)",
                 timed([embedded, "-q", "-d", s_url, "upgrade", "head"], work, runs=7), t_floor_s))
    for cmd in (["history"], ["heads"], ["-d", s_url, "current"], ["-d", s_url, "status"]):
        rows.append((n, cmd[-1] + " (embedded)", timed([embedded] + cmd, work, runs=7), None))
    for cmd in (["-q", "-d", s_url, "upgrade", "head"], ["history"], ["-d", s_url, "status"]):
        memory.append((n, "peak memory, `%s`: %.1f MB" % (" ".join(cmd[-2:] if cmd[0] == "-q" else cmd[-1:]),
                                                            peak_kb([embedded] + cmd, work) / 1024)))


def bookkeeping_only(n, path, embedded, cwd):
    """A database at head holding only what migrator records for an
    upgrade from empty (the version row, one upgrade log row per revision
    with its checksum, the applied digest): the bookkeeping of migrator's
    own offline script for revisions 1..N-1, without their tables, then a
    real `upgrade head` running revision N."""
    if os.path.exists(path):
        os.remove(path)
    url = "sqlite://" + path
    script = subprocess.run([embedded, "-d", url, "upgrade", "--sql", rev_id(n - 1)], cwd=cwd, check=True,
                            stdout=subprocess.PIPE, text=True).stdout
    keep = [line for line in script.splitlines()
            if line.startswith(("CREATE TABLE IF NOT EXISTS", 'INSERT INTO "migrator_', 'UPDATE "migrator_'))]
    subprocess.run(["sqlite3", path], input="\n".join(["BEGIN;"] + keep + ["COMMIT;"]), text=True, check=True)
    subprocess.run([embedded, "-q", "-d", url, "upgrade", "head"], cwd=cwd, check=True)


def bench_large(n, rows, memory):
    """Sizes past what an apply from empty can do in a benchmark run: the
    embedded binary's read commands and a no-op upgrade on bookkeeping."""
    work = tempfile.mkdtemp(prefix="migrator-bench-%d-" % n)
    try:
        generate(n, work, floors=False)
        embedded_rows(n, work, None, None, rows, memory)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench_sections(migrator, rows):
    """One revision with a long section: 60,000 statements applied (the
    floor: sqlite3 running the same statements in one transaction), and
    the offline script of 100,000 statements (the floor: sqlite3 running
    that script). Rows are listed under the statement count."""
    work = tempfile.mkdtemp(prefix="migrator-bench-sections-")
    try:
        for count in (60000, 100000):
            m = os.path.join(work, "m%d" % count)
            os.makedirs(m)
            inserts = "\n".join("INSERT INTO t (id, v) VALUES (%d, 'value %d; x');" % (i, i) for i in range(count))
            with open(os.path.join(m, "a.sql"), "w") as f:
                f.write("-- long\n-- Revision ID: a1\n-- migrate:up\nCREATE TABLE t (id INTEGER, v TEXT);\n%s\n"
                        "-- migrate:down\nDROP TABLE t;\n" % inserts)
            with open(os.path.join(work, "plain%d.sql" % count), "w") as f:
                f.write("BEGIN;\nCREATE TABLE t (id INTEGER, v TEXT);\n%s\nCOMMIT;\n" % inserts)

        def fresh(*names):
            def go():
                for name in names:
                    for suffix in ("", "-journal", "-wal", "-shm", "-migrator-lock"):
                        p = os.path.join(work, name + suffix)
                        if os.path.exists(p):
                            os.remove(p)
            return go

        ours, floor = timed_in_turns([
            {"cmd": [migrator, "--dir", "m60000", "-q", "-d", "sqlite://a.db", "upgrade"], "setup": fresh("a.db")},
            {"cmd": ["sqlite3", "b.db"], "stdin": os.path.join(work, "plain60000.sql"), "setup": fresh("b.db")},
        ], work)
        rows.append((60000, "statements in one section, applied (sqlite3: the same in one transaction)", ours, floor))
        script = os.path.join(work, "script.sql")

        def offline():
            with open(script, "w") as out:
                subprocess.run([migrator, "--dir", "m100000", "-d", "sqlite://c.db", "upgrade", "--sql"], cwd=work,
                               stdout=out, check=True)
        offline()
        ours, floor = timed_in_turns([
            {"cmd": [migrator, "--dir", "m100000", "-d", "sqlite://c.db", "upgrade", "--sql"]},
            {"cmd": ["sqlite3", "d.db"], "stdin": script, "setup": fresh("d.db")},
        ], work)
        rows.append((100000, "statements written as an offline script (sqlite3: running it)", ours, floor))
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
                   "statements_done INTEGER, tool_version VARCHAR(32) NOT NULL, applied_digest VARCHAR(32));")
    else:
        out.append("CREATE TABLE IF NOT EXISTS migrator_version (version_num VARCHAR(32) NOT NULL, "
                   "CONSTRAINT migrator_version_pkc PRIMARY KEY (version_num));")
        out.append("CREATE TABLE IF NOT EXISTS migrator_log (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, "
                   "revision VARCHAR(32) NOT NULL, operation VARCHAR(16) NOT NULL, checksum VARCHAR(64), "
                   "started_at VARCHAR(32) NOT NULL, finished_at VARCHAR(32), success BOOLEAN NOT NULL, error TEXT, "
                   "statements_done INTEGER, tool_version VARCHAR(32) NOT NULL, applied_digest VARCHAR(32));")
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
               "statements_done, tool_version, applied_digest) VALUES ('%s', 'upgrade', '%s', '2026-01-01 00:00:00.000', "
               "%s, %s, NULL, %s, 'migrator 0.1.0', " + ("'%s')" % ("0" * 32)))
        if dialect == "postgres":
            body = stmts + [version, log % (rid, "0" * 64, "'2026-01-01 00:00:00.001'", "true", "NULL")]
            out.append(("BEGIN;\n%s;\nCOMMIT;" if mode == "per-revision" else "%s;") % ";\n".join(body))
        else:
            out.append(log % (rid, "0" * 64, "NULL", "0", "0") + ";")
            for k, st in enumerate(stmts):
                out.append(st + ";")
                out.append("UPDATE migrator_log SET statements_done = %d WHERE id = LAST_INSERT_ID();" % (k + 1))
            out.append("BEGIN;\n%s;\nUPDATE migrator_log SET success = 1, finished_at = '2026-01-01 00:00:00.001', "
                       "statements_done = 2, applied_digest = '%s' WHERE revision = '%s';\nCOMMIT;" % (version, "0" * 32, rid))
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
    # MySQL commits DDL implicitly: migrator refuses `all` there (one
    # transaction cannot hold the run), so only per-revision runs.
    modes = ["per-revision", "all"] if dialect == "postgres" else ["per-revision"]
    for mode in modes:
        floor = os.path.join(work, "floor_%s_%s.sql" % (dialect, mode))
        with open(floor, "w") as f:
            f.write(server_floor(n, dialect, mode))
        runs = 3 if n <= 1000 else 1
        entries = [
            dict(cmd=client, stdin=floor, setup=fresh, runs=runs),
            dict(cmd=[migrator, "-q", "--dir", "migrations", "-d", url, "--transaction-mode", mode, "upgrade", "head"],
                 setup=fresh, runs=runs),
        ]
        with_sqlx = mode == "per-revision" and os.path.exists(SQLX) and n <= PEER_MAX
        if with_sqlx:
            sqlx_dir = os.path.join(work, "sqlx")
            if not os.path.isdir(sqlx_dir):
                write_sqlx(n, work)
            entries.append(dict(cmd=[SQLX, "migrate", "run", "--source", sqlx_dir, "--database-url", url],
                                setup=fresh, runs=runs))
        t_floor, t_mig, *t_sqlx = timed_in_turns(entries, work)
        client_name = "psql" if dialect == "postgres" else "mariadb"
        rows.append((n, "%s: apply from empty, %s (floor: %s)" % (dialect, mode, client_name), t_mig, t_floor))
        for t in t_sqlx:
            rows.append((n, "%s: peer: sqlx-cli `migrate run` from empty" % dialect, t, t_floor))
    fresh()
    subprocess.run([migrator, "-q", "--dir", "migrations", "-d", url, "upgrade", "head"], cwd=work, check=True)
    t_noop = timed([migrator, "-q", "--dir", "migrations", "-d", url, "upgrade", "head"], work, runs=5)
    t_floor_noop = timed(client + (["-c"] if dialect == "postgres" else ["-e"]) + ["SELECT version_num FROM migrator_version"],
                         work, runs=5)
    rows.append((n, "%s: no-op upgrade head (--dir)" % dialect, t_noop, t_floor_noop))
    if n in EMBEDDED:
        # The same history, so the same checksums and applied digest.
        t_noop = timed([EMBEDDED[n], "-q", "-d", url, "upgrade", "head"], work, runs=7)
        rows.append((n, "%s: no-op upgrade head (embedded)" % dialect, t_noop, t_floor_noop))
    subprocess.run(admin_cmd(reset_sql[0].split(";")[0]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10000, 100000]
    migrator = os.environ.get("MIGRATOR_BIN") or os.path.join(target_dir(), "release", "migrator")
    if not os.path.exists(migrator):
        sys.exit("no migrator binary at %s; run bench/run, which builds it" % migrator)
    if not shutil.which("sqlite3"):
        sys.exit("sqlite3 is not installed (apt-get install sqlite3)")
    rows = Rows()
    memory = []
    for n in sizes:
        if n > 10000:
            bench_large(n, rows, memory)
        else:
            bench(n, migrator, rows, memory)
    bench_sections(migrator, rows)
    # The servers, at the sizes up to MIGRATOR_BENCH_SERVER_MAX (default 10000).
    server_max = int(os.environ.get("MIGRATOR_BENCH_SERVER_MAX", "10000"))
    for n in [n for n in sizes if n <= server_max]:
        work = tempfile.mkdtemp(prefix="migrator-bench-server-%d-" % n)
        try:
            generate(n, work)
            for dialect in ("postgres", "mysql"):
                server_bench(n, migrator, rows, work, dialect)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    for kept in EMBEDDED.values():
        shutil.rmtree(os.path.dirname(kept), ignore_errors=True)
    print("| revisions | measurement | time | floor | ratio |")
    print("|---:|---|---:|---:|---:|")
    for row in rows:
        print(show_row(*row))
    print()
    for n, what in memory:
        print("- %d revisions: %s" % (n, what))


if __name__ == "__main__":
    main()
