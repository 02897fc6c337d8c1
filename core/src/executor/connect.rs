//! Opening (and keeping) one connection per host from its connection variables.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::OnceCell;

use super::connect_docker::{
    docker_options, docker_via, is_docker_transport, DOCKER_VIA_BECOME_VAR, DOCKER_VIA_VAR,
};
use super::connect_lxc::{is_lxc_transport, lxc_host, lxc_options, LXC_HOST_BECOME_VAR};
use super::options::RunOptions;
use crate::connection::docker::DockerConnection;
use crate::connection::local::LocalConnection;
use crate::connection::lxc::LxcConnection;
use crate::connection::ssh::SshOptions;
use crate::connection::ssh_config::{resolve_ssh_options, HostSshVars};
use crate::connection::{Become, CliRunner, Connection, ConnectionError, ExecOutput, ExecRequest};
use crate::events::{Event, EventSink};
use crate::probe::{ChangeCounter, ChangeGuard, ProbeCache};
use crate::vars::{Value, Vars};

type Slot = Arc<OnceCell<Result<Arc<dyn Connection>, String>>>;

/// Connections opened during a run, one per target host, reused by every task. Each has a
/// read-ahead probe cache; all of them share one change counter (see [`crate::probe::ProbeCache`]).
#[derive(Default)]
pub struct ConnectionPool {
    slots: Mutex<HashMap<String, Slot>>,
    changes: Arc<ChangeCounter>,
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
        "community.docker.docker" => "docker".into(),
        "community.general.lxc" => "lxc".into(),
        _ => t,
    }
}

/// For a container reached through another inventory host (its Docker host named by
/// `ansible_docker_via`, its LXC host named by `ansible_lxc_host`): that host's name.
/// `has_host` tells inventory hosts. An `ansible_docker_via` naming no inventory host is an
/// error; an `ansible_lxc_host` naming none (or the host itself) is the container's name, as in
/// community.general, so no host.
pub fn via_host(
    target: &str,
    vars: &Vars,
    opts: &RunOptions,
    has_host: impl Fn(&str) -> bool,
) -> Result<Option<String>, ConnectionError> {
    let transport = transport_for(target, vars, opts);
    if is_docker_transport(&transport) {
        let Some(via) = docker_via(vars) else {
            return Ok(None);
        };
        if !has_host(&via) {
            return Err(ConnectionError::Connect {
                host: target.to_string(),
                reason: format!(
                    "{DOCKER_VIA_VAR} names '{via}', which is not a host of the inventory"
                ),
            });
        }
        return Ok(Some(via));
    }
    if is_lxc_transport(&transport) {
        return Ok(lxc_host(vars).filter(|h| h != target && has_host(h)));
    }
    Ok(None)
}

impl ConnectionPool {
    /// The connection to `host`, opened on first use with `vars` (rendered connection variables).
    /// A failure is remembered so an unreachable host is not retried on every task.
    pub async fn get(
        &self,
        host: &str,
        vars: &Vars,
        opts: &RunOptions,
        sink: &dyn EventSink,
    ) -> Result<Arc<dyn Connection>, ConnectionError> {
        self.get_via(host, vars, None, opts, sink).await
    }

