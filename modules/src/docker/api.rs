//! Reaching the engine: the connection options every docker module shares ([`DockerApi`]) and the
//! `docker` CLI runner built from them ([`DockerCli`]).

use drover_core::connection::{shell_quote, ConnectionError, ExecOutput, HostConnection};
use drover_core::module::{ModuleError, ModuleResult};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::Value;

use crate::params::{de_bool, de_opt_string};

/// community.docker's shared connection options (`docker.py`'s `DOCKER_COMMON_ARGS`). Flatten it
/// into a module's parameters with `#[serde(flatten)]`.
#[derive(Debug, Clone, Default, Deserialize, ModuleParams)]
pub struct DockerApi {
    /// The engine to talk to (`unix:///path`, `tcp://host:port`, `ssh://user@host`). Default:
    /// `DOCKER_HOST` from the task's environment, else the CLI's default socket.
    #[serde(default, alias = "docker_url", deserialize_with = "de_opt_string")]
    pub docker_host: Option<String>,
    /// Server name expected in the engine's TLS certificate. The CLI checks the name in
    /// `docker_host`: a different value is refused rather than ignored.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub tls_hostname: Option<String>,
    /// Engine API version (`auto` lets the CLI negotiate); passed as `DOCKER_API_VERSION`.
    #[serde(
        default,
        alias = "docker_api_version",
        deserialize_with = "de_opt_string"
    )]
    #[param(default = "auto")]
    pub api_version: Option<String>,
    /// Seconds a single engine call may take (pulls, pushes, builds and loads are not limited).
    #[serde(default, deserialize_with = "de_opt_u64")]
    #[param(default = "60")]
    pub timeout: Option<u64>,
    /// CA certificate on the target host to verify the engine with (implies `validate_certs`).
    #[serde(
        default,
        alias = "ca_cert",
        alias = "tls_ca_cert",
        alias = "cacert_path",
        deserialize_with = "de_opt_string"
    )]
    #[param(kind = "path")]
    pub ca_path: Option<String>,
    /// Client certificate on the target host.
    #[serde(
        default,
        alias = "tls_client_cert",
        alias = "cert_path",
        deserialize_with = "de_opt_string"
    )]
    #[param(kind = "path")]
    pub client_cert: Option<String>,
    /// Client key on the target host.
    #[serde(
        default,
        alias = "tls_client_key",
        alias = "key_path",
        deserialize_with = "de_opt_string"
    )]
    #[param(kind = "path")]
    pub client_key: Option<String>,
    /// Talk TLS to the engine without verifying its certificate.
    #[serde(default, deserialize_with = "de_bool")]
    pub tls: bool,
    /// Talk TLS and verify the engine's certificate.
    #[serde(default, alias = "tls_verify", deserialize_with = "de_bool")]
    pub validate_certs: bool,
    /// Accepted for compatibility: the CLI always uses the `ssh` client for `ssh://` hosts.
    #[serde(default, deserialize_with = "de_bool")]
    pub use_ssh_client: bool,
    /// Accepted for compatibility (extra logging in community.docker); no effect.
    #[serde(default, deserialize_with = "de_bool")]
    pub debug: bool,
}

/// Deserializes an optional whole number given as a number or a numeric string.
pub fn de_opt_u64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("expected a whole number, got {n}"))),
        Some(Value::String(s)) => {
            s.trim().parse().map(Some).map_err(|_| {
                serde::de::Error::custom(format!("expected a whole number, got '{s}'"))
            })
        }
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected a whole number, got {other}"
        ))),
    }
}

/// Why a docker step stopped: the connection failed (the host is unreachable), or the engine or
/// the CLI refused (the task fails with that message).
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// The module could not run at all (connection lost, bad arguments).
    #[error(transparent)]
    Module(#[from] ModuleError),
    /// The task fails with this message.
    #[error("{0}")]
    Failed(String),
}

impl From<ConnectionError> for DockerError {
    fn from(e: ConnectionError) -> Self {
        Self::Module(ModuleError::Connection(e))
    }
}

impl DockerError {
    /// A task failure with `msg`.
    pub fn failed(msg: impl Into<String>) -> Self {
        Self::Failed(msg.into())
    }
}

/// Turns a docker module's outcome into its answer: a [`DockerError::Failed`] becomes a failed
/// result with that `msg`.
pub fn finish(outcome: Result<ModuleResult, DockerError>) -> Result<ModuleResult, ModuleError> {
    match outcome {
        Ok(result) => Ok(result),
        Err(DockerError::Failed(msg)) => Ok(ModuleResult::failed(msg)),
        Err(DockerError::Module(e)) => Err(e),
    }
}

/// The kinds of object `docker inspect` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// `docker container inspect`.
    Container,
    /// `docker image inspect`.
    Image,
    /// `docker network inspect`.
    Network,
    /// `docker volume inspect`.
    Volume,
}

