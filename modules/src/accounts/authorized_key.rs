//! `authorized_key`: adds or removes SSH keys in a user's `authorized_keys` (default
//! `~user/.ssh/authorized_keys`, directory 0700 and file 0600 owned by the user when
//! `manage_dir`). Keys match by type and key data; options and comments are updated in place;
//! `exclusive` removes every other key. Gives a diff of the file, as ansible-core does.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{Diff, ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::Value;

use super::group::Presence;
use crate::params::{de_bool, de_opt_string, de_string};

/// Parameters of `authorized_key`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct AuthorizedKeyParams {
    /// Account whose keys are managed.
    #[serde(deserialize_with = "de_string")]
    pub user: String,
    /// One or more public keys, one per line.
    #[serde(deserialize_with = "de_string")]
    pub key: String,
    /// Alternate authorized_keys path.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub path: Option<String>,
    /// Create and fix the permissions of the `.ssh` directory and file (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub manage_dir: bool,
    /// Whether the key is in the file.
    #[serde(default)]
    pub state: Presence,
    /// Options to put in front of the key (`from="…",no-pty`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub key_options: Option<String>,
    /// Remove every other key.
    #[serde(default, deserialize_with = "de_bool")]
    pub exclusive: bool,
    /// Comment to set on the key.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub comment: Option<String>,
    /// Accepted for compatibility.
    #[serde(default, deserialize_with = "de_bool")]
    pub follow: bool,
    /// Accepted for compatibility (keys from URLs are not supported).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub validate_certs: bool,
}

fn yes() -> bool {
    true
}

/// The `authorized_key` module.
pub struct AuthorizedKey;

const KEY_TYPES: &[&str] = &[
    "ssh-rsa",
    "ssh-dss",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-rsa-cert-v01@openssh.com",
    "ssh-ed25519-cert-v01@openssh.com",
];

/// One parsed authorized_keys line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeyLine {
    options: Option<String>,
    kind: String,
    data: String,
    comment: Option<String>,
}

impl KeyLine {
    fn render(&self) -> String {
        let mut s = String::new();
        if let Some(o) = &self.options {
            s.push_str(o);
            s.push(' ');
        }
        s.push_str(&self.kind);
        s.push(' ');
        s.push_str(&self.data);
        if let Some(c) = &self.comment {
            s.push(' ');
            s.push_str(c);
        }
        s
    }
}

/// Splits off the options field (it may contain quoted spaces).
fn split_options(line: &str) -> (Option<&str>, &str) {
    let first = line.split_whitespace().next().unwrap_or("");
    if KEY_TYPES.contains(&first) {
        return (None, line);
    }
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ' ' | '\t' if !quoted => return (Some(&line[..i]), line[i..].trim_start()),
            _ => {}
        }
    }
    (None, line)
}

fn parse_key(line: &str) -> Option<KeyLine> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (options, rest) = split_options(line);
    let mut parts = rest.splitn(3, char::is_whitespace);
    let kind = parts.next()?.to_string();
    let data = parts.next()?.to_string();
    if !KEY_TYPES.contains(&kind.as_str())
        && !kind.starts_with("ssh-")
        && !kind.starts_with("ecdsa-")
    {
        return None;
    }
    let comment = parts
        .next()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    Some(KeyLine {
        options: options.map(str::to_string),
        kind,
        data,
        comment,
    })
}

/// Computes the new file content.
fn plan(current: &str, wanted: &[KeyLine], present: bool, exclusive: bool) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut placed = vec![false; wanted.len()];
    for line in current.lines() {
        match parse_key(line) {
            Some(k) => {
                let hit = wanted
                    .iter()
                    .position(|w| w.data == k.data && w.kind == k.kind);
                match (hit, present) {
                    (Some(i), true) if !placed[i] => {
                        placed[i] = true;
                        out.push(wanted[i].render());
                    }
                    (Some(_), _) => {}
                    (None, _) if exclusive && present => {}
                    (None, _) => out.push(line.to_string()),
                }
            }
            None => out.push(line.to_string()),
        }
    }
    if present {
        for (i, w) in wanted.iter().enumerate() {
            if !placed[i] {
                out.push(w.render());
            }
        }
    }
    if out.is_empty() {
        String::new()
    } else {
        format!("{}\n", out.join("\n"))
    }
}

