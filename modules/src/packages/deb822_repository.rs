//! `deb822_repository`: writes `/etc/apt/sources.list.d/<slug>.sources` in deb822 format with the
//! fields sorted by option name, as Ansible does; `signed_by` may be a key file on the target, a
//! URL (downloaded on the target into `/etc/apt/keyrings/<slug>.asc|gpg`) or inline key text.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{Diff, ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::Value;

use crate::params::{de_opt_bool, de_opt_string, de_opt_string_list, de_string};
use crate::transfer::http::{HttpRequest, NO_CLIENT};
use crate::transfer::marker;

/// Parameters of `deb822_repository`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct Deb822Params {
    /// Repository name (`X-Repolib-Name`; also gives the file name).
    #[serde(deserialize_with = "de_string")]
    pub name: String,
    /// `present` or `absent`.
    #[serde(default = "present", deserialize_with = "de_string")]
    #[param(choices("present", "absent"))]
    pub state: String,
    /// Mode of the sources file (default 0644).
    #[serde(default)]
    #[param(kind = "mode")]
    pub mode: Option<Value>,
    /// Source types (default `deb`).
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub types: Option<Vec<String>>,
    /// Repository URIs.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub uris: Option<Vec<String>>,
    /// Suites.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub suites: Option<Vec<String>>,
    /// Components.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub components: Option<Vec<String>>,
    /// Architectures.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub architectures: Option<Vec<String>>,
    /// Languages.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub languages: Option<Vec<String>>,
    /// Targets.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub targets: Option<Vec<String>>,
    /// Key file, URL or inline key.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub signed_by: Option<String>,
    /// `Allow-Downgrade-To-Insecure`.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub allow_downgrade_to_insecure: Option<bool>,
    /// `Allow-Insecure`.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub allow_insecure: Option<bool>,
    /// `Allow-Weak`.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub allow_weak: Option<bool>,
    /// `By-Hash`.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub by_hash: Option<bool>,
    /// `Check-Date`.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub check_date: Option<bool>,
    /// `Check-Valid-Until`.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub check_valid_until: Option<bool>,
    /// `Date-Max-Future` (seconds).
    #[serde(default)]
    pub date_max_future: Option<u64>,
    /// `Enabled`.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub enabled: Option<bool>,
    /// `Inrelease-Path`.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub inrelease_path: Option<String>,
    /// `Pdiffs`.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub pdiffs: Option<bool>,
    /// `Trusted`.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub trusted: Option<bool>,
    /// Accepted for compatibility: drover needs no python3-debian.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub install_python_debian: Option<bool>,
}

fn present() -> String {
    "present".into()
}

