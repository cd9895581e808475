//! Authoring: `init`, `revision`, `merge`, `edit`. These work on the
//! revision files on disk (`--dir`, `directory` in the config, else
//! `migrations`), never on a database.

use crate::template::Sections;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use migrator_core::{Graph, Migrations, RevisionIndex, load_dir};

use crate::UsageError;
use crate::out::{errln, outln};
use crate::settings::{Settings, Verbosity};
use crate::template;

const CONFIG_TEMPLATE: &str = include_str!("../../templates/migrator.toml");
const BUILD_TEMPLATE: &str = include_str!("../../templates/build.rs");

/// Writes `text` to `path` unless it exists; says which.
fn create(path: &Path, text: &str) -> Result<bool> {
    match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(mut f) => {
            use std::io::Write as _;
            f.write_all(text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

pub(crate) fn init(settings: &Settings, dir: Option<&Path>) -> Result<ExitCode> {
    let dir: PathBuf = dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("migrations"));
    let shown = dir.display().to_string();
    let say = |s: String| {
        if settings.verbosity > Verbosity::Quiet {
            outln!("{s}");
        }
    };
    if dir.is_dir() {
        say(format!("{shown}/ exists; left as it is"));
    } else {
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {shown}"))?;
        say(format!("created {shown}/"));
    }
    let config = Path::new(crate::config::DEFAULT_CONFIG);
    if create(config, &CONFIG_TEMPLATE.replace("{directory}", &shown))? {
        say(format!("created {}", config.display()));
    } else {
        say(format!("{} exists; left as it is", config.display()));
    }
    if Path::new("Cargo.toml").is_file() {
        let build = BUILD_TEMPLATE.replace("{directory}", &shown);
        if create(Path::new("build.rs"), &build)? {
            say("created build.rs (adding a revision file rebuilds the crate)".to_owned());
        } else {
            let existing = std::fs::read_to_string("build.rs").unwrap_or_default();
            if !existing.contains(&format!("rerun-if-changed={shown}")) {
                outln!(
                    "build.rs exists; add this line to its main() so that adding a revision rebuilds the crate:\n    \
                     println!(\"cargo:rerun-if-changed={shown}\");"
                );
            }
        }
    }
    say(format!(
        "next: `migrator revision -m \"first revision\"` writes {shown}/<date>_<id>_first_revision.sql"
    ));
    Ok(ExitCode::SUCCESS)
}

/// The revisions on disk, whatever their heads.
fn load(settings: &Settings) -> Result<(PathBuf, Migrations)> {
    let dir = settings.authoring_dir.clone();
    if !dir.is_dir() {
        return Err(UsageError(format!(
            "no migrations directory at {}; run `migrator init` first, or point --dir or `directory` at it",
            dir.display()
        ))
        .into());
    }
    let migrations =
        load_dir(&dir, true).map_err(|d| migrator_core::Error::from(d.prefixed(&dir.display().to_string())))?;
    Ok((dir, migrations))
}

/// What `revision` and `merge` write.
struct NewRevision<'a> {
    message: &'a str,
    rev_id: Option<&'a str>,
    revises: Vec<String>,
    labels: Vec<String>,
    depends_on: Vec<String>,
    /// The SQL of the sections (autogenerate), empty otherwise.
    sections: Vec<Sections>,
}

fn write_revision(settings: &Settings, dir: &Path, graph: &Graph<'_>, new: NewRevision<'_>) -> Result<ExitCode> {
    let id = match new.rev_id {
        Some(id) => {
            migrator_core::check_revision_id(id).map_err(UsageError)?;
            id.to_owned()
        }
        None => loop {
            let id = template::random_id();
            if graph.index_of(&id).is_none() {
                break id;
            }
        },
    };
    if graph.index_of(&id).is_some() {
        bail!(UsageError(format!("revision id {id} is already used")));
    }
    for l in &new.labels {
        migrator_core::check_branch_label(l).map_err(UsageError)?;
        if graph.label_owner(l).is_some() {
            bail!(UsageError(format!("branch label `{l}` is already used")));
        }
    }
    let at = template::now_in(settings.timezone.as_deref()).map_err(UsageError)?;
    let slug = template::slug(new.message, settings.truncate_slug_length.unwrap_or(40));
    let tpl = settings.file_template.as_deref().unwrap_or(template::DEFAULT_TEMPLATE);
    let name = template::render(tpl, &id, &slug, &at).map_err(UsageError)?;
    // The template may make folders below the migrations directory, never
    // a path outside it.
    let escapes = std::path::Path::new(&name)
        .components()
        .any(|c| !matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir));
    if escapes {
        bail!(UsageError(format!(
            "file_template `{tpl}` gives `{name}`, which leaves the migrations directory; use a name relative to \
             it, without `..` or a leading `/`"
        )));
    }
    let path = dir.join(format!("{name}.sql"));
    let file = template::NewFile {
        message: new.message,
        id: &id,
        revises: &new.revises,
        labels: &new.labels,
        depends_on: &new.depends_on,
        sections: &new.sections,
    };
    let text = template::revision_file(&file, &at);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    if !create(&path, &text)? {
        bail!(UsageError(format!(
            "{} already exists; choose another --rev-id or message",
            path.display()
        )));
    }
    outln!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}