impl ObjectKind {
    fn command(self) -> &'static str {
        match self {
            Self::Container => "container",
            Self::Image => "image",
            Self::Network => "network",
            Self::Volume => "volume",
        }
    }
}

/// Marker separating the outputs of batched CLI calls.
const SEP: &str = "@@drover-docker@@";

/// Runs the `docker` CLI on the target with the task's engine options.
#[derive(Debug, Clone)]
pub struct DockerCli {
    /// `VAR=value` assignments and `docker` with its global flags, shell-quoted.
    prefix: String,
    timeout: u64,
}

impl DockerCli {
    /// The runner for these options; refuses option combinations the CLI cannot honour.
    pub fn new(api: &DockerApi) -> Result<Self, DockerError> {
        let mut prefix = String::new();
        if let Some(v) = api.api_version.as_deref().filter(|v| *v != "auto") {
            prefix.push_str(&format!("DOCKER_API_VERSION={} ", shell_quote(v)));
        }
        prefix.push_str("docker");
        if let Some(host) = &api.docker_host {
            prefix.push_str(&format!(" -H {}", shell_quote(host)));
        }
        if let Some(name) = &api.tls_hostname {
            let host = api.docker_host.as_deref().unwrap_or_default();
            if !host_of(host).eq_ignore_ascii_case(name) {
                return Err(DockerError::failed(format!(
                    "tls_hostname '{name}' differs from the host in docker_host '{host}': the docker \
                     CLI verifies the certificate against docker_host's name; use that name"
                )));
            }
        }
        let verify = api.validate_certs || api.ca_path.is_some();
        if verify {
            prefix.push_str(" --tlsverify");
        } else if api.tls || api.client_cert.is_some() {
            prefix.push_str(" --tls");
        }
        for (flag, value) in [
            ("--tlscacert", &api.ca_path),
            ("--tlscert", &api.client_cert),
            ("--tlskey", &api.client_key),
        ] {
            if let Some(v) = value {
                prefix.push_str(&format!(" {flag} {}", shell_quote(v)));
            }
        }
        Ok(Self {
            prefix,
            timeout: api.timeout.unwrap_or(60),
        })
    }

    /// The shell command line running `docker <args>`, limited to the call timeout.
    pub fn command_line<S: AsRef<str>>(&self, args: &[S]) -> String {
        format!(
            "timeout -k 5 {} {}",
            self.timeout,
            self.unlimited_command_line(args)
        )
    }

    /// The shell command line running `docker <args>` without a time limit (pull, push, build).
    pub fn unlimited_command_line<S: AsRef<str>>(&self, args: &[S]) -> String {
        let mut line = self.prefix.clone();
        for a in args {
            line.push(' ');
            line.push_str(&shell_quote(a.as_ref()));
        }
        line
    }

    /// Runs `docker <args>` (call timeout applies) and returns its output, whatever its status.
    pub async fn run<S: AsRef<str>>(
        &self,
        conn: &HostConnection,
        args: &[S],
    ) -> Result<ExecOutput, DockerError> {
        Ok(conn.run(self.command_line(args)).await?)
    }

    /// Runs `docker <args>` and returns its stdout; a non-zero status fails the task with the
    /// CLI's message.
    pub async fn run_ok<S: AsRef<str>>(
        &self,
        conn: &HostConnection,
        args: &[S],
    ) -> Result<String, DockerError> {
        let out = self.run(conn, args).await?;
        check(&out, args)
    }

    /// Like [`DockerCli::run_ok`] without the call timeout (pull, push, build, load, save).
    pub async fn run_long<S: AsRef<str>>(
        &self,
        conn: &HostConnection,
        args: &[S],
    ) -> Result<String, DockerError> {
        let out = conn.run(self.unlimited_command_line(args)).await?;
        check(&out, args)
    }

    /// Inspects several objects in one round trip; `None` for each that does not exist.
    pub async fn inspect_many(
        &self,
        conn: &HostConnection,
        objects: &[(ObjectKind, &str)],
    ) -> Result<Vec<Option<Value>>, DockerError> {
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let script: Vec<String> = objects
            .iter()
            .map(|(kind, name)| {
                format!(
                    "{} 2>&1; echo \"{SEP}$?\"",
                    self.command_line(&[kind.command(), "inspect", "--", name])
                )
            })
            .collect();
        let out = conn.run(script.join("\n")).await?;
        let text = out.stdout_str();
        let mut parts = text.split(SEP);
        let mut results = Vec::with_capacity(objects.len());
        let mut body = parts.next().unwrap_or_default().to_string();
        for (kind, name) in objects {
            let rest = parts.next().ok_or_else(|| {
                DockerError::failed(format!(
                    "docker {} inspect {name}: the shell ended early: {}{}",
                    kind.command(),
                    text,
                    out.stderr_str()
                ))
            })?;
            let (rc, next) = rest.split_once('\n').unwrap_or((rest, ""));
            results.push(parse_inspect(*kind, name, rc.trim(), &body)?);
            body = next.to_string();
        }
        Ok(results)
    }

