//! Planner tests: a small graph language in, the steps and rows out.

use expect_test::{Expect, expect};

use crate::{Checksum, Dialect, Direction, Graph, HeaderLines, List, Migrations, Revision, Section};

/// `id [<- parent ...] [dep: dep ...] [label: label ...]`, one per line, in
/// file order.
fn migrations(spec: &str) -> Migrations {
    let revisions = spec
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(n, line)| {
            let mut id = "";
            let (mut revises, mut deps, mut labels) = (Vec::new(), Vec::new(), Vec::new());
            let mut into = 0;
            for word in line.split_whitespace() {
                match word {
                    "<-" => into = 1,
                    "dep:" => into = 2,
                    "label:" => into = 3,
                    w if id.is_empty() => id = w,
                    w => [&mut revises, &mut deps, &mut labels][into - 1].push(w.to_owned().into()),
                }
            }
            let section = |direction| Section {
                direction,
                dialect: None,
                transactional: true,
                sql: "".into(),
                line: 1,
            };
            let irreversible = id.starts_with("irr");
            let mut sections = vec![section(Direction::Up)];
            if !irreversible {
                sections.push(section(Direction::Down));
            }
            Revision {
                id: id.to_owned().into(),
                message: String::new().into(),
                path: format!("{n:03}_{id}.sql").into(),
                revises: List::Owned(revises),
                depends_on: List::Owned(deps),
                branch_labels: List::Owned(labels),
                create_date: None,
                sections: List::Owned(sections),
                checksums: [Checksum([0; 32]); 3],
                lines: HeaderLines {
                    id: 1,
                    revises: 2,
                    depends_on: 3,
                    branch_labels: 4,
                },
            }
        })
        .collect();
    Migrations {
        revisions: List::Owned(revisions),
        allow_multiple_heads: true,
    }
}

/// Runs `commands` (`up TARGET` / `down TARGET`, separated by `;`) from an
/// empty database, printing each plan's steps and the rows after it.
fn check(spec: &str, commands: &str, expect: Expect) {
    let m = migrations(spec);
    let graph = Graph::new(&m).unwrap();
    let mut rows: Vec<usize> = Vec::new();
    let mut out = String::new();
    for cmd in commands.split(';').map(str::trim) {
        let (verb, target) = cmd.split_once(' ').unwrap();
        let plan = match verb {
            "up" => graph.plan_upgrade(&rows, target, Dialect::Sqlite),
            "down" => graph.plan_downgrade(&rows, target, Dialect::Sqlite),
            _ => panic!("unknown verb {verb}"),
        };
        match plan {
            Ok(plan) => {
                let steps: Vec<String> = plan
                    .steps
                    .iter()
                    .map(|s| {
                        let sign = if s.direction == Direction::Up { '+' } else { '-' };
                        format!("{sign}{}", graph.revision(s.revision).id)
                    })
                    .collect();
                rows = plan.after.iter().collect();
                let mut names: Vec<&str> = rows.iter().map(|&r| &*graph.revision(r).id).collect();
                names.sort_unstable();
                out += &format!("{cmd}: [{}] rows [{}]\n", steps.join(" "), names.join(" "));
            }
            Err(e) => out += &format!("{cmd}: error: {e}\n"),
        }
    }
    expect.assert_eq(&out);
}

const CHAIN: &str = "a\nb <- a\nc <- b\nd <- c";

