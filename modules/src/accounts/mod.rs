//! Account modules: `user`, `group`, `authorized_key`.

pub mod authorized_key;
pub mod group;
pub mod user;
pub mod user_plan;
