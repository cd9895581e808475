static MIGRATIONS: migrator_core::Migrations = migrator_macros::embed_migrations!("${MIGRATOR_UI_FIXTURES}/second_head");

fn main() {
    let _ = &MIGRATIONS;
}
