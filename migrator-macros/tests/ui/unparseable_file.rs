static MIGRATIONS: migrator_core::Migrations = migrator_macros::embed_migrations!("${MIGRATOR_UI_FIXTURES}/unparseable_file");

fn main() {
    let _ = &MIGRATIONS;
}
