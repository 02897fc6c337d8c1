//! `archive` (community.general): packs or compresses files on the target into a tar (plain, gz,
//! bz2, xz) or zip archive. Archives are built reproducibly (sorted members, no timestamps in
//! the compression header) in a temporary file and only replace `dest` when they differ, so
//! re-runs over unchanged files report `changed: false`.

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::Value;

use super::{bad_args, marker};
use crate::files::write::{converge_file, probe_requests, Data, FileWrite};
use crate::params::{de_bool, de_opt_string, de_string_list};
use crate::remote::file_attrs::FileAttrs;
use crate::remote::{parent_dir, quote_glob, quote_path};

/// Parameters of `archive`.
#[derive(Debug, Deserialize, ModuleParams)]
pub struct ArchiveParams {
    /// Paths or globs to archive.
    #[serde(deserialize_with = "de_string_list")]
    pub path: Vec<String>,
    /// The archive file (defaults to the single path plus the format's extension).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub dest: Option<String>,
    /// `gz` (default), `bz2`, `xz`, `tar` or `zip`.
    #[serde(default = "gz", deserialize_with = "crate::params::de_string")]
    #[param(choices("bz2", "gz", "tar", "xz", "zip"), default = "gz")]
    pub format: String,
    /// Paths or globs left out.
    #[serde(default, deserialize_with = "de_string_list")]
    pub exclude_path: Vec<String>,
    /// Member name patterns left out.
    #[serde(default, deserialize_with = "de_string_list")]
    pub exclusion_patterns: Vec<String>,
    /// Archive (not just compress) even a single file.
    #[serde(default, deserialize_with = "de_bool")]
    pub force_archive: bool,
    /// Remove the sources after archiving.
    #[serde(default, deserialize_with = "de_bool")]
    pub remove: bool,
    /// The common file attributes of the archive.
    #[serde(flatten)]
    pub attrs: FileAttrs,
}

fn gz() -> String {
    "gz".into()
}

/// The `archive` module.
pub struct Archive;

/// The file extension Ansible appends for `format`.
pub fn extension(format: &str, archive: bool) -> &'static str {
    match (format, archive) {
        ("gz", true) => ".tar.gz",
        ("bz2", true) => ".tar.bz2",
        ("xz", true) => ".tar.xz",
        ("gz", false) => ".gz",
        ("bz2", false) => ".bz2",
        ("xz", false) => ".xz",
        ("zip", _) => ".zip",
        _ => ".tar",
    }
}

