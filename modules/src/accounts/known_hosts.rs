//! `known_hosts`: adds or removes a host key in an SSH `known_hosts` file, as ansible-core's
//! module does: `ssh-keygen -F` on the target finds the host's lines (hashed ones included), a
//! line of the same key type with another key is replaced, `state=absent` without a key removes
//! every line of the host with `ssh-keygen -R`. The result echoes the parameters and always has
//! a `diff` of the file, as ansible-core returns it.

use async_trait::async_trait;
use base64::Engine;
use drover_core::connection::{quote_path, shell_quote};
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

use crate::accounts::group::Presence;
use crate::params::{de_bool, de_opt_string, de_string};
use crate::remote::expand_path;
use crate::remote::path_info::add_path_info;
use crate::remote::rewrite::rewrite_file;

/// Parameters of `known_hosts`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct KnownHostsParams {
    /// The host (`name` or `[name]:port`); compared in lower case.
    #[serde(alias = "host", deserialize_with = "de_string")]
    pub name: String,
    /// The known_hosts line (`<host> <type> <key>`); required for `present`.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub key: Option<String>,
    /// The file to edit (default `~/.ssh/known_hosts`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub path: Option<String>,
    /// Hash the host name in the line written.
    #[serde(default, deserialize_with = "de_bool")]
    pub hash_host: bool,
    /// Whether the key shall be in the file.
    #[serde(default)]
    pub state: Presence,
}

/// The `known_hosts` module.
pub struct KnownHosts;

/// A known_hosts line split as ansible-core's `normalize_known_hosts_key` does.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HostKey {
    marker: Option<String>,
    host: String,
    kind: String,
    key: String,
}

fn normalize(line: &str) -> Option<HostKey> {
    let k: Vec<&str> = line.split_whitespace().collect();
    let (marker, rest) = match k.first() {
        Some(f) if f.starts_with('@') => (Some(f.to_string()), &k[1..]),
        Some(_) => (None, &k[..]),
        None => return None,
    };
    Some(HostKey {
        marker,
        host: rest.first()?.to_string(),
        kind: rest.get(1)?.to_string(),
        key: rest.get(2)?.to_string(),
    })
}

/// What `ssh-keygen -F` output says about the wanted key: `(replace_or_add, found_line)`, as
/// ansible-core's `search_for_host_key` decides (the host is known when this is called).
fn search(stdout: &str, key: &str) -> (bool, Option<usize>) {
    let Some(mut new_key) = normalize(key) else {
        return (true, None);
    };
    let mut found_line = None;
    for l in stdout.split('\n') {
        if l.is_empty() {
            continue;
        }
        if l.starts_with('#') {
            found_line = l
                .split("found: line ")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse().ok());
            continue;
        }
        let Some(found) = normalize(l) else { continue };
        let special = found
            .marker
            .as_deref()
            .is_some_and(|m| m.starts_with("@cert-authority") || m.starts_with("@revoke"));
        if special {
            if new_key == found {
                return (false, found_line);
            }
            continue;
        }
        if new_key.host.starts_with("|1|") && found.host.starts_with("|1|") {
            new_key.host = found.host.clone();
        }
        if new_key == found {
            return (false, found_line);
        }
        if new_key.kind == found.kind {
            return (true, found_line);
        }
    }
    (true, None)
}

fn hmac_sha1(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    k[..key.len().min(64)].copy_from_slice(&key[..key.len().min(64)]);
    let inner: Vec<u8> = k
        .iter()
        .map(|b| b ^ 0x36)
        .chain(msg.iter().copied())
        .collect();
    let inner = Sha1::digest(&inner);
    let outer: Vec<u8> = k
        .iter()
        .map(|b| b ^ 0x5c)
        .chain(inner.iter().copied())
        .collect();
    Sha1::digest(&outer).to_vec()
}

