//! Transports an embedding program adds: a host whose `ansible_connection` names one is
//! connected through it (`ssh` and `local` are built in).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::connection::{Connection, ConnectionError};
use crate::vars::Vars;

/// Opens connections of one transport.
#[async_trait]
pub trait ConnectionFactory: Send + Sync {
    /// Opens a connection to `host`. `vars` are the host's rendered `ansible_*` connection
    /// variables (`ansible_host`, `ansible_user`, `ansible_port`, …).
    async fn connect(
        &self,
        host: &str,
        vars: &Vars,
    ) -> Result<Arc<dyn Connection>, ConnectionError>;
}

/// Transports by `ansible_connection` name, tried before the built-in ones.
#[derive(Clone, Default)]
pub struct Transports(BTreeMap<String, Arc<dyn ConnectionFactory>>);

impl std::fmt::Debug for Transports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Transports {
    /// Registers `factory` for hosts whose `ansible_connection` is `name` (replacing an earlier
    /// one, or a built-in transport of that name).
    pub fn insert(&mut self, name: impl Into<String>, factory: Arc<dyn ConnectionFactory>) {
        self.0.insert(name.into(), factory);
    }

    /// The factory registered for `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn ConnectionFactory>> {
        self.0.get(name)
    }

    /// Registered names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}
