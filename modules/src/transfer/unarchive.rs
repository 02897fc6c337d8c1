//! `unarchive`: unpacks a tar (plain, gz, xz, bz2, zst) or zip archive into an existing directory
//! on the target. The archive comes from the controller (uploaded), from the target
//! (`remote_src`) or from a URL (downloaded on the target). It is unpacked into a scratch
//! directory first and compared file by file (contents, type, mode, owner) with `dest`, so a
//! re-run that would change nothing reports `changed: false`; the whole check (and the copy when
//! something differs) is one round trip.

use async_trait::async_trait;
use drover_core::connection::{shell_quote, ExecRequest};
use drover_core::module::{ControllerFile, ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::http::{HttpRequest, NO_CLIENT};
use super::marker;
use crate::params::{de_bool, de_opt_bool, de_opt_string, de_string, de_string_list, parse_bool};
use crate::remote::chattr::apply_attributes_to;
use crate::remote::file_attrs::FileAttrs;
use crate::remote::mode::Mode;
use crate::remote::{join_path, quote_glob, quote_path};

/// Parameters of `unarchive`.
#[derive(Debug, Deserialize, ModuleParams)]
#[params(mutually_exclusive("include", "exclude"))]
pub struct UnarchiveParams {
    /// The archive: a controller file, a target path (`remote_src`) or a URL.
    #[serde(deserialize_with = "de_string")]
    #[param(local_file = "files", unless = "remote_src")]
    pub src: String,
    /// Existing directory to unpack into.
    #[serde(deserialize_with = "de_string")]
    pub dest: String,
    /// `src` is already on the target.
    #[serde(default, deserialize_with = "de_bool")]
    pub remote_src: bool,
    /// Deprecated inverse of `remote_src`.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub copy: Option<bool>,
    /// Skip the task when this path exists on the target.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub creates: Option<String>,
    /// Return the archive's member names in `files`.
    #[serde(default, deserialize_with = "de_bool")]
    pub list_files: bool,
    /// Extra options for tar / unzip.
    #[serde(default, deserialize_with = "de_string_list")]
    pub extra_opts: Vec<String>,
    /// Members (patterns) not to unpack.
    #[serde(default, deserialize_with = "de_string_list")]
    pub exclude: Vec<String>,
    /// Only these members.
    #[serde(default, deserialize_with = "de_string_list")]
    pub include: Vec<String>,
    /// Do not replace destination files newer than the archive's members.
    #[serde(default, deserialize_with = "de_bool")]
    pub keep_newer: bool,
    /// Verify TLS certificates of a URL `src` (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub validate_certs: bool,
    /// Accepted for compatibility.
    #[serde(default)]
    pub io_buffer_size: Option<Value>,
    /// Accepted for compatibility (vault decryption is the controller's job).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub decrypt: bool,
    /// The common file attributes, applied to every unpacked path.
    #[serde(flatten)]
    pub attrs: FileAttrs,
}

fn yes() -> bool {
    true
}

/// The `unarchive` module.
pub struct Unarchive;

/// Everything the unpack script needs.
struct Plan<'a> {
    p: &'a UnarchiveParams,
    /// Shell prelude setting `$a` (the archive path) and `$cleanup` (files to remove at exit).
    source: String,
    apply: bool,
}