/// The key line with its host field replaced by OpenSSH's hashed form of `host` (`|1|salt|hash`).
fn hash_host_key(host: &str, key: &str, salt: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut parts: Vec<String> = key.split_whitespace().map(str::to_string).collect();
    let i = usize::from(parts.first().is_some_and(|p| p.starts_with('@')));
    if let Some(p) = parts.get_mut(i) {
        *p = format!(
            "|1|{}|{}",
            b64.encode(salt),
            b64.encode(hmac_sha1(salt, host.as_bytes()))
        );
    }
    parts.join(" ")
}

fn random_salt() -> Vec<u8> {
    use std::io::Read;
    let mut salt = vec![0u8; 20];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut salt));
    if read.is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        salt = Sha1::digest(t.to_le_bytes()).to_vec();
    }
    salt
}

/// The file after the change, as ansible-core's `compute_diff` (and its rewrite) build it.
fn new_content(
    before: &str,
    found_line: Option<usize>,
    replace_or_add: bool,
    present: bool,
    key: Option<&str>,
) -> String {
    let mut lines: Vec<&str> = before.split_inclusive('\n').collect();
    if let Some(n) =
        found_line.filter(|n| (replace_or_add || !present) && *n >= 1 && *n <= lines.len())
    {
        lines.remove(n - 1);
    }
    let mut out = lines.concat();
    if present && (replace_or_add || found_line.is_none()) {
        out.push_str(key.unwrap_or_default());
    }
    out
}