    /// Inspects one object; `None` if it does not exist.
    pub async fn inspect(
        &self,
        conn: &HostConnection,
        kind: ObjectKind,
        name: &str,
    ) -> Result<Option<Value>, DockerError> {
        Ok(self
            .inspect_many(conn, &[(kind, name)])
            .await?
            .pop()
            .flatten())
    }
}

/// The output of a successful call, or the task failure naming the command and the CLI's message.
fn check<S: AsRef<str>>(out: &ExecOutput, args: &[S]) -> Result<String, DockerError> {
    if out.success() {
        return Ok(out.stdout_str());
    }
    let words: Vec<&str> = args.iter().map(AsRef::as_ref).take(2).collect();
    let msg = out.stderr_str();
    let msg = if msg.trim().is_empty() {
        out.stdout_str()
    } else {
        msg
    };
    Err(DockerError::failed(cli_message(
        &format!("docker {}", words.join(" ")),
        out.rc,
        &msg,
    )))
}

/// A failure message for a CLI call: the engine's own words, without the CLI's prefixes.
fn cli_message(what: &str, rc: i32, msg: &str) -> String {
    let msg = msg.trim();
    if rc == 127 && msg.contains("docker") {
        return format!(
            "{what}: the docker CLI was not found on the target host (install docker.io or \
             docker-ce-cli): {msg}"
        );
    }
    if rc == 124 {
        return format!("{what}: timed out (the timeout option)");
    }
    let msg = msg
        .strip_prefix("Error response from daemon: ")
        .unwrap_or(msg);
    format!("{what}: {msg}")
}

/// Reads one `docker <kind> inspect` output: the object, `None` when missing, or the failure.
fn parse_inspect(
    kind: ObjectKind,
    name: &str,
    rc: &str,
    body: &str,
) -> Result<Option<Value>, DockerError> {
    let what = format!("docker {} inspect {name}", kind.command());
    if rc == "0" {
        // The JSON array comes first; anything after it (warnings) is ignored.
        let mut stream = serde_json::Deserializer::from_str(body).into_iter::<Value>();
        return match stream.next() {
            Some(Ok(Value::Array(mut items))) if !items.is_empty() => Ok(Some(items.remove(0))),
            _ => Err(DockerError::failed(format!(
                "{what}: unexpected output: {}",
                body.trim()
            ))),
        };
    }
    let lower = body.to_ascii_lowercase();
    if rc != "127" && (lower.contains("no such") || lower.contains("not found")) {
        return Ok(None);
    }
    Err(DockerError::failed(cli_message(
        &what,
        rc.parse().unwrap_or(1),
        body,
    )))
}

/// The host name in a `docker_host` URL (`tcp://name:2376` → `name`).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split([':', '/']).next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(json: Value) -> DockerApi {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn global_flags_follow_the_options() {
        let cli = DockerCli::new(&api(serde_json::json!({
            "docker_host": "tcp://engine.example:2376",
            "api_version": "1.41",
            "ca_path": "/etc/ca.pem",
            "client_cert": "/etc/c.pem",
            "client_key": "/etc/k.pem",
            "tls_hostname": "engine.example",
        })))
        .unwrap();
        assert_eq!(
            cli.unlimited_command_line(&["ps", "-a"]),
            "DOCKER_API_VERSION=1.41 docker -H tcp://engine.example:2376 --tlsverify \
             --tlscacert /etc/ca.pem --tlscert /etc/c.pem --tlskey /etc/k.pem ps -a"
        );
        let plain = DockerCli::new(&DockerApi::default()).unwrap();
        assert_eq!(plain.command_line(&["ps"]), "timeout -k 5 60 docker ps");
    }

    #[test]
    fn a_tls_hostname_the_cli_cannot_check_is_refused() {
        let err = DockerCli::new(&api(serde_json::json!({
            "docker_host": "tcp://10.0.0.5:2376", "tls_hostname": "engine"
        })))
        .unwrap_err();
        assert!(err.to_string().contains("tls_hostname"), "{err}");
    }

    #[test]
    fn inspect_output_is_read() {
        let found = parse_inspect(ObjectKind::Container, "a", "0", "[{\"Id\":\"x\"}]\n").unwrap();
        assert_eq!(found, Some(serde_json::json!({"Id": "x"})));
        let missing = parse_inspect(
            ObjectKind::Container,
            "a",
            "1",
            "[]\nError: No such container: a\n",
        )
        .unwrap();
        assert_eq!(missing, None);
        let broken = parse_inspect(
            ObjectKind::Image,
            "a",
            "1",
            "Cannot connect to the Docker daemon",
        );
        assert!(broken.is_err());
    }
}