    /// Like [`ConnectionPool::get`], for a host reached through another one: `via` is that
    /// host's name and rendered connection variables (a container whose `ansible_docker_via`
    /// names its Docker host). The other host's pooled connection is opened first and shared.
    pub async fn get_via(
        &self,
        host: &str,
        vars: &Vars,
        via: Option<(&str, &Vars)>,
        opts: &RunOptions,
        sink: &dyn EventSink,
    ) -> Result<Arc<dyn Connection>, ConnectionError> {
        // Only the container transports are reached through another host.
        let transport = transport_for(host, vars, opts);
        let what = if is_lxc_transport(&transport) {
            "LXC host"
        } else {
            "Docker host"
        };
        let via = via.filter(|_| is_docker_transport(&transport) || is_lxc_transport(&transport));
        let upstream = match via {
            Some((via_host, _)) if via_host == host => {
                return Err(ConnectionError::Connect {
                    host: host.to_string(),
                    reason: format!("{DOCKER_VIA_VAR} names the host itself"),
                })
            }
            Some((via_host, via_vars)) => {
                let conn = Box::pin(self.get(via_host, via_vars, opts, sink))
                    .await
                    .map_err(|e| ConnectionError::Connect {
                        host: host.to_string(),
                        reason: format!("its {what} {via_host} is unreachable: {e}"),
                    })?;
                Some((via_host.to_string(), conn))
            }
            None => None,
        };
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.entry(host.to_string()).or_default().clone()
        };
        let res = slot
            .get_or_init(|| async {
                let first = open(host, vars, upstream.clone(), opts, sink)
                    .await
                    .map_err(|e| match e {
                        // Wrapped again below: "failed to connect to HOST" once.
                        ConnectionError::Connect { host: h, reason } if h == host => reason,
                        e => e.to_string(),
                    })?;
                Ok(Arc::new(ReconnectingConnection {
                    probe_cache: Arc::new(ProbeCache::new(self.changes.clone())),
                    host: host.to_string(),
                    vars: vars.clone(),
                    upstream,
                    opts: opts.clone(),
                    transport: first.transport(),
                    current: tokio::sync::Mutex::new(Some(first)),
                }) as Arc<dyn Connection>)
            })
            .await;
        res.clone().map_err(|reason| ConnectionError::Connect {
            host: host.to_string(),
            reason,
        })
    }

    /// Marks a possible change to any host, made outside the pooled connections (a task whose
    /// module may act on hosts by other means), until the guard drops: read-ahead probe results
    /// from before or during it are discarded.
    pub fn changing(&self) -> ChangeGuard {
        self.changes.changing()
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

/// A pooled connection that reopens itself: when the transport reports the connection dead
/// (closed by the peer, or an operation failed with [`ConnectionError::Lost`]) or a module calls
/// [`Connection::reset`], the next operation opens a fresh connection with the same settings.
/// A failed operation is never retried, so no command runs twice.
struct ReconnectingConnection {
    probe_cache: Arc<ProbeCache>,
    host: String,
    vars: Vars,
    /// The host this one is reached through (see [`ConnectionPool::get_via`]).
    upstream: Option<(String, Arc<dyn Connection>)>,
    opts: RunOptions,
    transport: &'static str,
    current: tokio::sync::Mutex<Option<Arc<dyn Connection>>>,
}

impl ReconnectingConnection {
    /// The live connection, reopened first when the previous one is gone or dead.
    async fn live(&self) -> Result<Arc<dyn Connection>, ConnectionError> {
        let mut current = self.current.lock().await;
        if let Some(conn) = current.as_ref() {
            if !conn.is_closed() {
                return Ok(conn.clone());
            }
            close_quietly(conn).await;
        }
        *current = None;
        let fresh = open(
            &self.host,
            &self.vars,
            self.upstream.clone(),
            &self.opts,
            &NoEvents,
        )
        .await?;
        *current = Some(fresh.clone());
        Ok(fresh)
    }

    /// Forgets `conn` when `result` says the connection broke, so the next operation reconnects.
    async fn after<T>(
        &self,
        conn: &Arc<dyn Connection>,
        result: Result<T, ConnectionError>,
    ) -> Result<T, ConnectionError> {
        if matches!(result, Err(ConnectionError::Lost { .. })) {
            self.forget(conn).await;
        }
        result
    }

    async fn forget(&self, conn: &Arc<dyn Connection>) {
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, conn)) {
            *current = None;
            drop(current);
            close_quietly(conn).await;
        }
    }
}