pub(crate) struct RevisionArgs<'a> {
    pub message: &'a str,
    pub head: Option<&'a str>,
    pub splice: bool,
    pub branch_labels: &'a [String],
    pub depends_on: &'a [String],
    pub rev_id: Option<&'a str>,
    /// Generated SQL for the sections, per dialect.
    pub sections: Vec<Sections>,
}

pub(crate) fn revision(settings: &Settings, args: RevisionArgs<'_>) -> Result<ExitCode> {
    let (dir, migrations) = load(settings)?;
    let graph = Graph::new(&migrations).map_err(migrator_core::Error::from)?;
    let ids = |v: &[RevisionIndex]| v.iter().map(|&i| graph.revision(i).id.to_string()).collect::<Vec<_>>();
    let revises: Vec<String> = match args.head {
        Some("base") => Vec::new(),
        Some(head) => {
            let r = match graph.resolve(head)?.as_slice() {
                [one] => *one,
                [] => {
                    return revision(
                        settings,
                        RevisionArgs {
                            head: Some("base"),
                            ..args
                        },
                    );
                }
                many => bail!(UsageError(format!(
                    "`{head}` names several revisions ({}); name one",
                    ids(many).join(", ")
                ))),
            };
            if !graph.is_head(r) && !args.splice {
                bail!(UsageError(format!(
                    "revision {} is not a head; pass --splice to start a branch from it (with --branch-label to name \
                     the branch)",
                    graph.revision(r).id
                )));
            }
            vec![graph.revision(r).id.to_string()]
        }
        None => match graph.heads() {
            [] => Vec::new(),
            [one] => vec![graph.revision(*one).id.to_string()],
            many => bail!(UsageError(format!(
                "there are several heads ({}); pick one with --head <rev> or --head <label>@head, or join them with \
                 `migrator merge heads -m \"merge heads\"`",
                ids(many).join(", ")
            ))),
        },
    };
    let mut depends_on = Vec::new();
    for d in args.depends_on {
        if graph.label_owner(d).is_some() && graph.index_of(d).is_none() {
            depends_on.push(d.clone());
        } else {
            match graph.resolve(d)?.as_slice() {
                [one] => depends_on.push(graph.revision(*one).id.to_string()),
                _ => bail!(UsageError(format!(
                    "--depends-on `{d}` does not name one revision or branch label"
                ))),
            }
        }
    }
    let new = NewRevision {
        message: args.message,
        rev_id: args.rev_id,
        revises,
        labels: args.branch_labels.to_vec(),
        depends_on,
        sections: args.sections,
    };
    write_revision(settings, &dir, &graph, new)
}