fn opts(list: &[String]) -> String {
    list.iter()
        .map(|o| shell_quote(o))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Plan<'_> {
    fn script(&self) -> String {
        let p = self.p;
        let extra = opts(&p.extra_opts);
        let include = opts(&p.include);
        let tar_excl: String = p
            .exclude
            .iter()
            .map(|e| format!(" --exclude={}", shell_quote(e)))
            .collect();
        let zip_excl = if p.exclude.is_empty() {
            String::new()
        } else {
            format!(" -x {}", opts(&p.exclude))
        };
        let mut attrs = String::new();
        let (owner, group) = (&p.attrs.owner, &p.attrs.group);
        if owner.is_some() || group.is_some() {
            let spec = match (owner, group) {
                (Some(o), Some(g)) => format!("{o}:{g}"),
                (Some(o), None) => o.clone(),
                (None, Some(g)) => format!(":{g}"),
                (None, None) => String::new(),
            };
            attrs.push_str(&format!(
                "find \"$w/x\" -mindepth 1 -exec chown -h {} {{}} + || exit 6\n",
                shell_quote(&spec)
            ));
        }
        if let Some(m) = &p.attrs.mode {
            let m = match m {
                Mode::Octal(n) => crate::remote::mode::chmod_octal(*n),
                Mode::Symbolic(s) => s.clone(),
                Mode::Preserve => String::new(),
            };
            if !m.is_empty() {
                attrs.push_str(&format!(
                    "find \"$w/x\" -mindepth 1 ! -type l -exec chmod {} {{}} + || exit 6\n",
                    shell_quote(&m)
                ));
            }
        }
        format!(
            r#"{source}
d={dest}
w=$(mktemp -d "${{TMPDIR:-/tmp}}/.drover-unarchive-XXXXXXXX") || exit 1
trap 'rm -rf "$w" $cleanup' EXIT
[ -e "$d" ] || {{ echo '@nodest'; exit 3; }}
[ -d "$d" ] || {{ echo '@notdir'; exit 3; }}
need() {{ command -v "$1" >/dev/null 2>&1 || {{ echo "@nohandler $1"; exit 4; }}; }}
m=$(od -An -tx1 -N6 -- "$a" | tr -d ' \n')
case "$m" in
  504b0304*|504b0506*) h=ZipArchive ;;
  1f8b*) h=TgzArchive; need gzip ;;
  fd377a585a00) h=TarXzArchive; need xz ;;
  425a68*) h=TarBzipArchive; need bzip2 ;;
  28b52ffd*) h=TarZstdArchive; need zstd ;;
  *) h=TarArchive ;;
esac
echo "@handler $h"
mkdir "$w/x" || exit 1
if [ "$h" = ZipArchive ]; then
  need unzip
  unzip -Z1 "$a" {include} >"$w/list" 2>"$w/err" || {{ cat "$w/err" >&2; echo '@badarchive'; exit 5; }}
  unzip -q -o {extra} "$a" {include} -d "$w/x"{zip_excl} >"$w/out" 2>&1 || {{ cat "$w/out" >&2; echo '@badarchive'; exit 5; }}
else
  tar -tf "$a" {extra}{tar_excl} {include} >"$w/list" 2>"$w/err" || {{ cat "$w/err" >&2; echo '@badarchive'; exit 5; }}
  tar -xf "$a" -C "$w/x" {extra}{tar_excl} {include} >"$w/out" 2>&1 || {{ cat "$w/out" >&2; echo '@badarchive'; exit 5; }}
fi
{attrs}echo '@files'; cat "$w/list"; echo '@end'
(cd "$w/x" && find . -mindepth 1) | while IFS= read -r f; do
  s="$w/x/$f"; t="$d/$f"
  if [ -h "$s" ]; then
    [ -h "$t" ] && [ "$(readlink -- "$s")" = "$(readlink -- "$t")" ] || {{ echo "@diff $f"; continue; }}
  elif [ -d "$s" ]; then
    [ -d "$t" ] && [ ! -h "$t" ] || {{ echo "@diff $f"; continue; }}
  else
    if [ {keep_newer} = 1 ] && [ -f "$t" ] && [ "$t" -nt "$s" ]; then rm -f -- "$s"; continue; fi
    [ -f "$t" ] && [ ! -h "$t" ] && cmp -s -- "$s" "$t" || {{ echo "@diff $f"; continue; }}
  fi
  [ -h "$s" ] || [ "$(stat -c '%a %u %g' -- "$s")" = "$(stat -c '%a %u %g' -- "$t")" ] || echo "@diff $f"
done >"$w/diffs"
cat "$w/diffs"
if [ -s "$w/diffs" ] && [ {apply} = 1 ]; then
  cp -a -- "$w/x/." "$d/" || exit 7
  echo '@applied'
fi
exit 0
"#,
            source = self.source,
            dest = quote_path(&p.dest),
            apply = u8::from(self.apply),
            keep_newer = u8::from(p.keep_newer),
        )
    }
}