#[test]
fn linear_chain() {
    check(
        CHAIN,
        "up head; down -1; up +1; down base; up c; up -1; down +1; up b; down d; down b; down -2; down -1",
        expect![[r#"
            up head: [+a +b +c +d] rows [d]
            down -1: [-d] rows [c]
            up +1: [+d] rows [d]
            down base: [-d -c -b -a] rows []
            up c: [+a +b +c] rows [c]
            up -1: error: `-1` points down from the current revision; use `migrator downgrade` to move down
            down +1: error: `+1` points up from the current revision; use `migrator upgrade` to move up
            up b: [] rows [c]
            down d: error: `d` is not below the database's current revision (c); nothing would be downgraded. Use `migrator upgrade d` to move up, or pick an applied revision
            down b: [-c] rows [b]
            down -2: [-b -a] rows []
            down -1: error: `-1` walks past the base of the history; use a smaller step
        "#]],
    );
}

#[test]
fn prefixes_and_relative_symbols() {
    check(
        "abc1\nabc2 <- abc1\nxyz9 <- abc2",
        "up abc1; up xyz; up abc; down abc2; up head-1; up abc1+2; up +1",
        expect![[r#"
            up abc1: [+abc1] rows [abc1]
            up xyz: [+abc2 +xyz9] rows [xyz9]
            up abc: error: `abc` is ambiguous: it starts abc1, abc2; type more characters
            down abc2: [-xyz9] rows [abc2]
            up head-1: [] rows [abc2]
            up abc1+2: [+xyz9] rows [xyz9]
            up +1: error: `+1` walks past the head of the history; use a smaller step
        "#]],
    );
}

const BRANCHY: &str = "
    a
    b <- a
    c <- a label: feature
    d <- b
    e <- c
    m <- d e
    n <- m
";

#[test]
fn branches_and_merges_move_rows_like_alembic() {
    check(
        BRANCHY,
        "up b; up feature@+1; up m; up heads; down m; down -1; down e; down base",
        expect![[r#"
            up b: [+a +b] rows [b]
            up feature@+1: [+c] rows [b c]
            up m: [+e +d +m] rows [m]
            up heads: [+n] rows [n]
            down m: [-n] rows [m]
            down -1: error: `-1` is ambiguous: revision m has several parents (d, e); name the target revision, or qualify it with a branch label (`<label>@-1`)
            down e: [-m] rows [d e]
            down base: [-d -b -e -c -a] rows []
        "#]],
    );
}

#[test]
fn independent_branches_get_a_row_each() {
    check(
        "
        a1 label: alpha
        a2 <- a1
        b1 label: beta
        b2 <- b1
        ",
        "up alpha@head; up beta@+1; up heads; down beta@base; down alpha@-1; up head",
        expect![[r#"
            up alpha@head: [+a1 +a2] rows [a2]
            up beta@+1: [+b1] rows [a2 b1]
            up heads: [+b2] rows [a2 b2]
            down beta@base: [-b2 -b1] rows [a2]
            down alpha@-1: [-a2] rows [a1]
            up head: error: `head` is ambiguous: there are several heads (a2, b2); name one of them, use `heads` for all, or `<label>@head` for one branch
        "#]],
    );
}

#[test]
fn dependencies_order_steps_without_rows() {
    check(
        "
        a1 label: alpha
        a2 <- a1
        b1 label: beta
        b2 <- b1 dep: a2
        ",
        "up beta@head; down a1; down base",
        expect![[r#"
            up beta@head: [+a1 +a2 +b1 +b2] rows [b2]
            down a1: [-b2 -a2] rows [a1 b1]
            down base: [-a1 -b1] rows []
        "#]],
    );
}

#[test]
fn irreversible_revisions_stop_a_downgrade_before_it_starts() {
    check(
        "a\nirr_b <- a\nc <- irr_b",
        "up head; down -1; down base",
        expect![[r#"
            up head: [+a +irr_b +c] rows [c]
            down -1: [-c] rows [irr_b]
            down base: error: revision irr_b (001_irr_b.sql) has no `-- migrate:down` section for sqlite, so it cannot be downgraded; nothing was run. Add a down section, or stop the downgrade above it
        "#]],
    );
}

#[test]
fn verification_reports_every_problem() {
    let mut m = migrations("a\nb <- a\nb <- a\nc <- zz\nd <- e\ne <- d label: x\nf <- a label: x");
    m.allow_multiple_heads = false;
    let errors = Graph::new(&m).unwrap_err();
    expect![[r#"
        4 problems in the migrations:
        002_b.sql:1: duplicate revision id `b`, already used by 001_b.sql; give one of them a new id
        003_c.sql:2: revision c revises `zz`, which does not exist; check the id, or add the missing revision file
        005_e.sql:2: cycle in the revision graph: d (004_d.sql) -> e (005_e.sql) -> d (004_d.sql) (each revises or depends on the next); remove one of these links
        006_f.sql:4: duplicate branch label `x`, already on e (005_e.sql)"#]]
    .assert_eq(&errors.to_string());
}

#[test]
fn accidental_heads_are_refused_but_labelled_branches_pass() {
    let mut m = migrations("a\nb <- a\nc <- a");
    m.allow_multiple_heads = false;
    expect![[r#"002_c.sql:1: multiple heads: b (001_b.sql), c (002_c.sql); no branch label tells them apart. Join them with `migrator merge heads -m "merge heads"`, or give each branch its own label (`allow_multiple_heads = true` turns this check off)"#]]
    .assert_eq(&Graph::new(&m).unwrap_err().to_string());
    let mut m = migrations("a\nb <- a\nc <- a label: feature");
    m.allow_multiple_heads = false;
    assert!(Graph::new(&m).is_ok());
}