#[async_trait]
impl TypedModule for KnownHosts {
    const NAME: &'static str = "known_hosts";
    type Params = KnownHostsParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: KnownHostsParams,
    ) -> Result<ModuleResult, ModuleError> {
        let present = p.state == Presence::Present;
        let path = expand_path(ctx.conn, p.path.as_deref().unwrap_or("~/.ssh/known_hosts")).await?;
        let mut result = ModuleResult::ok()
            .with("name", p.name.as_str())
            .with("key", p.key.clone().map_or(Value::Null, Value::from))
            .with("path", path.as_str())
            .with("hash_host", p.hash_host)
            .with("state", if present { "present" } else { "absent" });
        let fail = |mut r: ModuleResult, msg: &str| {
            r.failed = true;
            r.msg = Some(msg.to_string());
            Ok(r)
        };
        let host = p.name.to_lowercase();
        let mut key = p.key.clone().filter(|k| !k.is_empty());
        if key.is_none() && present {
            return fail(ModuleResult::ok(), "No key specified when adding a host");
        }
        if let (Some(k), true) = (&key, p.hash_host) {
            key = Some(hash_host_key(&host, k, &random_salt()));
        }
        if let Some(k) = key.as_mut().filter(|k| !k.ends_with('\n')) {
            k.push('\n');
        }
        let qhost = shell_quote(&host);
        if let Some(k) = &key {
            let comma = host
                .char_indices()
                .any(|(i, c)| c == ',' && !host[..i].trim().is_empty());
            if comma {
                return fail(ModuleResult::ok(), "Comma separated list of names is not supported. Please pass a single name to lookup in the known_hosts file.");
            }
            let check = ctx
                .conn
                .run(format!(
                    "t=$(mktemp) || exit 1; printf '%s' {} > \"$t\"; ssh-keygen -F {qhost} -f \"$t\"; rm -f \"$t\"",
                    shell_quote(k)
                ))
                .await?;
            if check.stdout.is_empty() {
                return fail(
                    ModuleResult::ok(),
                    "Host parameter does not match hashed host field in supplied key",
                );
            }
        }
        let qpath = quote_path(&path);
        let exists = ctx.conn.run(format!("test -e {qpath}")).await?.success();
        let (found, replace_or_add, found_line) = if exists {
            let out = ctx
                .conn
                .run(format!("ssh-keygen -F {qhost} -f {qpath}"))
                .await?;
            let (stdout, stderr) = (out.stdout_str(), out.stderr_str());
            if stdout.is_empty() && stderr.is_empty() && (out.rc == 0 || out.rc == 1) {
                (false, false, None)
            } else if out.rc != 0 {
                return fail(
                    ModuleResult::ok(),
                    &format!(
                        "ssh-keygen failed (rc={}, stdout='{stdout}',stderr='{stderr}')",
                        out.rc
                    ),
                );
            } else if let Some(k) = &key {
                let (r, l) = search(&stdout, k);
                (true, r, l)
            } else {
                (true, false, None)
            }
        } else {
            (false, false, None)
        };
        let before = match ctx.conn.read_file(&path).await {
            Ok(b) if exists => Some(String::from_utf8_lossy(&b).into_owned()),
            _ => None,
        };
        let before_text = before.clone().unwrap_or_default();
        let after_text = new_content(
            &before_text,
            found_line,
            replace_or_add,
            present,
            key.as_deref(),
        );
        let mut diff = Map::new();
        diff.insert(
            "before_header".into(),
            Value::from(if before.is_some() {
                path.as_str()
            } else {
                "/dev/null"
            }),
        );
        diff.insert("after_header".into(), Value::from(path.as_str()));
        diff.insert("before".into(), Value::from(before_text));
        diff.insert("after".into(), Value::from(after_text));
        result = result.with("diff", Value::Object(diff));
        if !present && found_line.is_none() && key.is_some() {
            add_path_info(ctx.conn, &path, &mut result).await?;
            return Ok(result);
        }
        if ctx.check_mode {
            // ansible-core exits here with only these two keys.
            let mut r = ModuleResult::changed(replace_or_add || present != found);
            if let Some(d) = result.data.remove("diff") {
                r.data.insert("diff".into(), d);
            }
            return Ok(r);
        }
        if found && key.is_none() && !present {
            let out = ctx
                .conn
                .run(format!("ssh-keygen -R {qhost} -f {qpath}"))
                .await?;
            if !out.success() {
                let mut r = result
                    .with("rc", out.rc)
                    .with("stdout", out.stdout_str())
                    .with("stderr", out.stderr_str());
                r.failed = true;
                r.msg = Some(out.stderr_str().trim().to_string());
                return Ok(r);
            }
            result.changed = true;
        }
        if replace_or_add || found != present {
            let current = if exists {
                String::from_utf8_lossy(&ctx.conn.read_file(&path).await?).into_owned()
            } else {
                String::new()
            };
            let text = new_content(
                &current,
                found_line,
                replace_or_add,
                present,
                key.as_deref(),
            );
            let out = rewrite_file(ctx.conn, &path, text.as_bytes()).await?;
            if !out.success() {
                return fail(result, &format!("Failed to write to file '{path}'."));
            }
            result.changed = true;
        }
        add_path_info(ctx.conn, &path, &mut result).await?;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n";

    #[test]
    fn decides_like_search_for_host_key() {
        let same = "# Host example.org found: line 3\nexample.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n";
        assert_eq!(search(same, KEY), (false, Some(3)));
        let other = "# Host example.org found: line 2\nexample.org ssh-ed25519 AAAAother\n";
        assert_eq!(search(other, KEY), (true, Some(2)));
        let rsa = "# Host example.org found: line 1\nexample.org ssh-rsa AAAAB3\n";
        assert_eq!(search(rsa, KEY), (true, None));
    }

    #[test]
    fn hashes_like_openssh() {
        // RFC 2202 test case 2 for HMAC-SHA1.
        assert_eq!(
            hex::encode(hmac_sha1(b"Jefe", b"what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        let hashed = hash_host_key("example.org", KEY, &[7u8; 20]);
        assert!(
            hashed.starts_with("|1|BwcHBwcHBwcHBwcHBwcHBwcHBwc=|"),
            "{hashed}"
        );
        assert!(hashed.ends_with(
            " ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
        ));
    }

    #[test]
    fn builds_the_new_file() {
        let before = "a ssh-rsa X\nexample.org ssh-ed25519 OLD\n";
        assert_eq!(
            new_content(before, Some(2), true, true, Some(KEY)),
            format!("a ssh-rsa X\n{KEY}")
        );
        assert_eq!(
            new_content(before, Some(2), false, false, None),
            "a ssh-rsa X\n"
        );
        assert_eq!(new_content("", None, false, true, Some(KEY)), KEY);
    }
}
