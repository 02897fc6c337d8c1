//! `locale_gen` (community.general): makes locales available or removes them on Debian and
//! Ubuntu, as the collection's module does: the names must be listed in
//! `/usr/share/i18n/SUPPORTED` (or already generated), `/etc/locale.gen` gets their lines
//! uncommented (or commented out), and `locale-gen` rebuilds the locales; `locale -a` tells what
//! exists. The result has `name`, `ubuntu_mode` and `mechanism`, as the collection returns them.
//!
//! Like the collection's module (a `StateModuleHelper`), check mode reports `changed: false`: the
//! change is tracked by reading `locale -a` again after the apply step, which check mode skips.

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::accounts::group::Presence;
use crate::params::de_string_list;
use crate::remote::rewrite::rewrite_file;

/// Parameters of `locale_gen`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct LocaleGenParams {
    /// Locales with their encoding, e.g. `en_GB.UTF-8` (a string is a one-item list).
    #[serde(deserialize_with = "de_string_list")]
    pub name: Vec<String>,
    /// Whether the locales shall be present.
    #[serde(default)]
    pub state: Presence,
}

/// The `locale_gen` module.
pub struct LocaleGen;

/// Encodings as `locale -a` may spell them, and as `locale.gen` does.
const NORMALIZATION: &[(&str, &str)] = &[
    (".utf8", ".UTF-8"),
    (".eucjp", ".EUC-JP"),
    (".iso885915", ".ISO-8859-15"),
    (".cp1251", ".CP1251"),
    (".koi8r", ".KOI8-R"),
    (".armscii8", ".ARMSCII-8"),
    (".euckr", ".EUC-KR"),
    (".gbk", ".GBK"),
    (".gb18030", ".GB18030"),
    (".euctw", ".EUC-TW"),
];

fn fix_case(name: &str) -> String {
    NORMALIZATION
        .iter()
        .fold(name.to_string(), |n, (from, to)| n.replace(from, to))
}

/// The names not listed by `locale -a`.
fn not_present<'a>(names: &'a [String], locale_a: &str) -> Vec<&'a str> {
    let have: Vec<String> = locale_a.lines().map(fix_case).collect();
    names
        .iter()
        .filter(|n| !have.contains(&fix_case(n)))
        .map(String::as_str)
        .collect()
}

/// The locale of a `SUPPORTED`/`locale.gen` line (`[#] <locale> <charset>`), as the collection's
/// pattern `^\s*#?\s*(\S+[\._\S]+) (\S+)\s*$` reads it.
fn listed_locale(line: &str) -> Option<&str> {
    let rest = line.trim_start();
    let rest = rest.strip_prefix('#').unwrap_or(rest).trim_start();
    let (locale, charset) = rest.split_once(' ')?;
    let charset = charset.trim_end();
    (locale.chars().count() >= 2
        && !locale.contains(char::is_whitespace)
        && !charset.is_empty()
        && !charset.contains(char::is_whitespace))
    .then_some(locale)
}

/// `/etc/locale.gen` with the names' lines enabled or commented out, as the collection's
/// substitution `^#?\s*<name> (.+)` → `<name> \1` (or `# <name> \1`) does line by line.
fn set_locales(text: &str, names: &[String], enabled: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut line = line.to_string();
        for name in names {
            let body = line.strip_prefix('#').unwrap_or(&line);
            let body = body.trim_start();
            let Some(charset) = body
                .strip_prefix(name.as_str())
                .and_then(|r| r.strip_prefix(' '))
            else {
                continue;
            };
            let (charset, nl) = match charset.find('\n') {
                Some(i) => (&charset[..i], &charset[i..]),
                None => (charset, ""),
            };
            if charset.is_empty() {
                continue;
            }
            let prefix = if enabled { "" } else { "# " };
            line = format!("{prefix}{name} {charset}{nl}");
        }
        out.push_str(&line);
    }
    out
}

const SEP: &str = "@@DROVER@@";