/// The longest common directory of `paths` (with a trailing `/`): the archive's root.
pub fn common_root(paths: &[String]) -> String {
    let parents: Vec<Vec<String>> = paths
        .iter()
        .map(|p| {
            parent_dir(p)
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .collect();
    let Some(first) = parents.first() else {
        return "/".into();
    };
    let mut n = first.len();
    for p in &parents[1..] {
        n = n.min(first.iter().zip(p).take_while(|(a, b)| a == b).count());
    }
    let mut root = String::from("/");
    for part in &first[..n] {
        root.push_str(part);
        root.push('/');
    }
    root
}

fn relative(path: &str, root: &str) -> String {
    let p = path.trim_end_matches('/');
    p.strip_prefix(root).unwrap_or(p).to_string()
}

#[async_trait]
impl TypedModule for Archive {
    const NAME: &'static str = "archive";
    type Params = ArchiveParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: ArchiveParams,
    ) -> Result<ModuleResult, ModuleError> {
        if !matches!(p.format.as_str(), "gz" | "bz2" | "xz" | "tar" | "zip") {
            return Err(bad_args(
                "archive",
                format!(
                    "format must be one of bz2, gz, tar, xz, zip; got {}",
                    p.format
                ),
            ));
        }
        if let Some(failed) = p.attrs.selinux_failure(ctx).await? {
            return Ok(failed);
        }
        // 1. Expand globs.
        let mut script = String::new();
        for (tag, list) in [("x", &p.path), ("e", &p.exclude_path)] {
            for g in list {
                script.push_str(&format!(
                    "for p in {}; do if [ -e \"$p\" ] || [ -h \"$p\" ]; then if [ -d \"$p\" ] && [ ! -h \"$p\" ]; then echo \"@{tag}d $p\"; else echo \"@{tag}f $p\"; fi; else echo \"@{tag}m $p\"; fi; done\n",
                    quote_glob(g)
                ));
            }
        }
        let out = ctx.conn.run(script).await?;
        let text = out.stdout_str();
        let pick = |keys: &[&str]| -> Vec<String> {
            text.lines()
                .filter_map(|l| {
                    let (k, v) = l.split_once(' ')?;
                    keys.contains(&k).then(|| v.to_string())
                })
                .collect()
        };
        let expanded = pick(&["@xd", "@xf"]);
        let missing = pick(&["@xm"]);
        let excluded = pick(&["@ed", "@ef"]);
        let single_file = expanded.len() == 1 && pick(&["@xf"]).len() == 1 && missing.is_empty();
        let compress = single_file && !p.force_archive && p.format != "zip" && p.format != "tar";
        let Some(first) = expanded.first() else {
            return Ok(ModuleResult::failed(format!(
                "Error, no source paths were found: {}",
                p.path.join(", ")
            ))
            .with("missing", missing));
        };
        let dest = match &p.dest {
            Some(d) => d.clone(),
            None if expanded.len() == 1 => {
                format!(
                    "{}{}",
                    first.trim_end_matches('/'),
                    extension(&p.format, !compress)
                )
            }
            None => {
                return Err(bad_args(
                    "archive",
                    "dest is required when archiving multiple paths",
                ))
            }
        };
        let root = common_root(&expanded);
        let members: Vec<String> = expanded.iter().map(|e| relative(e, &root)).collect();
        let qmembers = members
            .iter()
            .map(|m| shell_quote(m))
            .collect::<Vec<_>>()
            .join(" ");
        let mut excl: Vec<String> = excluded.iter().map(|e| relative(e, &root)).collect();
        excl.extend(p.exclusion_patterns.iter().cloned());

        // 2. Build the archive in a temporary file.
        let compressor = match p.format.as_str() {
            "gz" => "gzip -n -c",
            "bz2" => "bzip2 -c",
            "xz" => "xz -c",
            _ => "cat",
        };
        let tool = compressor.split(' ').next().unwrap_or("cat");
        let build = if compress {
            format!(
                "{compressor} -- {} > \"$t\" || exit 5\necho \"@member {}\"\n",
                quote_path(first),
                first
            )
        } else if p.format == "zip" {
            let x = if excl.is_empty() {
                String::new()
            } else {
                format!(
                    " -x {}",
                    excl.iter()
                        .map(|e| shell_quote(e))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            };
            format!(
                "command -v zip >/dev/null 2>&1 || {{ echo '@notool zip'; exit 4; }}\nrm -f \"$t\"\ncd {} || exit 5\nzip -X -q -r \"$t.zip\" {qmembers}{x} && mv \"$t.zip\" \"$t\" || exit 5\n\
                 unzip -Z1 \"$t\" 2>/dev/null | sed 's|^|@member |'\n",
                quote_path(&root)
            )
        } else {
            let x: String = excl
                .iter()
                .map(|e| format!(" --exclude={}", shell_quote(e)))
                .collect();
            format!(
                "cd {} || exit 5\ntar --sort=name{x} -cvf \"$t.tar\" {qmembers} > \"$t.list\" || {{ rm -f \"$t.list\"; exit 5; }}\nsed 's|^|@member |' \"$t.list\"; rm -f \"$t.list\"\n{compressor} \"$t.tar\" > \"$t\" || {{ rm -f \"$t.tar\"; exit 5; }}\nrm -f \"$t.tar\"\n",
                quote_path(&root)
            )
        };
        let script = format!(
            "command -v {tool} >/dev/null 2>&1 || {{ echo '@notool {tool}'; exit 4; }}\nt=$(mktemp \"${{TMPDIR:-/tmp}}/.drover-archive-XXXXXXXX\") || exit 1\necho \"@tmp $t\"\n{build}s=$(sha1sum < \"$t\"); echo \"@sha1 ${{s%% *}}\"; echo \"@size $(wc -c < \"$t\")\"\n"
        );
        let out = ctx.conn.run(script).await?;
        let text = out.stdout_str();
        let tmp = marker(&text, "tmp").map(str::to_string);
        let cleanup = tmp.as_ref().map(|t| {
            format!(
                "rm -f {} {}.tar {}.zip",
                shell_quote(t),
                shell_quote(t),
                shell_quote(t)
            )
        });
        if out.rc != 0 {
            if let Some(c) = &cleanup {
                ctx.conn.run(c.clone()).await?;
            }
            let msg = match marker(&text, "notool") {
                Some(t) => format!("archive needs `{t}` on the target and it is not installed"),
                None => format!("Error creating {dest}: {}", out.stderr_str().trim()),
            };
            return Ok(ModuleResult::failed(msg).with("dest", dest.as_str()));
        }
        let (Some(tmp), Some(sha1)) = (tmp, marker(&text, "sha1").map(str::to_string)) else {
            return Ok(ModuleResult::failed(format!(
                "Error creating {dest}: no archive produced"
            )));
        };
        let size = marker(&text, "size")
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        let archived: Vec<Value> = text
            .lines()
            .filter_map(|l| l.strip_prefix("@member "))
            .filter(|m| !m.ends_with('/'))
            .map(|m| {
                if m.starts_with('/') {
                    m.to_string()
                } else {
                    format!("{root}{m}")
                }
            })
            .map(Value::from)
            .collect();

        // 3. Put it in place when it differs.
        let stats = crate::remote::probe::probe(ctx.conn, &probe_requests(&dest, false)).await?;
        let write = FileWrite {
            module: "archive",
            dest: dest.clone(),
            data: Data::Remote {
                path: tmp.clone(),
                size,
                content: None,
            },
            checksum: sha1,
            attrs: p.attrs.request(),
            backup: false,
            force: true,
            validate: None,
            follow: false,
            create_parent: false,
            diff_header: dest.clone(),
            attributes: p.attrs.chattr(),
        };
        let quiet = ModuleContext {
            host: ctx.host,
            conn: ctx.conn,
            check_mode: ctx.check_mode,
            diff: false,
            controller: ctx.controller,
        };
        let converged = converge_file(&quiet, &write, &stats).await;
        let mut post = cleanup.unwrap_or_default();
        let mut removed = false;
        if p.remove && !ctx.check_mode && converged.as_ref().is_ok_and(|r| !r.failed) {
            for e in &expanded {
                post.push_str(&format!("; rm -rf -- {}", quote_path(e)));
            }
            removed = true;
        }
        ctx.conn.run(post).await?;
        let r = converged?;
        if r.failed {
            return Ok(r);
        }
        let changed = r.changed || removed;
        let mut r = r;
        r.changed = changed;
        let state = if compress {
            "compress"
        } else if missing.is_empty() {
            "archive"
        } else {
            "incomplete"
        };
        Ok(r.with("archived", archived)
            .with("arcroot", root)
            .with("expanded_paths", expanded)
            .with("expanded_exclude_paths", excluded)
            .with("missing", missing)
            .with("dest_state", state)
            .with("state", state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_and_extensions() {
        assert_eq!(common_root(&["/srv/www".into()]), "/srv/");
        assert_eq!(
            common_root(&["/srv/www/a".into(), "/srv/www/b/c".into()]),
            "/srv/www/"
        );
        assert_eq!(common_root(&["/a/x".into(), "/b/y".into()]), "/");
        assert_eq!(relative("/srv/www/", "/srv/"), "www");
        assert_eq!(extension("gz", true), ".tar.gz");
        assert_eq!(extension("gz", false), ".gz");
        assert_eq!(extension("zip", false), ".zip");
    }
}