/// The file-name slug of a repository name.
pub fn slug(name: &str) -> String {
    let mut dashed = String::new();
    let mut in_sep = false;
    for c in name.to_lowercase().chars() {
        if c == '_' || c.is_whitespace() {
            if !in_sep {
                dashed.push('-');
            }
            in_sep = true;
        } else {
            dashed.push(c);
            in_sep = false;
        }
    }
    dashed
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
        .collect()
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

/// Field names as Ansible formats them (`by_hash` → `By-Hash`).
fn field_name(key: &str) -> String {
    match key {
        "name" => "X-Repolib-Name".into(),
        "uris" => "URIs".into(),
        _ => key
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("-"),
    }
}

/// A multi-line value: each line indented, empty lines as `.`.
fn multiline(v: &str) -> String {
    let lines: Vec<String> = v
        .trim()
        .lines()
        .map(|l| {
            let l = l.trim();
            format!("    {}", if l.is_empty() { "." } else { l })
        })
        .collect();
    format!("\n{}", lines.join("\n"))
}

/// Renders the sources file; `signed_by` is the resolved value (path or inline key).
pub fn render(p: &Deb822Params, signed_by: Option<&str>) -> String {
    let list = |v: &Option<Vec<String>>| v.as_ref().map(|l| l.join(" "));
    let b = |v: Option<bool>| v.map(yes_no);
    let fields: Vec<(&str, Option<String>)> = vec![
        (
            "allow_downgrade_to_insecure",
            b(p.allow_downgrade_to_insecure),
        ),
        ("allow_insecure", b(p.allow_insecure)),
        ("allow_weak", b(p.allow_weak)),
        ("architectures", list(&p.architectures)),
        ("by_hash", b(p.by_hash)),
        ("check_date", b(p.check_date)),
        ("check_valid_until", b(p.check_valid_until)),
        ("components", list(&p.components)),
        ("date_max_future", p.date_max_future.map(|d| d.to_string())),
        ("enabled", b(p.enabled)),
        ("inrelease_path", p.inrelease_path.clone()),
        ("install_python_debian", b(p.install_python_debian)),
        ("languages", list(&p.languages)),
        ("name", Some(p.name.clone())),
        ("pdiffs", b(p.pdiffs)),
        ("signed_by", signed_by.map(str::to_string)),
        ("suites", list(&p.suites)),
        ("targets", list(&p.targets)),
        ("trusted", b(p.trusted)),
        (
            "types",
            Some(list(&p.types).unwrap_or_else(|| "deb".into())),
        ),
        ("uris", list(&p.uris)),
    ];
    let mut out = String::new();
    for (key, value) in fields {
        if key == "install_python_debian" {
            continue;
        }
        if let Some(v) = value {
            // A multi-line value starts on the next line, with no space after the colon (as
            // python-debian writes it for ansible-core).
            let (sep, v) = if v.contains('\n') {
                ("", multiline(&v))
            } else {
                (" ", v)
            };
            out.push_str(&format!("{}:{sep}{v}\n", field_name(key)));
        }
    }
    out
}

/// The `deb822_repository` module.
pub struct Deb822Repository;

#[async_trait]
impl TypedModule for Deb822Repository {
    const NAME: &'static str = "deb822_repository";
    type Params = Deb822Params;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: Deb822Params,
    ) -> Result<ModuleResult, ModuleError> {
        let slug = slug(&p.name);
        let dest = format!("/etc/apt/sources.list.d/{slug}.sources");
        let keyrings = "/etc/apt/keyrings";
        let mode = match &p.mode {
            None | Some(Value::Null) => "0644".to_string(),
            Some(Value::Number(n)) => format!("{:04o}", n.as_u64().unwrap_or(0o644)),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Ok(ModuleResult::failed(format!("invalid mode {other}")));
            }
        };
        if p.state == "absent" {
            let files = [
                dest.clone(),
                format!("{keyrings}/{slug}.asc"),
                format!("{keyrings}/{slug}.gpg"),
            ];
            let quoted: Vec<String> = files.iter().map(|f| shell_quote(f)).collect();
            let action = if ctx.check_mode {
                ""
            } else {
                " && rm -f \"$f\""
            };
            let script = format!(
                "for f in {}; do [ -e \"$f\" ] && echo \"$f\"{action}; done; exit 0",
                quoted.join(" ")
            );
            let out = ctx.conn.run(script).await?.stdout_str();
            return Ok(ModuleResult::changed(!out.trim().is_empty())
                .with("repo", Value::Null)
                .with("dest", dest)
                .with("key_filename", Value::Null));
        }
        if p.state != "present" {
            return Ok(ModuleResult::failed(format!(
                "value of state must be one of: present, absent, got: {}",
                p.state
            )));
        }
        let mut changed = false;
        let mut key_filename: Option<String> = None;
        let mut signed_by = p.signed_by.clone();
        if let Some(sb) = &p.signed_by {
            if sb.contains("://") {
                // Downloaded into the keyrings directory (then renamed into place), or into the
                // temporary directory in check mode, which creates nothing.
                let (prepare, tmpdir) = if ctx.check_mode {
                    ("", "\"${TMPDIR:-/tmp}\"")
                } else {
                    (
                        "mkdir -p /etc/apt/keyrings && chmod 0755 /etc/apt/keyrings || exit 1\n",
                        keyrings,
                    )
                };
                let apply = if ctx.check_mode {
                    "rm -f \"$t\""
                } else {
                    "chmod 0644 \"$t\" && mv -f \"$t\" \"$f\""
                };
                let script = format!(
                    "{prepare}{fetch}rm -f \"$h\"\n\
                     [ \"$rc\" = 0 ] && [ \"${{w%% *}}\" = 200 ] || {{ rm -f \"$t\"; echo '@@drover-fetch-failed'; exit 0; }}\n\
                     if grep -q -- '-----BEGIN PGP PUBLIC KEY BLOCK-----' \"$t\"; then ext=asc; else ext=gpg; fi\n\
                     f={keyrings}/{slug}.$ext\necho \"@@drover-key $f\"\n\
                     if cmp -s \"$t\" \"$f\"; then rm -f \"$t\"\n\
                       if [ \"$(stat -c %a \"$f\")\" != 644 ]; then echo '@@drover-key-changed'; {chmod}; fi\n\
                     else echo '@@drover-key-changed'; {apply}; fi\n",
                    fetch = HttpRequest::get(sb).script(tmpdir),
                    chmod = if ctx.check_mode { ":" } else { "chmod 0644 \"$f\"" },
                );
                let out = ctx.conn.run(script).await?.stdout_str();
                if marker(&out, NO_CLIENT).is_some() {
                    return Ok(ModuleResult::failed(format!(
                        "Could not fetch signed_by key: {sb} (no curl, wget or apt-helper on the target)"
                    )));
                }
                if out.contains("@@drover-fetch-failed") {
                    return Ok(ModuleResult::failed(format!(
                        "Could not fetch signed_by key: {sb}"
                    )));
                }
                changed |= out.contains("@@drover-key-changed");
                key_filename = out
                    .lines()
                    .find_map(|l| l.strip_prefix("@@drover-key "))
                    .map(str::to_string);
                signed_by = key_filename.clone();
            } else if !sb.contains('\n') {
                let out = ctx
                    .conn
                    .run(format!("[ -f {} ] && echo file; exit 0", shell_quote(sb)))
                    .await?;
                if out.stdout_str().trim() == "file" {
                    key_filename = Some(sb.clone());
                }
            }
        }
        let repo = render(&p, signed_by.as_deref());
        let before = ctx
            .conn
            .run(format!(
                "[ -f {d} ] && {{ stat -c '%a' {d}; cat {d}; }}; exit 0",
                d = shell_quote(&dest)
            ))
            .await?
            .stdout_str();
        let (current_mode, current) = match before.split_once('\n') {
            Some((m, c)) if !before.is_empty() => (Some(m.trim().to_string()), Some(c.to_string())),
            _ => (None, None),
        };
        let content_changed = current.as_deref() != Some(repo.as_str());
        let want_mode = u32::from_str_radix(mode.trim_start_matches('0'), 8).unwrap_or(0o644);
        let mode_changed = current_mode
            .as_deref()
            .and_then(|m| u32::from_str_radix(m, 8).ok())
            .is_none_or(|m| m != want_mode);
        changed |= content_changed || mode_changed;
        let mut r = ModuleResult::changed(changed)
            .with("repo", repo.clone())
            .with("dest", dest.clone())
            .with(
                "key_filename",
                key_filename.map_or(Value::Null, Value::String),
            );
        if ctx.diff && content_changed {
            r = r.with_diff(Diff {
                before_header: Some(if current.is_some() {
                    dest.clone()
                } else {
                    "/dev/null".into()
                }),
                after_header: Some(dest.clone()),
                before: current.clone().unwrap_or_default(),
                after: repo.clone(),
            });
        }
        if !ctx.check_mode {
            if content_changed {
                ctx.conn.write_file_atomic(repo.as_bytes(), &dest).await?;
            }
            if content_changed || mode_changed {
                ctx.conn
                    .run(format!("chmod {want_mode:o} {}", shell_quote(&dest)))
                    .await?;
            }
        }
        // ansible-core's exit_json adds the facts of an existing `dest` (owner, mode, size, …).
        crate::remote::path_info::add_path_info(ctx.conn, &dest, &mut r).await?;
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drover_core::module::parse_params;
    use serde_json::json;

    #[test]
    fn renders_sorted_fields_like_ansible() {
        let p: Deb822Params = parse_params(
            "deb822_repository",
            &json!({"name": "Docker CE", "uris": "https://example.invalid/debian", "suites": ["bookworm"],
                    "components": "stable", "architectures": "amd64", "trusted": true}),
        )
        .unwrap();
        assert_eq!(slug(&p.name), "docker-ce");
        assert_eq!(
            render(&p, Some("/etc/apt/keyrings/docker.asc")),
            "Architectures: amd64\nComponents: stable\nX-Repolib-Name: Docker CE\nSigned-By: /etc/apt/keyrings/docker.asc\nSuites: bookworm\nTrusted: yes\nTypes: deb\nURIs: https://example.invalid/debian\n"
        );
    }

    #[test]
    fn inline_keys_are_indented() {
        assert_eq!(
            multiline("-----BEGIN\n\nabc\n"),
            "\n    -----BEGIN\n    .\n    abc"
        );
        assert_eq!(field_name("check_valid_until"), "Check-Valid-Until");
        let p: Deb822Params = serde_json::from_value(
            serde_json::json!({"name": "k", "uris": "http://h/", "suites": "./"}),
        )
        .unwrap();
        assert_eq!(
            render(&p, Some("-----BEGIN\nabc\n")),
            "X-Repolib-Name: k\nSigned-By:\n    -----BEGIN\n    abc\nSuites: ./\nTypes: deb\nURIs: http://h/\n"
        );
        assert_eq!(slug("My_Repo  x!"), "my-repo-x");
    }
}
