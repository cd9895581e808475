static MIGRATIONS: migrator_core::Migrations = migrator_macros::embed_migrations!("${MIGRATOR_UI_FIXTURES}/cycle");

fn main() {
    let _ = &MIGRATIONS;
}
