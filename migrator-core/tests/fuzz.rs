//! Fuzzing the pure core with proptest: revision files mutated byte by
//! byte, arbitrary SQL for the splitter, arbitrary strings for URLs and
//! identifiers. Nothing may panic, and no case may hang: a watchdog ends
//! the process, naming the case, when one takes longer than ten seconds.
//! Bounded (a few thousand cases, seconds) so that CI runs it every time;
//! `PROPTEST_CASES` runs more.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

use migrator_core::{
    DatabaseUrl, Dialect, Direction, Graph, SourceFile, parse_revision, parse_sources, redact, split_statements,
};
use proptest::prelude::*;

/// Files the mutations start from: every feature of the format.
const SEEDS: [&str; 4] = [
    "-- add user preferences\n--\n-- Revision ID: a1b2c3d4e5f6\n-- Revises: 9f8e7d6c5b4a\n-- Create Date: 2026-01-15 14:30:00\n\
     -- Branch Labels: accounts\n-- Depends On: 77aa88bb99cc\n\n-- migrate:up\nCREATE TABLE p (user_id INTEGER NOT NULL, k TEXT);\n\n\
     -- migrate:down\nDROP TABLE p;\n\n-- migrate:up postgresql transaction:false\nCREATE INDEX CONCURRENTLY ix ON p (user_id);\n",
    "-- base\n-- Revision ID: 9f8e7d6c5b4a\n-- migrate:up\nCREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET n = n + 1; END;\n\
     -- migrate:up mysql\nCREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END IF; END;\n-- migrate:down\nDROP TRIGGER t;\n",
    "-- m\n-- Revision ID: 77aa88bb99cc\n-- Revises: 9f8e7d6c5b4a\n-- migrate:up postgresql\nDO $$ BEGIN PERFORM 1; END $$;\n\
     SELECT E'it\\'s', $q$x;y$q$; /* a /* b */ c */ SELECT 2;\n-- migrate:up\nINSERT INTO t VALUES ('a;b', \"c;d\", `e;f`);\n",
    "-- merge\n-- Revision ID: m1\n-- Revises: a1b2c3d4e5f6, 77aa88bb99cc\n-- migrate:up\n-- migrate:down\n",
];

/// Characters that matter to the format and to SQL.
const TRICKY: &[char] = &[
    '-', ';', '\'', '"', '`', '$', '/', '*', '#', '\\', '\n', '\r', '\0', ':', ',', '@', '+', '(', ')', '[', ']', 'E',
    ' ', '\t', 'é', '\u{feff}', '!',
];

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, char),
    Delete(usize),
    Replace(usize, char),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let ch = prop_oneof![proptest::sample::select(TRICKY), any::<char>()];
    prop_oneof![
        (any::<usize>(), ch.clone()).prop_map(|(i, c)| Edit::Insert(i, c)),
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), ch).prop_map(|(i, c)| Edit::Replace(i, c)),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Edit::Duplicate(i, n)),
    ]
}

fn mutate(seed: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for e in edits {
        let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
        match *e {
            Edit::Insert(i, c) => chars.insert(at(i, chars.len() + 1), c),
            Edit::Delete(i) if !chars.is_empty() => {
                chars.remove(at(i, chars.len()));
            }
            Edit::Replace(i, c) if !chars.is_empty() => {
                let k = at(i, chars.len());
                chars[k] = c;
            }
            Edit::Duplicate(i, n) if !chars.is_empty() => {
                let k = at(i, chars.len());
                let piece: Vec<char> = chars[k..(k + n).min(chars.len())].to_vec();
                chars.splice(k..k, piece);
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

/// Reports each case to a watchdog that ends the process when one hangs.
struct Watchdog {
    tx: Mutex<mpsc::Sender<String>>,
}

impl Watchdog {
    fn start(name: &'static str) -> Watchdog {
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            let mut last = String::from("(none yet)");
            loop {
                match rx.recv_timeout(Duration::from_secs(10)) {
                    Ok(case) => last = case,
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        eprintln!("{name}: a case ran for more than 10 s (a hang): {last:?}");
                        std::process::exit(101);
                    }
                }
            }
        });
        Watchdog { tx: Mutex::new(tx) }
    }

    fn case(&self, what: &str) {
        let _ = self.tx.lock().unwrap().send(what.to_owned());
    }
}

fn exercise_file(text: &str) {
    if let Ok(rev) = parse_revision("fuzz.sql", text) {
        for d in Dialect::ALL {
            for direction in [Direction::Up, Direction::Down] {
                let body = rev.body(direction, d);
                let _ = body.statements(d);
                let _ = body.is_transactional();
            }
            let _ = rev.checksum(d);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn mutated_revision_files_never_panic_or_hang(seed in 0usize..SEEDS.len(), edits in proptest::collection::vec(edit(), 1..12)) {
        static DOG: std::sync::OnceLock<Watchdog> = std::sync::OnceLock::new();
        let dog = DOG.get_or_init(|| Watchdog::start("mutated revision files"));
        let text = mutate(SEEDS[seed], &edits);
        dog.case(&text);
        exercise_file(&text);
        // The same file among the others: the graph checks see it too.
        let files: Vec<SourceFile> = SEEDS
            .iter()
            .enumerate()
            .map(|(i, s)| SourceFile {
                relative: format!("{i}.sql"),
                absolute: format!("/fuzz/{i}.sql").into(),
                text: if i == seed { text.clone() } else { (*s).to_owned() },
            })
            .collect();
        if let Ok(m) = parse_sources(&files, true)
            && let Ok(g) = Graph::new(&m)
        {
            for target in ["heads", "head", "base", "+1", "-1", "accounts@head", "9f8e", "a1b2c3d4e5f6:heads"] {
                for d in Dialect::ALL {
                    let _ = g.plan_upgrade(&[], target, d);
                }
            }
        }
    }

    #[test]
    fn any_text_splits_without_panic_or_hang(text in proptest::collection::vec(prop_oneof![proptest::sample::select(TRICKY), any::<char>()], 0..300)) {
        static DOG: std::sync::OnceLock<Watchdog> = std::sync::OnceLock::new();
        let dog = DOG.get_or_init(|| Watchdog::start("the splitter"));
        let text: String = text.into_iter().collect();
        dog.case(&text);
        for d in Dialect::ALL {
            let statements = split_statements(&text, d);
            // Every statement is a piece of the text, in order.
            let mut from = 0;
            for s in statements {
                let at = text[from..].find(s.sql).map(|i| i + from);
                prop_assert!(at.is_some(), "{d}: {:?} is not in order in {text:?}", s.sql);
                from = at.unwrap_or(from) + s.sql.len();
            }
        }
    }

    #[test]
    fn any_string_as_a_url_or_identifier(text in ".{0,80}", prefix in proptest::sample::select(&["", "sqlite:", "sqlite://", "postgres://", "mysql://", "mariadb://u:p@", "postgresql+x://"][..])) {
        let url = format!("{prefix}{text}");
        let _ = redact(&url);
        if let Ok(u) = DatabaseUrl::parse(&url) {
            let _ = u.to_string();
            let _ = u.sqlite_target();
        }
        let _ = migrator_core::check_revision_id(&text);
        let _ = migrator_core::check_branch_label(&text);
        let _ = migrator_core::bookkeeping::check_schema(&text);
    }
}
