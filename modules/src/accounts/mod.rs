//! Account modules: `user`, `group`, `authorized_key`, `known_hosts`.

pub mod authorized_key;
pub mod group;
pub mod known_hosts;
pub mod user;
pub mod user_plan;