#[async_trait]
impl TypedModule for Unarchive {
    const NAME: &'static str = "unarchive";
    /// ansible-core's action refuses `async`.
    const ASYNC: drover_core::async_job::AsyncSupport =
        drover_core::async_job::AsyncSupport::Unsupported;
    type Params = UnarchiveParams;

    /// `src` is a controller file unless `remote_src` is set — or `copy: no`, its deprecated
    /// inverse, is given.
    fn local_files(&self, args: &Map<String, Value>) -> Vec<ControllerFile> {
        if args.get("copy").and_then(parse_bool) == Some(false) {
            return Vec::new();
        }
        Self::Params::spec().controller_files(args)
    }

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: UnarchiveParams,
    ) -> Result<ModuleResult, ModuleError> {
        let remote_src = p.remote_src || p.copy == Some(false);
        if let Some(failed) = p.attrs.selinux_failure(ctx).await? {
            return Ok(failed);
        }
        if let Some(creates) = &p.creates {
            let out = ctx
                .conn
                .run(format!(
                    "for p in {}; do [ -e \"$p\" ] && exit 0; done; exit 1",
                    quote_glob(creates)
                ))
                .await?;
            if out.rc == 0 {
                return Ok(ModuleResult::ok()
                    .with_msg(format!("skipped, since {creates} exists"))
                    .with("skipped", true)
                    .with("dest", p.dest.as_str())
                    .with("src", p.src.as_str()));
            }
        }
        let is_url = p.src.contains("://");
        let mut uploaded = None;
        let source = if is_url {
            let mut req = HttpRequest::get(&p.src);
            req.validate_certs = p.validate_certs;
            format!(
                "{}rm -f \"$h\"\n[ \"$rc\" = 0 ] && [ \"${{w%% *}}\" = 200 -o \"${{w%% *}}\" = 000 ] || {{ rm -f \"$t\"; echo '@downloadfailed'; exit 8; }}\na=\"$t\"; cleanup='\"$t\"'\n",
                req.script("\"${TMPDIR:-/tmp}\"")
            )
        } else if remote_src {
            format!(
                "a={}; cleanup=\n[ -f \"$a\" ] || {{ echo '@nosrc'; exit 3; }}\n",
                quote_path(&p.src)
            )
        } else {
            let local = ctx.controller.find_file("files", &p.src)?;
            if !local.is_file() {
                return Ok(ModuleResult::failed(format!(
                    "Source '{}' is not a file",
                    p.src
                )));
            }
            let remote = format!("/tmp/.drover-unarchive-src-{:016x}", rand_id());
            ctx.conn.upload_file_atomic(&local, &remote).await?;
            uploaded = Some(remote.clone());
            format!("a={}; cleanup=\"$a\"\n", shell_quote(&remote))
        };
        let plan = Plan {
            p: &p,
            source,
            apply: !ctx.check_mode,
        };
        let out = ctx.conn.exec(ExecRequest::new(plan.script())).await;
        let out = match out {
            Ok(o) => o,
            Err(e) => {
                if let Some(u) = uploaded {
                    let _ = ctx.conn.run(format!("rm -f {}", shell_quote(&u))).await;
                }
                return Err(e.into());
            }
        };
        let stdout = out.stdout_str();
        let stderr = out.stderr_str().trim().to_string();
        let fail = |msg: String| {
            Ok(ModuleResult::failed(msg)
                .with("dest", p.dest.as_str())
                .with("src", p.src.as_str()))
        };
        if out.rc != 0 {
            return if marker(&stdout, "nodest").is_some() {
                fail(format!("Destination '{}' does not exist", p.dest))
            } else if marker(&stdout, "notdir").is_some() {
                fail(format!("Destination '{}' is not a directory", p.dest))
            } else if marker(&stdout, "nosrc").is_some() {
                fail(format!("Source '{}' does not exist", p.src))
            } else if let Some(tool) = marker(&stdout, "nohandler") {
                fail(format!(
                    "Failed to find handler for \"{}\". Make sure the required command to extract the file is installed. Command \"{tool}\" not found.",
                    p.src
                ))
            } else if marker(&stdout, NO_CLIENT).is_some() {
                fail("unarchive needs curl, wget or apt-helper on the target to download a URL src (install the curl package)".into())
            } else if marker(&stdout, "downloadfailed").is_some() {
                fail(format!("Failure downloading {}: {stderr}", p.src))
            } else if marker(&stdout, "badarchive").is_some() {
                fail(format!(
                    "Failed to find handler for \"{}\". Make sure the required command to extract the file is installed. {stderr}",
                    p.src
                ))
            } else {
                fail(format!(
                    "unpacking {} failed (rc {}): {stderr}",
                    p.src, out.rc
                ))
            };
        }
        let handler = marker(&stdout, "handler").unwrap_or("").to_string();
        let changed = stdout.lines().any(|l| l.starts_with("@diff "));
        let mut r = ModuleResult::changed(changed)
            .with("dest", p.dest.as_str())
            .with("src", p.src.as_str())
            .with("handler", handler.as_str());
        if p.list_files {
            let files: Vec<Value> = members(&stdout).map(Value::from).collect();
            r = r.with("files", files);
        }
        if ctx.diff && changed {
            let paths: Vec<&str> = stdout
                .lines()
                .filter_map(|l| l.strip_prefix("@diff "))
                .collect();
            r = r.with_diff(drover_core::module::Diff {
                before_header: Some(p.dest.clone()),
                after_header: Some(p.src.clone()),
                before: String::new(),
                after: paths
                    .iter()
                    .map(|f| format!("{}\n", f.trim_start_matches("./")))
                    .collect(),
            });
        }
        let cmd = if handler == "ZipArchive" {
            "unzip"
        } else {
            "tar"
        };
        let mut extract = Map::new();
        extract.insert("cmd".into(), Value::from(cmd));
        extract.insert("rc".into(), Value::from(0));
        extract.insert("out".into(), Value::from(""));
        extract.insert("err".into(), Value::from(stderr));
        let mut r = r.with("extract_results", Value::Object(extract));
        // As ansible-core, `attributes` is applied to every member once unpacked (not in
        // check mode), after owner and mode.
        if let Some(a) = p.attrs.chattr().filter(|_| !ctx.check_mode) {
            for member in members(&stdout) {
                let path = join_path(&p.dest, member);
                r = apply_attributes_to(ctx, &path, &a, r, false).await?;
                if r.failed {
                    break;
                }
            }
        }
        Ok(r)
    }
}

