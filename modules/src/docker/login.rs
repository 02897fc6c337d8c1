//! `docker_login` (community.docker's): stores registry credentials with `docker login` (in the
//! CLI's `config.json`, or its credential helper), or removes them with `docker logout`.
//!
//! The password never appears on a command line, in results or in messages: it reaches
//! `docker login --password-stdin` through the command's standard input. Idempotence: the
//! stored credentials for the registry are read first (`config.json`'s `auths`, or the configured
//! `docker-credential-*` helper); when they already hold this username and password nothing
//! runs (unless `reauthorize`), so check mode predicts without contacting the registry.

use async_trait::async_trait;
use base64::Engine as _;
use drover_core::connection::{shell_quote, ExecRequest};
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::{finish, DockerApi, DockerCli, DockerError};
use super::image::ImageState;
use crate::params::{de_bool, de_opt_string, de_string};

/// Docker Hub's key in the CLI's configuration.
const HUB: &str = "https://index.docker.io/v1/";

fn hub() -> String {
    HUB.into()
}

/// Parameters of `docker_login`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct LoginParams {
    /// The registry (`host[:port]` or a URL).
    #[serde(
        default = "hub",
        alias = "registry",
        alias = "url",
        deserialize_with = "de_string"
    )]
    #[param(default = "https://index.docker.io/v1/")]
    pub registry_url: String,
    /// Account name; required with `state=present`.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub username: Option<String>,
    /// Account password; required with `state=present`. Passed on standard input, never shown.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(no_log)]
    pub password: Option<String>,
    /// Log in again even when the stored credentials match.
    #[serde(default, alias = "reauth", deserialize_with = "de_bool")]
    pub reauthorize: bool,
    /// The CLI configuration file (its name must be `config.json`: the CLI takes a directory).
    #[serde(default, alias = "dockercfg_path", deserialize_with = "de_opt_string")]
    #[param(kind = "path", default = "~/.docker/config.json")]
    pub config_path: Option<String>,
    /// `present` logs in, `absent` logs out.
    #[serde(default)]
    pub state: ImageState,
    /// How to reach the engine.
    #[serde(flatten)]
    pub api: DockerApi,
}

/// The `docker_login` module.
pub struct DockerLogin;

#[async_trait]
impl TypedModule for DockerLogin {
    const NAME: &'static str = "docker_login";
    type Params = LoginParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: LoginParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(run(ctx, p).await)
    }
}

/// The key the CLI stores a registry's credentials under.
pub fn registry_key(url: &str) -> String {
    let host = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default();
    if matches!(
        host,
        "docker.io" | "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com"
    ) || host.is_empty()
    {
        HUB.into()
    } else {
        host.to_string()
    }
}

/// A shell word for a path, with a leading `~/` expanded by the shell.
fn path_word(path: &str) -> String {
    match path.strip_prefix("~/") {
        Some(rest) => format!("\"$HOME\"/{}", shell_quote(rest)),
        None => shell_quote(path),
    }
}

/// The configuration directory as a shell word.
fn config_dir(p: &LoginParams) -> Result<String, DockerError> {
    match &p.config_path {
        None => Ok("\"${DOCKER_CONFIG:-$HOME/.docker}\"".into()),
        Some(path) => {
            let (dir, file) = path.rsplit_once('/').unwrap_or((".", path));
            if file != "config.json" {
                return Err(DockerError::failed(format!(
                    "config_path {path}: the docker CLI only reads a file named config.json \
                     (it takes the directory); name the file config.json"
                )));
            }
            Ok(path_word(if dir.is_empty() { "/" } else { dir }))
        }
    }
}

