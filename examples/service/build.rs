//! Rebuilds the service when a revision file is added or removed, so that
//! `embed_migrations!` sees it (edits to existing files are tracked anyway).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