#[async_trait]
impl TypedModule for LocaleGen {
    const NAME: &'static str = "locale_gen";
    type Params = LocaleGenParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: LocaleGenParams,
    ) -> Result<ModuleResult, ModuleError> {
        let present = p.state == Presence::Present;
        let out = ctx
            .conn
            .run(format!(
                concat!(
                    "if [ -e /etc/locale.gen ]; then echo glibc; ",
                    "elif [ -e /var/lib/locales/supported.d ]; then echo ubuntu_legacy; else echo none; fi\n",
                    "echo {s}; cat /usr/share/i18n/SUPPORTED 2>/dev/null\n",
                    "echo {s}; locale -a 2>/dev/null\n"
                ),
                s = SEP
            ))
            .await?
            .stdout_str();
        let sep = format!("{SEP}\n");
        let mut parts = out.split(sep.as_str());
        let mechanism = parts.next().unwrap_or("").trim().to_string();
        let supported = parts.next().unwrap_or("");
        let locale_a = parts.next().unwrap_or("");
        let names_value = Value::from(p.name.clone());
        // The module helper's output variables: what results and failures carry.
        let mut vars = Map::new();
        vars.insert("name".into(), names_value);
        if mechanism == "none" {
            return Ok(helper_failure(
                "/var/lib/locales/supported.d and /etc/locale.gen are missing. Is the package \"locales\" installed?",
                vars,
                ctx.diff,
            ));
        }
        let ubuntu = mechanism == "ubuntu_legacy";
        vars.insert("ubuntu_mode".into(), Value::from(ubuntu));
        vars.insert("mechanism".into(), Value::from(mechanism.as_str()));
        let listed: Vec<&str> = supported.lines().filter_map(listed_locale).collect();
        let unlisted: Vec<String> = p
            .name
            .iter()
            .filter(|n| !listed.contains(&n.as_str()))
            .cloned()
            .collect();
        let missing = not_present(&unlisted, locale_a);
        if !missing.is_empty() {
            return Ok(helper_failure(
                &format!(
                    "The following locales you have entered are not available on your system: {}",
                    missing.join(", ")
                ),
                vars,
                ctx.diff,
            ));
        }
        let result = |changed: bool| {
            let mut r = ModuleResult::changed(changed);
            r.data = vars.clone();
            if ctx.diff {
                r.data.insert("diff".into(), Value::Object(Map::new()));
            }
            r
        };
        let was_present = not_present(&p.name, locale_a).is_empty();
        if was_present == present || ctx.check_mode {
            return Ok(result(false));
        }
        let script = if ubuntu {
            ubuntu_legacy_script(ctx, &p.name, present).await?
        } else {
            let text = ctx.conn.read_file("/etc/locale.gen").await?;
            let new = set_locales(&String::from_utf8_lossy(&text), &p.name, present);
            let w = rewrite_file(ctx.conn, "/etc/locale.gen", new.as_bytes()).await?;
            if !w.success() {
                let mut r = result(false);
                r.failed = true;
                r.msg = Some(w.stderr_str().trim().to_string());
                return Ok(r);
            }
            "locale-gen".to_string()
        };
        let gen = ctx.conn.run(script.clone()).await?;
        if !gen.success() {
            let mut r = result(false)
                .with("rc", gen.rc)
                .with("stdout", gen.stdout_str())
                .with("stderr", gen.stderr_str());
            r.failed = true;
            r.msg = Some(format!(
                "Command failed rc={}, out={}, err={}",
                gen.rc,
                gen.stdout_str(),
                gen.stderr_str()
            ));
            return Ok(r);
        }
        let after = ctx.conn.run("locale -a 2>/dev/null").await?.stdout_str();
        let now_present = not_present(&p.name, &after).is_empty();
        Ok(result(now_present != was_present))
    }
}

/// A failure as community.general's module helper reports it: the message, the output variables
/// at the top level and again under `output` and `vars` (`output` and the top level also have
/// an empty `diff` in diff mode).
fn helper_failure(msg: &str, vars: Map<String, Value>, diff: bool) -> ModuleResult {
    let mut output = vars.clone();
    if diff {
        output.insert("diff".into(), Value::Object(Map::new()));
    }
    let mut r = ModuleResult::failed(msg);
    r.data = output.clone();
    r.data.insert("output".into(), Value::Object(output));
    r.data.insert("vars".into(), Value::Object(vars));
    r
}

/// The legacy Ubuntu way: `locale-gen <names>` adds them; removing edits
/// `/var/lib/locales/supported.d/local` and regenerates with `--purge`.
async fn ubuntu_legacy_script(
    ctx: &ModuleContext<'_>,
    names: &[String],
    present: bool,
) -> Result<String, ModuleError> {
    if present {
        return Ok("locale-gen".into());
    }
    let path = "/var/lib/locales/supported.d/local";
    let text = String::from_utf8_lossy(&ctx.conn.read_file(path).await?).into_owned();
    let kept: String = text
        .split_inclusive('\n')
        .filter(|l| {
            l.split(' ')
                .next()
                .is_none_or(|loc| !names.iter().any(|n| n == loc))
        })
        .collect();
    rewrite_file(ctx.conn, path, kept.as_bytes()).await?;
    Ok("locale-gen --purge".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn reads_listed_locales() {
        assert_eq!(listed_locale("en_US.UTF-8 UTF-8"), Some("en_US.UTF-8"));
        assert_eq!(listed_locale("# de_DE ISO-8859-1  "), Some("de_DE"));
        assert_eq!(listed_locale("# This file lists locales"), None);
        assert_eq!(listed_locale(""), None);
    }

    #[test]
    fn compares_locale_a_spellings() {
        let n = names(&["en_US.UTF-8", "de_DE.ISO-8859-15", "C.UTF-8"]);
        assert_eq!(
            not_present(&n, "C\nC.utf8\nPOSIX\nen_US.utf8\n"),
            vec!["de_DE.ISO-8859-15"]
        );
    }

    #[test]
    fn edits_locale_gen_lines() {
        let text =
            "# en_GB ISO-8859-1\n# en_GB.UTF-8 UTF-8\n#  en_US.UTF-8 UTF-8\nfr_FR.UTF-8 UTF-8\n";
        let on = set_locales(text, &names(&["en_GB.UTF-8", "en_US.UTF-8"]), true);
        assert_eq!(
            on,
            "# en_GB ISO-8859-1\nen_GB.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\nfr_FR.UTF-8 UTF-8\n"
        );
        let off = set_locales(&on, &names(&["fr_FR.UTF-8"]), false);
        assert!(off.ends_with("# fr_FR.UTF-8 UTF-8\n"), "{off}");
        assert_eq!(set_locales(&off, &names(&["fr_FR.UTF-8"]), false), off);
    }
}
