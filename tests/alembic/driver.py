"""Runs command scripts through Alembic itself, for the differential tests.

Usage: python driver.py ROOT

ROOT holds one folder per generated graph, each with an Alembic script
directory (env.py, versions/*.py) and commands.txt (one command a line:
`upgrade T`, `downgrade T`, `stamp T...`, `stamp --purge T...`). For each
command the driver appends one line to results.txt:

    <ok|err>\t<warning flag>\t<sorted version rows, comma separated>\t<steps>

where steps are the revision scripts run by that command, in order, as
`+id` (upgrade) or `-id` (downgrade), space separated, and the warning
flag is `W` when Alembic warned that a relative step was ambiguous.
"""

import os
import sys
import warnings

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

ENV_PY = """
from alembic import context

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""


def run_graph(gdir):
    with open(os.path.join(gdir, "env.py"), "w") as f:
        f.write(ENV_PY)
    db = os.path.join(gdir, "alembic.db")
    engine = sa.create_engine("sqlite:///" + db)
    with engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE steps (id INTEGER PRIMARY KEY AUTOINCREMENT, step TEXT NOT NULL)")
    cfg = Config()
    cfg.set_main_option("script_location", gdir)
    cfg.attributes["engine"] = engine
    last = 0
    out = []
    with open(os.path.join(gdir, "commands.txt")) as f:
        commands = [line.split() for line in f if line.strip()]
    for words in commands:
        verb, args = words[0], words[1:]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                if verb == "upgrade":
                    command.upgrade(cfg, args[0])
                elif verb == "downgrade":
                    command.downgrade(cfg, args[0])
                elif verb == "stamp":
                    purge = "--purge" in args
                    command.stamp(cfg, [a for a in args if a != "--purge"], purge=purge)
                else:
                    raise SystemExit("unknown verb " + verb)
                status = "ok"
            except Exception as e:  # every failure counts, whatever its type
                status = "err"
        warned = "W" if any("ambiguous" in str(w.message) for w in caught) else ""
        with engine.connect() as c:
            has_table = c.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone()
            rows = sorted(r[0] for r in c.exec_driver_sql("SELECT version_num FROM alembic_version")) if has_table else []
            steps = c.exec_driver_sql("SELECT id, step FROM steps WHERE id > ? ORDER BY id", (last,)).fetchall()
        if steps:
            last = steps[-1][0]
        out.append("%s\t%s\t%s\t%s" % (status, warned, ",".join(rows), " ".join(s for _, s in steps)))
    engine.dispose()
    with open(os.path.join(gdir, "results.txt"), "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    root = sys.argv[1]
    for name in sorted(os.listdir(root)):
        gdir = os.path.join(root, name)
        if os.path.isdir(gdir):
            run_graph(gdir)


if __name__ == "__main__":
    main()
