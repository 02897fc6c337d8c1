//! Opening (and keeping) one connection per host from its connection variables.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::options::RunOptions;
use crate::connection::local::LocalConnection;
use crate::connection::ssh::{HostKeyPolicy, SshConnection, SshOptions};
use crate::connection::{Connection, ConnectionError};
use crate::vars::{Value, Vars};

type Slot = Arc<OnceCell<Result<Arc<dyn Connection>, String>>>;

/// Connections opened during a run, one per target host, reused by every task.
#[derive(Default)]
pub struct ConnectionPool {
    slots: Mutex<HashMap<String, Slot>>,
}

/// Reads a connection variable as a string (numbers accepted).
pub fn var_str(vars: &Vars, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| match vars.get(*n) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(x)) => Some(x.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    })
}

/// The transport a host uses: `ansible_connection`, else `--connection`, else `local` for the
/// implicit localhost, else `ssh`.
pub fn transport_for(host: &str, vars: &Vars, opts: &RunOptions) -> String {
    let t = var_str(vars, &["ansible_connection"])
        .or_else(|| opts.connection.clone())
        .unwrap_or_else(|| {
            if matches!(host, "localhost" | "127.0.0.1") {
                "local".into()
            } else {
                "ssh".into()
            }
        });
    match t.as_str() {
        "smart" | "paramiko" | "paramiko_ssh" | "ansible.builtin.ssh" => "ssh".into(),
        "ansible.builtin.local" => "local".into(),
        _ => t,
    }
}

impl ConnectionPool {
    /// The connection to `host`, opened on first use with `vars` (rendered connection variables).
    /// A failure is remembered so an unreachable host is not retried on every task.
    pub async fn get(
        &self,
        host: &str,
        vars: &Vars,
        opts: &RunOptions,
    ) -> Result<Arc<dyn Connection>, ConnectionError> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.entry(host.to_string()).or_default().clone()
        };
        let res = slot
            .get_or_init(|| async { open(host, vars, opts).await.map_err(|e| e.to_string()) })
            .await;
        res.clone().map_err(|reason| ConnectionError::Connect {
            host: host.to_string(),
            reason,
        })
    }

    /// Closes every open connection.
    pub async fn close_all(&self) {
        let slots: Vec<Slot> = {
            let mut s = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            s.drain().map(|(_, v)| v).collect()
        };
        for slot in slots {
            if let Some(Ok(c)) = slot.get() {
                c.close().await;
            }
        }
    }
}

async fn open(
    host: &str,
    vars: &Vars,
    opts: &RunOptions,
) -> Result<Arc<dyn Connection>, ConnectionError> {
    match transport_for(host, vars, opts).as_str() {
        "local" => Ok(Arc::new(LocalConnection::new())),
        "ssh" => {
            let options = ssh_options(host, vars, opts);
            Ok(Arc::new(SshConnection::connect(options).await?))
        }
        other => Err(ConnectionError::Connect {
            host: host.to_string(),
            reason: format!("unsupported connection type '{other}' (supported: ssh, local)"),
        }),
    }
}

/// SSH settings for `host` from its variables and the run options.
pub fn ssh_options(host: &str, vars: &Vars, opts: &RunOptions) -> SshOptions {
    let mut o = SshOptions::new(
        var_str(vars, &["ansible_host", "ansible_ssh_host"]).unwrap_or_else(|| host.to_string()),
    );
    o.alias = host.to_string();
    if let Some(port) = var_str(vars, &["ansible_port", "ansible_ssh_port"]).and_then(|p| p.parse().ok()) {
        o.port = port;
    }
    if let Some(user) = var_str(vars, &["ansible_user", "ansible_ssh_user"]).or_else(|| opts.remote_user.clone()) {
        o.user = user;
    }
    if let Some(key) = var_str(vars, &["ansible_ssh_private_key_file", "ansible_private_key_file"])
        .map(Into::into)
        .or_else(|| opts.private_key.clone())
    {
        o.identity_files = vec![key];
    }
    o.password = var_str(vars, &["ansible_password", "ansible_ssh_pass", "ansible_ssh_password"]);
    o.connect_timeout = opts.connect_timeout;
    let host_key_checking = var_str(vars, &["ansible_host_key_checking", "ansible_ssh_host_key_checking"])
        .map(|v| crate::vars::is_truthy(&Value::String(v)))
        .unwrap_or(opts.host_key_checking);
    if !host_key_checking {
        o.host_key_policy = HostKeyPolicy::Off;
    }
    o
}