#[async_trait]
impl TypedModule for AuthorizedKey {
    const NAME: &'static str = "authorized_key";
    type Params = AuthorizedKeyParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: AuthorizedKeyParams,
    ) -> Result<ModuleResult, ModuleError> {
        if p.key.starts_with("http://") || p.key.starts_with("https://") {
            return Ok(ModuleResult::failed(
                "keys from URLs are not supported by drover",
            ));
        }
        let mut wanted = Vec::new();
        for line in p
            .key
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim().starts_with('#'))
        {
            let Some(mut k) = parse_key(line) else {
                return Ok(ModuleResult::failed(format!(
                    "invalid key specified: {line}"
                )));
            };
            if p.key_options.is_some() {
                k.options = p.key_options.clone();
            }
            if p.comment.is_some() {
                k.comment = p.comment.clone();
            }
            wanted.push(k);
        }
        let q = shell_quote(&p.user);
        let path_expr = match &p.path {
            Some(path) => shell_quote(path),
            None => "\"$h/.ssh/authorized_keys\"".into(),
        };
        let out = ctx
            .conn
            .run(format!(
                "h=$(getent passwd {q} | cut -d: -f6); [ -n \"$h\" ] || {{ echo @@NOUSER@@; exit 0; }}\nf={path_expr}; echo \"$f\"; cat \"$f\" 2>/dev/null"
            ))
            .await?;
        let text = out.stdout_str();
        if text.contains("@@NOUSER@@") {
            return Ok(ModuleResult::failed(format!(
                "Failed to lookup user {}: user does not exist",
                p.user
            )));
        }
        let (keyfile, current) = text.split_once('\n').unwrap_or((&text, ""));
        let present = p.state == Presence::Present;
        let new = plan(current, &wanted, present, p.exclusive);
        let changed = new != current;
        let mut result = ModuleResult::changed(changed)
            .with("user", p.user.as_str())
            .with("key", p.key.as_str())
            .with("keyfile", keyfile)
            .with("path", p.path.clone().map_or(Value::Null, Value::from))
            .with("manage_dir", p.manage_dir)
            .with("state", if present { "present" } else { "absent" })
            .with("exclusive", p.exclusive)
            .with(
                "key_options",
                p.key_options.clone().map_or(Value::Null, Value::from),
            );
        if changed && ctx.diff {
            result = result.with_diff(Diff {
                before_header: Some(keyfile.to_string()),
                after_header: Some(keyfile.to_string()),
                before: current.to_string(),
                after: new.clone(),
            });
        }
        if changed && !ctx.check_mode {
            let qf = shell_quote(keyfile);
            if p.manage_dir {
                let out = ctx
                    .conn
                    .run(format!(
                        "d=$(dirname {qf}); g=$(id -g {q}); [ -d \"$d\" ] || {{ mkdir -p \"$d\" && chown {q}:\"$g\" \"$d\" && chmod 700 \"$d\"; }}"
                    ))
                    .await?;
                if !out.success() {
                    return Ok(ModuleResult::failed(format!(
                        "could not create {keyfile}'s directory: {}",
                        out.stderr_str().trim()
                    )));
                }
            }
            ctx.conn.write_file_atomic(new.as_bytes(), keyfile).await?;
            if p.manage_dir {
                ctx.conn
                    .run(format!("chown {q}:\"$(id -g {q})\" {qf} && chmod 600 {qf}"))
                    .await?;
            }
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys_with_options() {
        let k = parse_key("from=\"10.0.0.1 x\",no-pty ssh-ed25519 AAAA me@h").unwrap();
        assert_eq!(k.options.as_deref(), Some("from=\"10.0.0.1 x\",no-pty"));
        assert_eq!(k.kind, "ssh-ed25519");
        assert_eq!(k.comment.as_deref(), Some("me@h"));
        assert!(parse_key("# comment").is_none());
    }

    #[test]
    fn plans_add_update_remove_exclusive() {
        let cur = "ssh-ed25519 AAAA old\n# keep\nssh-rsa BBBB other\n";
        let a = parse_key("ssh-ed25519 AAAA new").unwrap();
        assert_eq!(
            plan(cur, std::slice::from_ref(&a), true, false),
            "ssh-ed25519 AAAA new\n# keep\nssh-rsa BBBB other\n"
        );
        assert_eq!(
            plan(cur, std::slice::from_ref(&a), true, true),
            "ssh-ed25519 AAAA new\n# keep\n"
        );
        assert_eq!(
            plan(cur, std::slice::from_ref(&a), false, false),
            "# keep\nssh-rsa BBBB other\n"
        );
        let c = parse_key("ssh-ed25519 CCCC c").unwrap();
        assert_eq!(plan("", &[c], true, false), "ssh-ed25519 CCCC c\n");
    }
}
