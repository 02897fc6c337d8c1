//! PostgreSQL modules (community.postgresql's): databases, queries, server settings, roles.
//!
//! # How drover reaches the server: `psql` on the target host
//! Every module runs PostgreSQL's own client, `psql`, on the host the task targets (through the
//! host's connection, so `become` applies), never Python: no psycopg2 on targets. Logging in works
//! exactly as with Ansible: `become: true` + `become_user: postgres` reaches the local server by
//! peer authentication over the unix socket, or `login_host` + `login_user` + `login_password`
//! log in over TCP. The shared options and the runner are in [`common`].
//!
//! The password never appears in a process argument list or in output: the shell script that
//! sets `PGPASSWORD` and starts `psql` is fed to `sh` on its standard input, and the SQL reaches
//! `psql` as a here-document (see [`common::Psql`]).

pub mod common;
pub mod db;
pub mod db_dump;
pub mod pg_hba;
pub mod pg_hba_fields;
pub mod pg_hba_rules;
pub mod ping;
pub mod privs;
pub mod privs_plan;
pub mod query;
pub mod query_exec;
pub mod quote;
pub mod set;
pub mod user;
pub mod user_plan;

use std::sync::Arc;

use drover_core::module::ModuleRegistry;

/// Registers the PostgreSQL modules under their short names, `community.postgresql.<name>` and
/// (for the modules that collection once had) `community.general.<name>`.
pub fn register(r: &mut ModuleRegistry) {
    let modules: Vec<Arc<dyn drover_core::module::Module>> = vec![
        Arc::new(db::PostgresqlDb),
        Arc::new(ping::PostgresqlPing),
        Arc::new(query::PostgresqlQuery),
        Arc::new(set::PostgresqlSet),
        Arc::new(user::PostgresqlUser),
        Arc::new(privs::PostgresqlPrivs),
        Arc::new(pg_hba::PostgresqlPgHba),
    ];
    for module in modules {
        let name = module.name().to_string();
        r.register(module);
        r.alias(&format!("community.postgresql.{name}"), &name);
        r.alias(&format!("community.general.{name}"), &name);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_postgresql_module_has_its_collection_names() {
        let r = crate::registry();
        for name in [
            "postgresql_db",
            "postgresql_pg_hba",
            "postgresql_ping",
            "postgresql_privs",
            "postgresql_query",
            "postgresql_set",
            "postgresql_user",
        ] {
            for full in [
                name.to_string(),
                format!("community.postgresql.{name}"),
                format!("community.general.{name}"),
            ] {
                assert!(r.get(&full).is_some(), "{full} is not registered");
            }
        }
    }
}