/// The archive's member names, as the unpack script lists them.
fn members(stdout: &str) -> impl Iterator<Item = &str> {
    stdout
        .split("@files\n")
        .nth(1)
        .and_then(|rest| rest.split("@end\n").next())
        .unwrap_or("")
        .lines()
}

fn rand_id() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    (nanos as u64).rotate_left(17) ^ u64::from(std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(extra: Value) -> UnarchiveParams {
        let mut args = serde_json::json!({"src": "a.tgz", "dest": "/opt/x y"});
        if let (Value::Object(a), Value::Object(e)) = (&mut args, extra) {
            a.extend(e);
        }
        serde_json::from_value(args).unwrap()
    }

    #[test]
    fn script_quotes_and_applies_options() {
        let p = params(
            serde_json::json!({"exclude": ["*.log"], "mode": "0750", "extra_opts": ["--strip-components=1"]}),
        );
        let s = Plan {
            p: &p,
            source: "a=/x".into(),
            apply: false,
        }
        .script();
        assert!(s.contains("d='/opt/x y'"), "{s}");
        assert!(s.contains("--exclude='*.log'"), "{s}");
        assert!(s.contains("chmod 00750"), "{s}");
        assert!(
            s.contains("tar -xf \"$a\" -C \"$w/x\" --strip-components=1"),
            "{s}"
        );
        assert!(s.contains("[ 0 = 1 ]"), "{s}");
    }

    #[test]
    fn copy_no_means_remote() {
        let p = params(serde_json::json!({"copy": "no"}));
        assert_eq!(p.copy, Some(false));
    }
}