pub(crate) fn merge(
    settings: &Settings,
    revisions: &[String],
    message: &str,
    branch_labels: &[String],
    rev_id: Option<&str>,
) -> Result<ExitCode> {
    let (dir, migrations) = load(settings)?;
    let graph = Graph::new(&migrations).map_err(migrator_core::Error::from)?;
    let mut parents: Vec<RevisionIndex> = Vec::new();
    for r in revisions {
        let resolved = if r == "heads" {
            graph.heads().to_vec()
        } else {
            graph.resolve(r)?
        };
        for p in resolved {
            if !parents.contains(&p) {
                parents.push(p);
            }
        }
    }
    if parents.len() < 2 {
        bail!(UsageError(format!(
            "a merge joins two or more revisions, and {} names {}; nothing to merge",
            revisions.join(" "),
            parents.len()
        )));
    }
    let new = NewRevision {
        message,
        rev_id,
        revises: parents.iter().map(|&p| graph.revision(p).id.to_string()).collect(),
        labels: branch_labels.to_vec(),
        depends_on: Vec::new(),
        sections: Vec::new(),
    };
    write_revision(settings, &dir, &graph, new)
}

pub(crate) fn edit(settings: &Settings, ident: &str) -> Result<ExitCode> {
    let (dir, migrations) = load(settings)?;
    let graph = Graph::new(&migrations).map_err(migrator_core::Error::from)?;
    let r = match graph.resolve(ident)?.as_slice() {
        [one] => *one,
        _ => bail!(UsageError(format!("`{ident}` does not name one revision"))),
    };
    let path = dir.join(&*graph.revision(r).path);
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .map_err(|_| UsageError(format!("set $VISUAL or $EDITOR to edit {}", path.display())))?;
    let mut words = editor.split_whitespace();
    let program = words
        .next()
        .ok_or_else(|| UsageError("$VISUAL/$EDITOR is empty".to_owned()))?;
    let status = std::process::Command::new(program)
        .args(words)
        .arg(&path)
        .status()
        .with_context(|| format!("cannot start the editor `{editor}`"))?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `revision --autogenerate`: the SQL that turns the history's schema into
/// the declared one, for each declared dialect, written as one revision
/// with a section per dialect (nothing when every dialect agrees).
pub(crate) async fn autogenerate(
    settings: &Settings,
    mut args: RevisionArgs<'_>,
    renames: &[migrator_core::schema::Rename],
) -> Result<ExitCode> {
    let declared = super::declared::declared(settings)?;
    if declared.is_empty() {
        bail!(UsageError(
            "--autogenerate needs the declared schema: pass --schema PATH (one per dialect, named like \
             schema.sqlite.sql and schema.postgresql.sql) or set `schema` in migrator.toml"
                .to_owned()
        ));
    }
    let (_, migrations) = load(settings)?;
    let mut sections = Vec::new();
    let mut changed = false;
    for d in &declared {
        let sql = std::fs::read_to_string(&d.path)
            .map_err(|e| UsageError(format!("cannot read the declared schema {}: {e}", d.path.display())))?;
        let dev_url = super::declared::dev_url_for(settings, d.dialect, &d.path)?;
        let file = d.path.display().to_string();
        let generated = migrator_core::autogenerate_with_renames(&migrations, &dev_url, &sql, &file, renames).await?;
        let Some(g) = generated else {
            // No change on this dialect: an empty section, so that the
            // revision is a no-op there rather than missing.
            sections.push(Sections {
                dialect: Some(d.dialect),
                ..Sections::default()
            });
            continue;
        };
        changed = true;
        if settings.verbosity > Verbosity::Quiet {
            for c in &g.changes {
                errln!("  {}: {c}", d.dialect);
            }
            if g.up.reviews + g.down.reviews > 0 {
                errln!(
                    "{}: {} statement(s) marked `-- REVIEW:`; read them before applying",
                    d.dialect,
                    g.up.reviews + g.down.reviews
                );
            }
        }
        sections.push(Sections {
            dialect: Some(d.dialect),
            up: g.up.sql.trim_end().to_owned(),
            down: g.down.sql.trim_end().to_owned(),
        });
    }
    if !changed {
        outln!("no changes: the history already gives the declared schema; nothing written");
        return Ok(ExitCode::SUCCESS);
    }
    args.sections = sections;
    revision(settings, args)
}
