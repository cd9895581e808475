//! Planner tests: a small graph language in, the steps and rows out.

use expect_test::{Expect, expect};

use crate::{Checksum, Dialect, Direction, Graph, HeaderLines, List, Migrations, Revision, RevisionIndex, Section};

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
                timeouts: Default::default(),
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
    let mut rows: Vec<RevisionIndex> = Vec::new();
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
fn ids_and_labels_that_cannot_be_told_apart_and_repeated_parents() {
    let m = migrations("abc\nABC <- abc\nAbD <- ABC\nabd <- AbD\nb <- abd abd\nc <- b label: c");
    expect![[r#"
        4 problems in the migrations:
        001_ABC.sql:1: revision id `ABC` differs from `abc` (000_abc.sql) only in case, which MySQL's version table cannot tell apart; give one of them a new id
        002_AbD.sql:1: revision id `AbD` differs from `abd` (003_abd.sql) only in case, which MySQL's version table cannot tell apart; give one of them a new id
        004_b.sql:2: revision b names `abd` twice in Revises; keep one
        005_c.sql:4: branch label `c` is also the id of revision 005_c.sql; choose another label"#]]
    .assert_eq(&Graph::new(&m).unwrap_err().to_string());
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

mod properties {
    use proptest::prelude::*;

    use super::migrations;
    use crate::{Dialect, Graph, RevisionIndex};

    /// A graph in the test language from shape choices: each revision
    /// extends, branches from, or merges earlier ones, or starts a new
    /// root, and may depend on an earlier revision.
    fn spec(shape: &[(u8, u8, u8, bool)]) -> String {
        let mut lines = Vec::new();
        let mut heads: Vec<usize> = Vec::new();
        // Each revision with everything below it, to keep links
        // non-redundant (a redundant link is a verification error).
        let mut below: Vec<Vec<bool>> = Vec::new();
        for (i, &(kind, a, b, dep)) in shape.iter().enumerate() {
            let mut line = format!("r{i}");
            let mut parents: Vec<usize> = if i == 0 || kind % 8 == 0 {
                Vec::new()
            } else if kind % 8 == 1 && heads.len() >= 2 {
                let x = heads[a as usize % heads.len()];
                let y = heads[b as usize % heads.len()];
                if x == y || below[x][y] || below[y][x] {
                    vec![x]
                } else {
                    vec![x, y]
                }
            } else if kind % 8 == 2 {
                vec![a as usize % i]
            } else {
                vec![heads[a as usize % heads.len()]]
            };
            if !parents.is_empty() {
                line += " <-";
                for p in &parents {
                    line += &format!(" r{p}");
                }
            }
            let mut links = parents.clone();
            if dep && i > 1 {
                let d = b as usize % i;
                if parents.iter().all(|&p| p != d && !below[p][d] && !below[d][p]) {
                    line += &format!(" dep: r{d}");
                    links.push(d);
                }
            }
            let mut mine = vec![false; shape.len()];
            mine[i] = true;
            for &l in &links {
                for (k, yes) in below[l].iter().enumerate() {
                    mine[k] |= *yes;
                }
            }
            below.push(mine);
            heads.retain(|h| !parents.contains(h));
            parents.clear();
            heads.push(i);
            lines.push(line);
        }
        lines.join("\n")
    }

    fn shapes() -> impl Strategy<Value = Vec<(u8, u8, u8, bool)>> {
        prop::collection::vec(
            (any::<u8>(), any::<u8>(), any::<u8>(), prop::bool::weighted(0.2)),
            1..16,
        )
    }

    /// Every step's parents and dependencies are applied before it; no
    /// step runs twice.
    fn check_upgrade_order(g: &Graph<'_>, start: &[RevisionIndex], steps: &[RevisionIndex]) {
        let mut applied = g.ancestors(start, true);
        for &s in steps {
            assert!(!applied[s], "{} runs twice or was already applied", g.revision(s).id);
            for &d in g.down(s) {
                assert!(applied[d], "{} runs before {}", g.revision(s).id, g.revision(d).id);
            }
            applied[s] = true;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn upgrade_then_downgrade_is_the_identity(shape in shapes(), pick in any::<u8>(), to in any::<u8>()) {
            let m = migrations(&spec(&shape));
            let g = Graph::new(&m).unwrap();
            let start_rev = RevisionIndex::new(pick as usize % g.len());
            let start = g.plan_upgrade(&[], &g.revision(start_rev).id, Dialect::Sqlite).unwrap();
            check_upgrade_order(&g, &[], &start.steps.iter().map(|s| s.revision).collect::<Vec<_>>());
            let rows0: Vec<RevisionIndex> = start.after.iter().collect();

            // Upgrade to a descendant of the starting revision, then back.
            let above: Vec<RevisionIndex> = g.indices().filter(|&i| g.descendants(&[start_rev], false)[i]).collect();
            let target = above[to as usize % above.len()];
            let up = g.plan_upgrade(&rows0, &g.revision(target).id, Dialect::Sqlite).unwrap();
            let up_steps: Vec<RevisionIndex> = up.steps.iter().map(|s| s.revision).collect();
            check_upgrade_order(&g, &rows0, &up_steps);
            let rows1: Vec<RevisionIndex> = up.after.iter().collect();
            // A downgrade to the start reverts what stands above its
            // versioned children (as in Alembic, a revision that only
            // depends on the start stays): the identity holds when the
            // upgrade ran nothing else.
            let reverted = g.descendants(g.children(start_rev), true);
            let only_above = up_steps.iter().all(|&s| reverted[s]);
            let down = g.plan_downgrade(&rows1, &g.revision(start_rev).id, Dialect::Sqlite).unwrap();
            let mut down_steps: Vec<RevisionIndex> = down.steps.iter().map(|s| s.revision).collect();
            let mut seen = down_steps.clone();
            seen.sort_unstable();
            seen.dedup();
            prop_assert_eq!(seen.len(), down_steps.len(), "a step runs twice");
            if only_above {
                let mut back: Vec<RevisionIndex> = down.after.iter().collect();
                back.sort_unstable();
                let mut expected = rows0.clone();
                expected.sort_unstable();
                prop_assert_eq!(back, expected, "rows after the round trip");
                down_steps.sort_unstable();
                let mut ups = up_steps.clone();
                ups.sort_unstable();
                prop_assert_eq!(down_steps, ups, "the downgrade reverts exactly what the upgrade ran");
            }
        }

        #[test]
        fn everything_up_and_everything_down(shape in shapes()) {
            let m = migrations(&spec(&shape));
            let g = Graph::new(&m).unwrap();
            let up = g.plan_upgrade(&[], "heads", Dialect::Sqlite).unwrap();
            let steps: Vec<RevisionIndex> = up.steps.iter().map(|s| s.revision).collect();
            check_upgrade_order(&g, &[], &steps);
            prop_assert_eq!(steps.len(), g.len(), "every revision runs once");
            let rows: Vec<RevisionIndex> = up.after.iter().collect();
            let down = g.plan_downgrade(&rows, "base", Dialect::Sqlite).unwrap();
            prop_assert!(down.after.0.is_empty());
            // Reverse order: nothing is reverted while something above it is applied.
            let mut applied = vec![true; g.len()];
            for s in &down.steps {
                for c in g.indices().filter(|&c| g.down(c).contains(&s.revision)) {
                    prop_assert!(!applied[c], "{} reverted before {}", g.revision(s.revision).id, g.revision(c).id);
                }
                applied[s.revision] = false;
            }
            prop_assert_eq!(down.steps.len(), g.len());
        }
    }
}

#[test]
fn redundant_links_are_refused_with_the_fix() {
    let mut m = migrations("a\nb <- a\nc <- b dep: a\nd <- c b");
    m.allow_multiple_heads = false;
    expect![[r#"
        2 problems in the migrations:
        002_c.sql:3: revision c names a in Depends On, but b already comes after it; remove a from Depends On
        003_d.sql:2: revision d names b in Revises, but c already comes after it; remove b from Revises"#]]
    .assert_eq(&Graph::new(&m).unwrap_err().to_string());
}

#[test]
fn stamps_move_rows_like_alembic() {
    let m = migrations(BRANCHY);
    let g = Graph::new(&m).unwrap();
    let names = |rows: &crate::VersionRows| {
        let mut v: Vec<&str> = rows.iter().map(|r| &*g.revision(r).id).collect();
        v.sort_unstable();
        v.join(" ")
    };
    let idx = |id: &str| g.index_of(id).unwrap();
    let stamp =
        |rows: &[RevisionIndex], targets: &[&str], purge| g.plan_stamp(rows, targets, purge).map(|p| names(&p.after));
    assert_eq!(stamp(&[], &["b"], false).unwrap(), "b");
    // Several targets, one of them on another branch.
    assert_eq!(stamp(&[idx("b")], &["d", "c"], false).unwrap(), "c d");
    // Down to a branch point, and up across a merge.
    assert_eq!(stamp(&[idx("d"), idx("e")], &["a"], false).unwrap(), "a");
    assert_eq!(stamp(&[idx("d"), idx("e")], &["n"], false).unwrap(), "n");
    assert_eq!(stamp(&[idx("n")], &["base"], false).unwrap(), "");
    // Purge forgets the rows first; an unrelated target is then a new branch.
    assert_eq!(stamp(&[idx("n")], &["c"], true).unwrap(), "c");
    assert!(stamp(&[], &["zzz"], false).is_err());
    // Rows below and above the target at once: no single way to move them
    // (Alembic fails an assertion here).
    let err = stamp(&[idx("b"), idx("m")], &["d"], false).unwrap_err().to_string();
    assert!(err.contains("the rows lie both below (b) and above d"), "{err}");
}
