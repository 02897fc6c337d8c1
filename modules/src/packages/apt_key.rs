//! `apt_key`: adds or removes an OpenPGP key in apt's keyrings (the legacy `apt-key` way).
//!
//! Runs `apt-key` when the target has it (Debian 12's apt still ships it, deprecated), else `gpg`
//! directly on the keyring (`/etc/apt/trusted.gpg` unless `keyring` is given). Either way `gpg`
//! must be installed. Idempotence follows Ansible: with `id`, a key whose long id (or short id
//! for an 8-digit `id`) is already listed is left alone; keys are fetched from `url` on the target
//! with `curl`, `wget` or apt-helper, read from `file` on the target, or given as `data`.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;

use crate::params::de_opt_string;
use crate::transfer::http::{client_error, parse_outcome, HttpRequest};

/// `state` of `apt_key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// The key is in the keyring.
    #[default]
    Present,
    /// The key is not in the keyring.
    Absent,
}

/// Parameters of `apt_key`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct AptKeyParams {
    /// Key id: 8 or 16 hex digits, or a 40-digit fingerprint (optional `0x`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub id: Option<String>,
    /// Armored or binary key data.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub data: Option<String>,
    /// A key file on the target.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub file: Option<String>,
    /// The keyring to use instead of apt's default.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub keyring: Option<String>,
    /// URL to fetch the key from (on the target).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub url: Option<String>,
    /// Keyserver to receive `id` from.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub keyserver: Option<String>,
    /// Desired state.
    #[serde(default)]
    pub state: KeyState,
    /// Verify TLS certificates of `url`.
    #[serde(default = "yes", deserialize_with = "crate::params::de_bool")]
    pub validate_certs: bool,
}

fn yes() -> bool {
    true
}

/// The `apt_key` module.
pub struct AptKey;

/// A normalized key id: `key_id` as given (upper-case, no `0x`), `fingerprint` the id compared
/// with listed keys (the last 16 digits of a fingerprint), `short` the last 8 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyId {
    /// The id as given, normalized.
    pub key_id: String,
    /// What listed long ids are compared with (8 or 16 digits).
    pub fingerprint: String,
    /// The short (8-digit) id.
    pub short: String,
}

/// Parses an `id` as Ansible does: optional `0x`, 8/16/40 hex digits.
pub fn parse_key_id(id: &str) -> Result<KeyId, String> {
    let trimmed = id.trim();
    let digits = trimmed
        .strip_prefix("0x")
        .or_else(|| trimmed.strip_prefix("0X"))
        .unwrap_or(trimmed)
        .to_ascii_uppercase();
    if !matches!(digits.len(), 8 | 16 | 40) || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "Invalid key_id '{id}': expected 8 or 16 hex digits, or a 40-digit fingerprint"
        ));
    }
    let fingerprint = if digits.len() == 40 {
        digits[24..].to_string()
    } else {
        digits.clone()
    };
    Ok(KeyId {
        short: digits[digits.len() - 8..].to_string(),
        fingerprint,
        key_id: digits,
    })
}

/// Long key ids from `--list-public-keys --keyid-format=long` output (`pub`/`sub` lines that are
/// not expired), shortened to 8 digits when `short` is set.
pub fn parse_key_list(out: &str, short: bool) -> Vec<String> {
    out.lines()
        .filter(|l| (l.starts_with("pub") || l.starts_with("sub")) && !l.contains("expired"))
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter_map(|code| code.split_once('/').map(|(_, id)| id.to_ascii_uppercase()))
        .map(|id| {
            if short && id.len() > 8 {
                id[id.len() - 8..].to_string()
            } else {
                id
            }
        })
        .collect()
}

/// Shell prelude: picks the tool (`apt-key` or `gpg`) and defines `keys_list`, `keys_add` (key on
/// stdin), `keys_del ID` and `keys_recv SERVER ID`. Exits 127 after `@nogpg` without gpg.
fn prelude(keyring: Option<&str>) -> String {
    let ring = keyring.map(shell_quote);
    let apt_key_ring = ring
        .as_deref()
        .map(|r| format!(" --keyring {r}"))
        .unwrap_or_default();
    let gpg_rings = match &ring {
        Some(r) => format!("--keyring {r}"),
        None => "--keyring /etc/apt/trusted.gpg $(for f in /etc/apt/trusted.gpg.d/*.gpg; do \
                 [ -e \"$f\" ] && printf -- '--keyring %s ' \"$f\"; done)"
            .into(),
    };
    let gpg_add_ring = ring
        .clone()
        .unwrap_or_else(|| "/etc/apt/trusted.gpg".into());
    format!(
        "command -v gpg >/dev/null 2>&1 || {{ echo @nogpg; exit 127; }}\n\
         if command -v apt-key >/dev/null 2>&1; then\n\
         export APT_KEY_DONT_WARN_ON_DANGEROUS_USAGE=1\n\
         keys_list() {{ apt-key{apt_key_ring} adv --list-public-keys --keyid-format=long 2>/dev/null; }}\n\
         keys_add() {{ apt-key{apt_key_ring} add -; }}\n\
         keys_del() {{ apt-key{apt_key_ring} del \"$1\"; }}\n\
         keys_recv() {{ apt-key{apt_key_ring} adv --no-tty --keyserver \"$1\" --recv \"$2\"; }}\n\
         else\n\
         GNUPGHOME=$(mktemp -d) || exit 1; export GNUPGHOME; trap 'rm -rf \"$GNUPGHOME\"' EXIT\n\
         g() {{ gpg --batch --no-tty --no-default-keyring \"$@\"; }}\n\
         keys_list() {{ g {gpg_rings} --list-public-keys --keyid-format=long 2>/dev/null; }}\n\
         keys_add() {{ g --keyring {gpg_add_ring} --import; }}\n\
         keys_del() {{ g --keyring {gpg_add_ring} --yes --delete-keys \"$1\"; }}\n\
         keys_recv() {{ g --keyring {gpg_add_ring} --keyserver \"$1\" --recv-keys \"$2\"; }}\n\
         fi\n"
    )
}