/// The credentials stored for `key`: (username, password), `None` when there are none.
async fn stored(
    ctx: &ModuleContext<'_>,
    dir: &str,
    key: &str,
) -> Result<Option<(String, String)>, DockerError> {
    let out = ctx
        .conn
        .run(format!("cat {dir}/config.json 2>/dev/null"))
        .await?;
    let config: Value = serde_json::from_str(out.stdout_str().trim()).unwrap_or(Value::Null);
    let helper = config
        .pointer(&format!(
            "/credHelpers/{}",
            key.replace('~', "~0").replace('/', "~1")
        ))
        .or_else(|| config.get("credsStore"))
        .and_then(Value::as_str)
        .filter(|h| !h.is_empty());
    if let Some(helper) = helper {
        let req = ExecRequest {
            cmdline: format!("docker-credential-{} get", shell_quote(helper)),
            stdin: Some(key.as_bytes().to_vec()),
            ..ExecRequest::default()
        };
        let out = ctx.conn.exec(req).await?;
        if !out.success() {
            return Ok(None);
        }
        let v: Value = serde_json::from_str(out.stdout_str().trim()).unwrap_or(Value::Null);
        let get = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        return Ok(get("Username").zip(get("Secret")));
    }
    let auths = config.get("auths");
    let entry = [
        key.to_string(),
        format!("https://{key}"),
        format!("http://{key}"),
    ]
    .iter()
    .find_map(|k| auths.and_then(|a| a.get(k)))
    .cloned();
    let Some(entry) = entry else {
        return Ok(None);
    };
    let decoded = entry
        .get("auth")
        .and_then(Value::as_str)
        .and_then(|a| base64::engine::general_purpose::STANDARD.decode(a).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    Ok(decoded
        .split_once(':')
        .map(|(u, pw)| (u.to_string(), pw.to_string()))
        .or(Some((String::new(), String::new()))))
}

async fn run(ctx: &ModuleContext<'_>, p: LoginParams) -> Result<ModuleResult, DockerError> {
    let cli = DockerCli::new(&p.api)?;
    let dir = config_dir(&p)?;
    let key = registry_key(&p.registry_url);
    let current = stored(ctx, &dir, &key).await?;
    let env = format!("DOCKER_CONFIG={dir} ");
    if p.state == ImageState::Absent {
        let changed = current.is_some();
        if changed && !ctx.check_mode {
            let line = env + &cli.command_line(&["logout", &key]);
            let out = ctx.conn.run(line).await?;
            if !out.success() {
                return Err(DockerError::failed(format!(
                    "Logging out of {key} failed - {}",
                    out.stderr_str().trim()
                )));
            }
        }
        return Ok(ModuleResult::changed(changed).with("actions", Vec::<String>::new()));
    }
    let (Some(user), Some(password)) = (p.username.as_deref(), p.password.as_deref()) else {
        return Err(DockerError::failed(
            "state is present but all of the following are missing: username, password",
        ));
    };
    let same = current
        .as_ref()
        .is_some_and(|(u, pw)| u == user && pw == password);
    let changed = !same || p.reauthorize;
    let mut actions = vec![format!("Logged into {}", p.registry_url)];
    if changed {
        actions.push(format!("Wrote credentials for {key}"));
        if !ctx.check_mode {
            let line =
                env + &cli.command_line(&["login", "--username", user, "--password-stdin", &key]);
            let req = ExecRequest {
                cmdline: line,
                stdin: Some(format!("{password}\n").into_bytes()),
                ..ExecRequest::default()
            };
            let out = ctx.conn.exec(req).await?;
            if !out.success() {
                let msg = out.stderr_str();
                let msg: Vec<&str> = msg
                    .lines()
                    .filter(|l| {
                        !l.starts_with("WARNING!")
                            && !l.contains("credential helper")
                            && !l.contains("credential-store")
                            && !l.trim().is_empty()
                    })
                    .collect();
                let msg = msg.join(" ").replace(password, "********");
                return Err(DockerError::failed(format!(
                    "Logging into {} for user {user} failed - {}",
                    p.registry_url,
                    msg.trim_start_matches("Error response from daemon: ")
                )));
            }
        }
    }
    Ok(ModuleResult::changed(changed)
        .with("actions", actions)
        .with(
            "login_result",
            json!({"serveraddress": key, "username": user}),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_keys_follow_the_cli() {
        assert_eq!(registry_key("https://index.docker.io/v1/"), HUB);
        assert_eq!(registry_key("docker.io"), HUB);
        assert_eq!(registry_key("http://127.0.0.1:5000/"), "127.0.0.1:5000");
        assert_eq!(registry_key("reg.example:443"), "reg.example:443");
    }
}