/// Closes a connection that may already be dead without waiting on it for long.
async fn close_quietly(conn: &Arc<dyn Connection>) {
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), conn.close()).await;
}

/// Discards events (warnings were already shown when the host was first connected).
struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _event: &Event) {}
}

#[async_trait]
impl Connection for ReconnectingConnection {
    fn transport(&self) -> &'static str {
        self.transport
    }

    async fn exec(&self, req: &ExecRequest) -> Result<ExecOutput, ConnectionError> {
        let conn = self.live().await?;
        let result = conn.exec(req).await;
        self.after(&conn, result).await
    }

    async fn put_bytes(
        &self,
        data: &[u8],
        remote_path: &str,
        become_: Option<&Become>,
    ) -> Result<(), ConnectionError> {
        let conn = self.live().await?;
        let result = conn.put_bytes(data, remote_path, become_).await;
        self.after(&conn, result).await
    }

    async fn put_file(
        &self,
        local_path: &Path,
        remote_path: &str,
        become_: Option<&Become>,
    ) -> Result<(), ConnectionError> {
        let conn = self.live().await?;
        let result = conn.put_file(local_path, remote_path, become_).await;
        self.after(&conn, result).await
    }

    async fn get_bytes(
        &self,
        remote_path: &str,
        become_: Option<&Become>,
    ) -> Result<Vec<u8>, ConnectionError> {
        let conn = self.live().await?;
        let result = conn.get_bytes(remote_path, become_).await;
        self.after(&conn, result).await
    }

    async fn close(&self) {
        if let Some(conn) = self.current.lock().await.take() {
            conn.close().await;
        }
    }

    fn is_closed(&self) -> bool {
        false
    }

    fn probe_cache(&self) -> Option<Arc<ProbeCache>> {
        Some(self.probe_cache.clone())
    }

    fn has_shared_shell(&self) -> bool {
        // Without waiting: while another operation holds the slot, answer as if there were none
        // (callers only lose a shortcut).
        self.current
            .try_lock()
            .ok()
            .and_then(|current| current.as_ref().map(|c| c.has_shared_shell()))
            .unwrap_or(false)
    }

    async fn reset(&self) {
        let old = self.current.lock().await.take();
        if let Some(conn) = old {
            close_quietly(&conn).await;
        }
    }
}

