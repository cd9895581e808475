//! The cross-crate integration tests, in one binary: the macro against the
//! loader (`embed`), the executor on every database (`databases`,
//! `sqlite`), the databases' own clients as oracles (`parity`), Alembic itself (`alembic`), and
//! the databases' catalogs as the oracle of autogenerate (`autogenerate`). Each module says what it covers.

mod alembic;
mod autogenerate;
mod connecting;
mod databases;
mod embed;
mod parity;
mod sqlite;
