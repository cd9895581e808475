static MIGRATIONS: migrator_core::Migrations =
    migrator_macros::embed_migrations!("${MIGRATOR_UI_FIXTURES}/labelled_branches", allow_many_heads = true);

fn main() {
    let _ = &MIGRATIONS;
}