async fn open(
    host: &str,
    vars: &Vars,
    upstream: Option<(String, Arc<dyn Connection>)>,
    opts: &RunOptions,
    sink: &dyn EventSink,
) -> Result<Arc<dyn Connection>, ConnectionError> {
    let transport = transport_for(host, vars, opts);
    if let Some(factory) = opts.transports.get(&transport) {
        return factory.connect(host, vars).await;
    }
    match transport.as_str() {
        "local" => Ok(Arc::new(LocalConnection::new())),
        "ssh" => {
            let (options, warnings) = ssh_options(host, vars, opts)?;
            for message in warnings {
                sink.emit(&Event::Warning {
                    message: format!("{host}: {message}"),
                });
            }
            let retries = super::connect_retry::ssh_retries(vars, opts);
            let conn =
                super::connect_retry::connect_ssh(options, retries, opts.ssh_retry_backoff).await?;
            Ok(Arc::new(conn))
        }
        "docker" => {
            let options = docker_options(host, vars, opts)?;
            let runner = match (docker_via(vars), upstream) {
                (None, _) => CliRunner::Local,
                (Some(via), Some((name, conn))) if via == name => CliRunner::Via {
                    host: name,
                    conn,
                    become_: vars
                        .get(DOCKER_VIA_BECOME_VAR)
                        .is_some_and(crate::vars::is_truthy)
                        .then(Become::default),
                },
                (Some(via), _) => {
                    return Err(ConnectionError::Connect {
                        host: host.to_string(),
                        reason: format!(
                            "{DOCKER_VIA_VAR} names {via}, whose connection is not available \
                             here (it must be an inventory host with its own connection, not \
                             itself reached through another host)"
                        ),
                    })
                }
            };
            Ok(Arc::new(DockerConnection::connect(options, runner).await?))
        }
        "lxc" => {
            // `upstream` is set only when ansible_lxc_host names another inventory host.
            let options =
                lxc_options(host, vars, opts, upstream.as_ref().map(|(n, _)| n.as_str()))?;
            let become_ = vars
                .get(LXC_HOST_BECOME_VAR)
                .is_some_and(crate::vars::is_truthy)
                .then(Become::default);
            let runner = match upstream {
                // An LXC host connected locally is the controller: a local lxc-attach, which can
                // keep a long-lived shell in the container.
                Some((_, conn)) if conn.transport() == "local" && become_.is_none() => {
                    CliRunner::Local
                }
                None => CliRunner::Local,
                Some((name, conn)) => CliRunner::Via {
                    host: name,
                    conn,
                    become_,
                },
            };
            Ok(Arc::new(LxcConnection::connect(options, runner).await?))
        }
        other => Err(ConnectionError::Connect {
            host: host.to_string(),
            reason: format!(
                "unsupported connection type '{other}' (supported: {})",
                ["ssh", "local", "docker", "lxc"]
                    .into_iter()
                    .chain(opts.transports.names())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// SSH settings for `host` from its (rendered) variables and the run options, with any warnings
/// about ignored OpenSSH options. See [`resolve_ssh_options`] for the precedence.
pub fn ssh_options(
    host: &str,
    vars: &Vars,
    opts: &RunOptions,
) -> Result<(SshOptions, Vec<String>), ConnectionError> {
    let mut v = HostSshVars::new(host);
    v.host = var_str(vars, &["ansible_host", "ansible_ssh_host"]);
    v.port = var_str(vars, &["ansible_port", "ansible_ssh_port"]).and_then(|p| p.parse().ok());
    v.user =
        var_str(vars, &["ansible_user", "ansible_ssh_user"]).or_else(|| opts.remote_user.clone());
    v.private_key_file = var_str(
        vars,
        &["ansible_ssh_private_key_file", "ansible_private_key_file"],
    )
    .map(Into::into)
    .or_else(|| opts.private_key.clone());
    v.password = var_str(
        vars,
        &[
            "ansible_password",
            "ansible_ssh_pass",
            "ansible_ssh_password",
        ],
    );
    v.host_key_checking = var_str(
        vars,
        &["ansible_host_key_checking", "ansible_ssh_host_key_checking"],
    )
    .map(|s| crate::vars::is_truthy(&Value::String(s)))
    .unwrap_or(opts.host_key_checking);
    v.timeout = Some(
        var_str(vars, &["ansible_ssh_timeout", "ansible_timeout"])
            .and_then(|t| t.parse().ok())
            .map(std::time::Duration::from_secs)
            .unwrap_or(opts.connect_timeout),
    );
    let common =
        var_str(vars, &["ansible_ssh_common_args"]).or_else(|| opts.ssh_common_args.clone());
    let extra = var_str(vars, &["ansible_ssh_extra_args"]).or_else(|| opts.ssh_extra_args.clone());
    v.ssh_args = common.into_iter().chain(extra).collect();
    let resolved = resolve_ssh_options(&v).map_err(|e| ConnectionError::Connect {
        host: host.to_string(),
        reason: e.to_string(),
    })?;
    let mut options = resolved.options;
    let prompter = opts.prompter.0.clone();
    options.passphrase_provider = Some(Arc::new(move |key: &Path| {
        let prompt = crate::session::Prompt {
            kind: crate::session::PromptKind::KeyPassphrase {
                key: key.to_path_buf(),
            },
            message: format!("Enter passphrase for key '{}': ", key.display()),
            secret: true,
        };
        prompter.ask(&prompt).ok()
    }));
    Ok((options, resolved.warnings))
}
