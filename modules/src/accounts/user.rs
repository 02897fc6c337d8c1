//! `user`: creates, modifies or removes a local user account (`useradd` / `usermod` / `userdel`),
//! optionally generating an SSH key. The current account (passwd, shadow hash, groups) and the
//! requested groups are queried in one round trip; changes are applied in one more.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::Value;

use super::group::Presence;
use super::user_plan::{plan_user, Current, Planned};
use crate::params::{de_bool, de_opt_bool, de_opt_string, de_opt_string_list, de_string};

/// Parameters of `user`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct UserParams {
    /// Login name.
    #[serde(alias = "user", deserialize_with = "de_string")]
    pub name: String,
    /// Wanted state.
    #[serde(default)]
    pub state: Presence,
    /// User id.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub uid: Option<String>,
    /// Primary group (name or gid).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub group: Option<String>,
    /// Supplementary groups (`''` removes all unless `append`).
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub groups: Option<Vec<String>>,
    /// Add `groups` to the current ones instead of replacing them.
    #[serde(default, deserialize_with = "de_bool")]
    pub append: bool,
    /// Login shell.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub shell: Option<String>,
    /// Home directory.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub home: Option<String>,
    /// Move the home directory's contents when `home` changes.
    #[serde(default, deserialize_with = "de_bool")]
    pub move_home: bool,
    /// Create the home directory (new users; default yes).
    #[serde(default = "yes", alias = "createhome", deserialize_with = "de_bool")]
    pub create_home: bool,
    /// Skeleton directory for a new home.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub skeleton: Option<String>,
    /// A system account.
    #[serde(default, deserialize_with = "de_bool")]
    pub system: bool,
    /// Password hash (crypt format).
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(no_log)]
    pub password: Option<String>,
    /// `always` (default) or `on_create`.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(choices("always", "on_create"))]
    pub update_password: Option<String>,
    /// Lock (`true`) or unlock (`false`) the password.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub password_lock: Option<bool>,
    /// GECOS field.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub comment: Option<String>,
    /// Allow a non-unique uid.
    #[serde(default, deserialize_with = "de_bool")]
    pub non_unique: bool,
    /// With `absent`: remove the home directory and mail spool.
    #[serde(default, deserialize_with = "de_bool")]
    pub remove: bool,
    /// With `absent`: remove even if logged in.
    #[serde(default, deserialize_with = "de_bool")]
    pub force: bool,
    /// Only local files (accepted; the shadow tools are local already).
    #[serde(default, deserialize_with = "de_bool")]
    pub local: bool,
    /// Generate an SSH key for the user if it has none.
    #[serde(default, deserialize_with = "de_bool")]
    pub generate_ssh_key: bool,
    /// Key size.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub ssh_key_bits: Option<String>,
    /// Key type (default rsa).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub ssh_key_type: Option<String>,
    /// Key file (default `.ssh/id_<type>`, relative to the home directory).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub ssh_key_file: Option<String>,
    /// Key comment (default `ansible-generated on <hostname>`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub ssh_key_comment: Option<String>,
    /// Key passphrase.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(no_log)]
    pub ssh_key_passphrase: Option<String>,
}

fn yes() -> bool {
    true
}

/// The `user` module.
pub struct User;

/// Query: passwd line, shadow hash, supplementary groups, primary group name, requested groups.
fn query_script(p: &UserParams) -> String {
    let q = shell_quote(&p.name);
    let mut wanted: Vec<String> = p.groups.clone().unwrap_or_default();
    if let Some(g) = &p.group {
        wanted.push(g.clone());
    }
    let mut s = format!(
        "getent passwd {q}\necho @@SHADOW@@\ngetent shadow {q} | cut -d: -f2\necho @@GROUPS@@\nid -Gn {q} 2>/dev/null\necho @@PRIMARY@@\nid -gn {q} 2>/dev/null\necho @@WANTED@@\n"
    );
    for g in wanted.iter().filter(|g| !g.is_empty()) {
        let qg = shell_quote(g);
        s.push_str(&format!(
            "l=$(getent group {qg}) && printf '%s=%s\\n' {qg} \"$l\"\n"
        ));
    }
    s.push_str("echo @@HOST@@\nhostname\n");
    s
}

fn section<'a>(text: &'a str, name: &str) -> &'a str {
    let marker = format!("@@{name}@@\n");
    text.split_once(&marker)
        .map(|(_, rest)| rest.split("\n@@").next().unwrap_or(rest))
        .unwrap_or("")
}

/// Parses the query output into the current state.
pub fn parse_query(text: &str) -> Current {
    let passwd = text.lines().next().unwrap_or("");
    let fields: Vec<String> = passwd.split(':').map(str::to_string).collect();
    let primary = section(text, "PRIMARY").trim().to_string();
    let groups = section(text, "GROUPS")
        .split_whitespace()
        .filter(|g| *g != primary)
        .map(str::to_string)
        .collect();
    let wanted = section(text, "WANTED")
        .lines()
        .filter_map(|l| {
            let (req, line) = l.split_once('=')?;
            let mut f = line.split(':');
            let name = f.next()?.to_string();
            let gid = f.nth(1)?.to_string();
            Some((req.to_string(), name, gid))
        })
        .collect();
    Current {
        exists: fields.len() >= 7,
        passwd: fields,
        shadow: section(text, "SHADOW").trim().to_string(),
        groups,
        wanted_groups: wanted,
        hostname: section(text, "HOST").trim().to_string(),
    }
}