/// Where the key to add comes from.
enum Source<'a> {
    Data(&'a str),
    File(&'a str),
    Url(&'a str),
    Keyserver(&'a str, &'a str),
}

#[async_trait]
impl TypedModule for AptKey {
    const NAME: &'static str = "apt_key";
    type Params = AptKeyParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: AptKeyParams,
    ) -> Result<ModuleResult, ModuleError> {
        let id = match p.id.as_deref().map(parse_key_id).transpose() {
            Ok(id) => id,
            Err(e) => return Ok(ModuleResult::failed(e)),
        };
        let source = match (&p.data, &p.file, &p.url, &p.keyserver) {
            (Some(d), None, None, None) => Some(Source::Data(d)),
            (None, Some(f), None, None) => Some(Source::File(f)),
            (None, None, Some(u), None) => Some(Source::Url(u)),
            (None, None, None, Some(k)) => match &id {
                Some(id) => Some(Source::Keyserver(k, &id.key_id)),
                None => {
                    return Ok(ModuleResult::failed(
                        "missing required arguments: id (keyserver needs an id)",
                    ))
                }
            },
            (None, None, None, None) => None,
            _ => {
                return Ok(ModuleResult::failed(
                    "parameters are mutually exclusive: data|file|keyserver|url",
                ))
            }
        };
        let short = id.as_ref().is_some_and(|i| i.key_id.len() == 8);
        let pre = prelude(p.keyring.as_deref());
        let listed = ctx.conn.run(format!("{pre}keys_list\n")).await?;
        if listed.stdout_str().contains("@nogpg") {
            return Ok(ModuleResult::failed(
                "apt_key needs gpg on the target: install the 'gnupg' package first",
            ));
        }
        let before = parse_key_list(&listed.stdout_str(), short);
        let present = id.as_ref().is_some_and(|i| before.contains(&i.fingerprint));
        let with_ids = |r: ModuleResult, after: &[String]| match &id {
            Some(i) => r
                .with("id", i.key_id.clone())
                .with("key_id", i.key_id.clone())
                .with("fp", i.fingerprint.clone())
                .with("short_id", i.short.clone())
                .with("before", before.clone())
                .with("after", after.to_vec()),
            None => r
                .with("before", before.clone())
                .with("after", after.to_vec()),
        };
        match p.state {
            KeyState::Absent => {
                let Some(key) = &id else {
                    return Ok(ModuleResult::failed(
                        "missing required arguments: id (state=absent)",
                    ));
                };
                if !present {
                    return Ok(with_ids(ModuleResult::ok(), &before));
                }
                if ctx.check_mode {
                    return Ok(with_ids(ModuleResult::changed(true), &before));
                }
                let out = ctx
                    .conn
                    .run(format!(
                        "{pre}keys_del {} && keys_list\n",
                        shell_quote(&key.short)
                    ))
                    .await?;
                if !out.success() {
                    return Ok(with_ids(
                        ModuleResult::failed(format!(
                            "error removing key_id: {}",
                            out.stderr_str().trim()
                        )),
                        &before,
                    ));
                }
                let after = parse_key_list(&out.stdout_str(), short);
                if after.contains(&key.fingerprint) {
                    return Ok(with_ids(ModuleResult::failed("apt-key del did not return an error but the key was not removed (check that the id is correct and *not* a subkey)"), &after));
                }
                Ok(with_ids(ModuleResult::changed(true), &after))
            }
            KeyState::Present => {
                if present {
                    return Ok(with_ids(ModuleResult::ok(), &before));
                }
                let Some(source) = source else {
                    return Ok(ModuleResult::failed(
                        "one of the following is required: data, file, keyserver, url (or an id already in the keyring)",
                    ));
                };
                if ctx.check_mode {
                    return Ok(with_ids(ModuleResult::changed(true), &before));
                }
                let mut stdin = None;
                let add = match source {
                    Source::Data(d) => {
                        stdin = Some(d.as_bytes().to_vec());
                        "keys_add".to_string()
                    }
                    Source::File(f) => format!("keys_add < {}", shell_quote(f)),
                    Source::Keyserver(server, key) => {
                        format!("keys_recv {} {}", shell_quote(server), shell_quote(key))
                    }
                    Source::Url(u) => {
                        let mut req = HttpRequest::get(u);
                        req.validate_certs = p.validate_certs;
                        format!(
                            "{}case \"${{w%% *}}\" in 2*|000) ;; *) echo \"@code ${{w%% *}}\"; rm -f \"$t\" \"$h\"; exit 22;; esac\n\
                             [ \"$rc\" = 0 ] || {{ echo \"@rc $rc\"; rm -f \"$t\" \"$h\"; exit 22; }}\n\
                             keys_add < \"$t\"; r=$?; rm -f \"$t\" \"$h\"; [ $r = 0 ]",
                            req.script("\"${TMPDIR:-/tmp}\"")
                        )
                    }
                };
                let mut req = drover_core::connection::ExecRequest::new(format!(
                    "{pre}{add} >&2 || exit $?\necho @listed\nkeys_list\n"
                ));
                req.stdin = stdin;
                let out = ctx.conn.exec(req).await?;
                let stdout = out.stdout_str();
                if stdout.contains("@noclient") {
                    return Ok(with_ids(
                        ModuleResult::failed(format!(
                            "cannot download {}: none of curl, wget or apt-helper is installed on the target",
                            p.url.as_deref().unwrap_or_default()
                        )),
                        &before,
                    ));
                }
                if !out.success() {
                    let detail = match (p.url.as_deref(), parse_outcome(&stdout, "")) {
                        (Some(u), Some(o)) if o.rc != 0 => {
                            format!("Failed to download key at {u}: {}", client_error(o.rc))
                        }
                        (Some(u), _) if stdout.contains("@code ") => format!(
                            "Failed to download key at {u}: HTTP status {}",
                            stdout
                                .lines()
                                .rev()
                                .find_map(|l| l.strip_prefix("@code "))
                                .unwrap_or("?")
                        ),
                        _ => format!("error adding key: {}", out.stderr_str().trim()),
                    };
                    return Ok(with_ids(ModuleResult::failed(detail), &before));
                }
                let listing = stdout.split("@listed\n").nth(1).unwrap_or_default();
                let after = parse_key_list(listing, short);
                if let Some(key) = &id {
                    if !after.contains(&key.fingerprint) {
                        return Ok(with_ids(
                            ModuleResult::failed("key does not seem to have been added"),
                            &after,
                        ));
                    }
                }
                let changed = after.len() != before.len();
                Ok(with_ids(ModuleResult::changed(changed), &after))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_normalize_like_ansible() {
        let k = parse_key_id("0x473041fa").unwrap();
        assert_eq!(
            (k.key_id.as_str(), k.fingerprint.as_str(), k.short.as_str()),
            ("473041FA", "473041FA", "473041FA")
        );
        let k = parse_key_id("9165938D90FDDD2E").unwrap();
        assert_eq!(
            (k.fingerprint.as_str(), k.short.as_str()),
            ("9165938D90FDDD2E", "90FDDD2E")
        );
        let k = parse_key_id("4D64 390375060AA4").unwrap_err();
        assert!(k.contains("Invalid key_id"));
        let k = parse_key_id("B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8").unwrap();
        assert_eq!(
            (k.fingerprint.as_str(), k.short.as_str()),
            ("B7C5D7D6350947F8", "350947F8")
        );
        assert!(parse_key_id("12345").is_err());
        assert!(parse_key_id("GGGGGGGG").is_err());
    }

    #[test]
    fn key_lists_give_long_or_short_ids() {
        let out = "/etc/apt/trusted.gpg\n--------------------\n\
                   pub   rsa4096/DCC9EFBF77E11517 2021-03-21 [SC] [expires: 2029-03-19]\n\
                   \x20     B8B80B5B623EAB6AD8775C45DCC9EFBF77E11517\n\
                   uid                 [ unknown] Debian Stable Release Key\n\
                   sub   ed25519/1111222233334444 2020-01-01 [S]\n\
                   pub   rsa2048/AAAABBBBCCCCDDDD 2010-01-01 [SC] [expired: 2012-01-01]\n";
        assert_eq!(
            parse_key_list(out, false),
            ["DCC9EFBF77E11517", "1111222233334444"]
        );
        assert_eq!(parse_key_list(out, true), ["77E11517", "33334444"]);
    }

    #[test]
    fn prelude_uses_the_given_keyring() {
        let s = prelude(Some("/etc/apt/keyrings/x.gpg"));
        assert!(
            s.contains("apt-key --keyring /etc/apt/keyrings/x.gpg add -"),
            "{s}"
        );
        assert!(
            s.contains("g --keyring /etc/apt/keyrings/x.gpg --import"),
            "{s}"
        );
        let s = prelude(None);
        assert!(
            s.contains("apt-key add -") && s.contains("--keyring /etc/apt/trusted.gpg --import")
        );
    }
}
