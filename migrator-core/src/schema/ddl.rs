//! Reading the DDL text databases print (`sqlite_master.sql`,
//! `pg_get_indexdef`, `pg_get_constraintdef`): index parts, foreign keys,
//! named checks, view bodies. Pure: introspection fetches the text, this
//! module takes it apart.

use std::collections::BTreeMap;

use super::ForeignKey;

/// Collapses white space.
pub(crate) fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The column list and `WHERE` of a `CREATE INDEX` statement.
pub(crate) fn index_parts(sql: &str) -> (Vec<String>, Option<String>) {
    let upper = sql.to_ascii_uppercase();
    let Some(on) = upper.find(" ON ") else {
        return (Vec::new(), None);
    };
    let Some(open) = sql[on..].find('(').map(|o| on + o) else {
        return (Vec::new(), None);
    };
    let Some(close) = matching(sql, open) else {
        return (Vec::new(), None);
    };
    let columns = split_top(&sql[open + 1..close])
        .into_iter()
        .map(|c| squash(&unquote(&c)))
        .collect();
    let rest = &sql[close + 1..];
    let predicate = rest
        .to_ascii_uppercase()
        .find("WHERE")
        .map(|w| squash(strip_parens(rest[w + 5..].trim())));
    (columns, predicate)
}

pub(crate) fn unquote(s: &str) -> String {
    let t = s.trim();
    for (a, b) in [('"', '"'), ('`', '`'), ('[', ']')] {
        if t.len() >= 2
            && t.starts_with(a)
            && t.ends_with(b)
            && t[1..t.len() - 1].chars().all(|c| c.is_alphanumeric() || c == '_')
        {
            return t[1..t.len() - 1].to_owned();
        }
    }
    t.to_owned()
}

/// Removes one pair of parentheses around the whole of `s`.
pub(crate) fn strip_parens(s: &str) -> &str {
    let t = s.trim();
    if t.starts_with('(') && matching(t, 0) == Some(t.len() - 1) {
        t[1..t.len() - 1].trim()
    } else {
        t
    }
}

/// The index of the parenthesis closing the one at `open`.
pub(crate) fn matching(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices().skip_while(|(i, _)| *i < open) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits at commas outside parentheses and quotes.
pub(crate) fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut quote: Option<char> = None;
    let mut cur = String::new();
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(cur.trim().to_owned());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_owned());
    }
    out
}

/// `CONSTRAINT name CHECK (expr)` clauses of a `CREATE TABLE`.
pub(crate) fn named_checks(create: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let upper = create.to_ascii_uppercase();
    let mut from = 0;
    while let Some(p) = upper[from..].find("CONSTRAINT ").map(|p| from + p) {
        let rest = &create[p + 11..];
        let name_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let name = unquote(&rest[..name_end]);
        let after = rest[name_end..].trim_start();
        from = p + 11;
        if after.to_ascii_uppercase().starts_with("CHECK")
            && let Some(open) = after.find('(')
            && let Some(close) = matching(after, open)
        {
            out.insert(name, squash(&after[open + 1..close]));
        }
    }
    out
}

/// The `SELECT` of a `CREATE VIEW name AS SELECT ...`.
pub(crate) fn view_body(sql: &str) -> String {
    let upper = sql.to_ascii_uppercase();
    match upper.find(" AS ") {
        Some(p) => sql[p + 4..].trim().trim_end_matches(';').to_owned(),
        None => sql.to_owned(),
    }
}

/// The list in the first parentheses of `s`, and what follows.
pub(crate) fn paren_list(s: &str) -> (Vec<String>, &str) {
    let Some(open) = s.find('(') else {
        return (Vec::new(), s);
    };
    let Some(close) = matching(s, open) else {
        return (Vec::new(), s);
    };
    (
        split_top(&s[open + 1..close]).iter().map(|c| unquote(c)).collect(),
        &s[close + 1..],
    )
}

/// `FOREIGN KEY (a) REFERENCES t(b) ON DELETE CASCADE`, as PostgreSQL
/// prints it.
pub(crate) fn parse_fk(def: &str) -> Option<ForeignKey> {
    let (columns, rest) = paren_list(def);
    let rest = rest.trim_start().strip_prefix("REFERENCES")?.trim_start();
    let open = rest.find('(')?;
    let ref_table = unquote(rest[..open].trim());
    let ref_table = ref_table.rsplit('.').next().unwrap_or(&ref_table).to_owned();
    let (ref_columns, tail) = paren_list(&rest[open..]);
    let action = |key: &str| {
        let upper = tail.to_ascii_uppercase();
        upper.find(key).map_or_else(
            || "NO ACTION".to_owned(),
            |p| {
                let words: Vec<&str> = upper[p + key.len()..].split_whitespace().collect();
                match words.as_slice() {
                    ["SET", x, ..] => format!("SET {x}"),
                    ["NO", "ACTION", ..] => "NO ACTION".to_owned(),
                    [x, ..] => (*x).to_owned(),
                    [] => "NO ACTION".to_owned(),
                }
            },
        )
    };
    Some(ForeignKey {
        columns,
        ref_table,
        ref_columns,
        on_delete: action("ON DELETE"),
        on_update: action("ON UPDATE"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_databases_print() {
        let (cols, pred) = index_parts("CREATE INDEX ix ON t (status, lower(name)) WHERE status IS NOT NULL");
        assert_eq!(cols, ["status", "lower(name)"]);
        assert_eq!(pred.as_deref(), Some("status IS NOT NULL"));
        let (cols, pred) = index_parts(" ON btree (\"name\") WHERE (price > 0)");
        assert_eq!((cols, pred.as_deref()), (vec!["name".to_owned()], Some("price > 0")));
        let fk = parse_fk("FOREIGN KEY (org_id, x) REFERENCES public.orgs(id, y) ON UPDATE SET NULL ON DELETE CASCADE")
            .unwrap();
        assert_eq!(fk.columns, ["org_id", "x"]);
        assert_eq!((fk.ref_table.as_str(), fk.ref_columns.len()), ("orgs", 2));
        assert_eq!((fk.on_delete.as_str(), fk.on_update.as_str()), ("CASCADE", "SET NULL"));
        let checks = named_checks("CREATE TABLE t (a INT, CONSTRAINT ck_a CHECK (a > (0)), CONSTRAINT uq UNIQUE (a))");
        assert_eq!(
            checks.into_iter().collect::<Vec<_>>(),
            [("ck_a".to_owned(), "a > (0)".to_owned())]
        );
    }
}
