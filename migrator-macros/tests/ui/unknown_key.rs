static MIGRATIONS: migrator_core::Migrations = migrator_macros::embed_migrations!("${MIGRATOR_UI_FIXTURES}/unknown_key");

fn main() {
    let _ = &MIGRATIONS;
}