/// The SSH key step: generate unless the file exists, then print the public key and fingerprint.
fn ssh_key_script(p: &UserParams, hostname: &str, generate: bool) -> String {
    let q = shell_quote(&p.name);
    let kind = p.ssh_key_type.as_deref().unwrap_or("rsa");
    let file = p
        .ssh_key_file
        .clone()
        .unwrap_or_else(|| format!(".ssh/id_{kind}"));
    let path = if file.starts_with('/') {
        shell_quote(&file)
    } else {
        format!("\"$h\"/{}", shell_quote(&file))
    };
    let comment = p
        .ssh_key_comment
        .clone()
        .unwrap_or_else(|| format!("ansible-generated on {hostname}"));
    let bits = p
        .ssh_key_bits
        .as_ref()
        .map(|b| format!(" -b {}", shell_quote(b)))
        .unwrap_or_default();
    let mut s = format!("h=$(getent passwd {q} | cut -d: -f6); f={path}\necho \"@@KEYFILE@@$f\"\n");
    if generate {
        s.push_str(&format!(
            concat!(
                "if [ ! -f \"$f\" ]; then d=$(dirname \"$f\"); g=$(id -g {q})\n",
                "  [ -d \"$d\" ] || {{ mkdir -p \"$d\" && chmod 700 \"$d\" && chown {q}:\"$g\" \"$d\"; }}\n",
                "  ssh-keygen -q -t {kind}{bits} -C {comment} -N {pass} -f \"$f\" </dev/null >/dev/null 2>&1 || {{ echo @@KEYFAIL@@; exit 5; }}\n",
                "  chown {q}:\"$g\" \"$f\" \"$f.pub\"; echo @@KEYNEW@@\nfi\n",
            ),
            q = q,
            kind = shell_quote(kind),
            bits = bits,
            comment = shell_quote(&comment),
            pass = shell_quote(p.ssh_key_passphrase.as_deref().unwrap_or("")),
        ));
    } else {
        s.push_str("[ -f \"$f\" ] || echo @@KEYMISSING@@\n");
    }
    s.push_str("echo @@PUB@@; cat \"$f.pub\" 2>/dev/null\necho @@FP@@; ssh-keygen -l -f \"$f.pub\" 2>/dev/null\n");
    s
}

#[async_trait]
impl TypedModule for User {
    const NAME: &'static str = "user";
    type Params = UserParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: UserParams,
    ) -> Result<ModuleResult, ModuleError> {
        let out = ctx.conn.run(query_script(&p)).await?;
        let current = parse_query(&out.stdout_str());
        let planned = match plan_user(&p, &current) {
            Ok(planned) => planned,
            Err(msg) => return Ok(ModuleResult::failed(msg).with("name", p.name.as_str())),
        };
        let Planned { command, result } = planned;
        let mut result = result;
        let key_wanted = p.generate_ssh_key && p.state == Presence::Present;
        if ctx.check_mode {
            if key_wanted && command.is_some() && !current.exists {
                result.changed = true;
            } else if key_wanted {
                let out = ctx
                    .conn
                    .run(ssh_key_script(&p, &current.hostname, false))
                    .await?;
                let text = out.stdout_str();
                if text.contains("@@KEYMISSING@@") {
                    result.changed = true;
                }
            }
            return Ok(result);
        }
        let mut script = String::new();
        if let Some(cmd) = &command {
            script.push_str(&format!(
                "o=$({cmd} 2>&1) || {{ rc=$?; printf '@@CMDFAIL@@%s' \"$o\"; exit $rc; }}\n"
            ));
        }
        if p.state == Presence::Present {
            if key_wanted {
                script.push_str(&ssh_key_script(&p, &current.hostname, true));
            }
            script.push_str(&format!(
                "echo @@FINAL@@; getent passwd {}\n",
                shell_quote(&p.name)
            ));
        }
        if script.is_empty() {
            return Ok(result);
        }
        let out = ctx.conn.run(script).await?;
        let text = out.stdout_str();
        if let Some(err) = text.split("@@CMDFAIL@@").nth(1) {
            let mut failed = ModuleResult::failed(err.trim().to_string());
            failed.data = result.data;
            failed.data.insert("rc".into(), Value::from(out.rc));
            return Ok(failed);
        }
        if text.contains("@@KEYFAIL@@") {
            let mut failed =
                ModuleResult::failed(format!("Failed to generate SSH key for {}", p.name));
            failed.data = result.data;
            return Ok(failed);
        }
        if let Some(fin) = text.split("@@FINAL@@\n").nth(1) {
            let f: Vec<&str> = fin.trim().split(':').collect();
            if f.len() >= 7 {
                result
                    .data
                    .insert("uid".into(), Value::from(f[2].parse::<u64>().unwrap_or(0)));
                result.data.insert(
                    "group".into(),
                    Value::from(f[3].parse::<u64>().unwrap_or(0)),
                );
                result.data.insert("home".into(), Value::from(f[5]));
                result.data.insert("shell".into(), Value::from(f[6]));
                result.data.insert("comment".into(), Value::from(f[4]));
            }
        }
        if key_wanted {
            if text.contains("@@KEYNEW@@") {
                result.changed = true;
            }
            let file = text
                .split("@@KEYFILE@@")
                .nth(1)
                .and_then(|r| r.lines().next())
                .unwrap_or("");
            result.data.insert("ssh_key_file".into(), Value::from(file));
            result.data.insert(
                "ssh_public_key".into(),
                Value::from(section(&text, "PUB").trim()),
            );
            result.data.insert(
                "ssh_fingerprint".into(),
                Value::from(section(&text, "FP").trim()),
            );
        }
        Ok(result)
    }
}
