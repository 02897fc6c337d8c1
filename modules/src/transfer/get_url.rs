//! `get_url`: downloads a file ON the target (with `curl`, else `wget`, else apt-helper) and
//! puts it in place atomically when it differs, verifying an optional `checksum`.

use async_trait::async_trait;
use drover_core::connection::{shell_quote, ExecRequest};
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::Value;

pub use super::get_url_args::{
    digest_from_list, file_name_for, parse_checksum, parse_header_arg, parse_timeout, ChecksumSpec,
};
use super::http::{client_error, parse_headers, parse_outcome, HttpRequest, NO_CLIENT};
use super::{bad_args, marker};
use crate::files::write::{converge_file, probe_requests, Data, FileWrite};
use crate::params::{de_bool, de_opt_string, de_string};
use crate::remote::checksum::ChecksumAlgorithm;
use crate::remote::file_attrs::FileAttrs;
use crate::remote::probe::{probe, ProbeRequest};
use crate::remote::{join_path, quote_path};

/// Parameters of `get_url`.
#[derive(Debug, Deserialize, ModuleParams)]
pub struct GetUrlParams {
    /// What to download (http, https, ftp or file URL).
    #[serde(deserialize_with = "de_string")]
    pub url: String,
    /// Destination file, or a directory to put the file in (name from the URL).
    #[serde(deserialize_with = "de_string")]
    pub dest: String,
    /// `algorithm:hex` or `algorithm:URL of a checksum file`; a matching `dest` is not downloaded.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub checksum: Option<String>,
    /// Download even when `dest` exists (replacing it when the contents differ).
    #[serde(default, deserialize_with = "de_bool")]
    pub force: bool,
    /// Request headers: a mapping (or the legacy `"Key:Value,Key:Value"` string).
    #[serde(default)]
    #[param(kind = "dict")]
    pub headers: Option<Value>,
    /// Seconds before the connection or a stalled transfer fails (default 10).
    #[serde(default = "ten")]
    #[param(kind = "int", default = "10")]
    pub timeout: Value,
    /// Keep a timestamped backup of a replaced file.
    #[serde(default, deserialize_with = "de_bool")]
    pub backup: bool,
    /// Basic-auth user.
    #[serde(default, alias = "username", deserialize_with = "de_opt_string")]
    pub url_username: Option<String>,
    /// Basic-auth password.
    #[serde(default, alias = "password", deserialize_with = "de_opt_string")]
    #[param(no_log)]
    pub url_password: Option<String>,
    /// Accepted: credentials are always sent with the first request.
    #[serde(default, deserialize_with = "de_bool")]
    pub force_basic_auth: bool,
    /// Verify TLS certificates (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub validate_certs: bool,
    /// `User-Agent` header.
    #[serde(default = "agent", deserialize_with = "de_string")]
    pub http_agent: String,
    /// Directory on the target for the download before it is moved into place.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub tmp_dest: Option<String>,
    /// Accepted for compatibility (proxies follow the target's environment).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub use_proxy: bool,
    /// The common file attributes of the downloaded file.
    #[serde(flatten)]
    pub attrs: FileAttrs,
}

fn yes() -> bool {
    true
}
fn ten() -> Value {
    Value::from(10)
}
fn agent() -> String {
    "ansible-httpget".into()
}

/// The `get_url` module.
pub struct GetUrl;

fn no_client_msg(module: &str) -> String {
    format!(
        "{module} needs curl, wget or apt-helper on the target and none is installed (install the curl package)"
    )
}

#[async_trait]
impl TypedModule for GetUrl {
    const NAME: &'static str = "get_url";
    type Params = GetUrlParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: GetUrlParams,
    ) -> Result<ModuleResult, ModuleError> {
        let bad = |m: String| bad_args("get_url", m);
        if let Some(failed) = p.attrs.selinux_failure(ctx).await? {
            return Ok(failed);
        }
        let checksum = p
            .checksum
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(parse_checksum)
            .transpose()
            .map_err(bad)?;
        let mut req = HttpRequest::get(&p.url);
        req.headers = parse_header_arg(&p.headers).map_err(bad)?;
        req.timeout = parse_timeout(&p.timeout).map_err(bad)?;
        req.validate_certs = p.validate_certs;
        req.user_agent = Some(p.http_agent.clone());
        if let Some(user) = &p.url_username {
            req.credentials = Some((user.clone(), p.url_password.clone().unwrap_or_default()));
        }
        let tmpdir = p
            .tmp_dest
            .as_deref()
            .map(quote_path)
            .unwrap_or_else(|| "\"${TMPDIR:-/tmp}\"".into());

        // The expected digest, fetching a checksum file first when given by URL.
        let expected = match &checksum {
            None => None,
            Some(c) if c.value.contains("://") => {
                let list = download_text(ctx, &req, &c.value, &tmpdir).await?;
                let list = match list {
                    Ok(t) => t,
                    Err(msg) => return Ok(ModuleResult::failed(msg).with("url", p.url.as_str())),
                };
                let name = file_name_for(&p.url, None);
                match digest_from_list(&list, &name) {
                    Some(d) => Some((c.algorithm, d)),
                    None => {
                        return Ok(ModuleResult::failed(format!(
                            "Unable to find a checksum for file '{name}' in '{}'",
                            c.value
                        ))
                        .with("url", p.url.as_str()))
                    }
                }
            }
            Some(c) => Some((c.algorithm, c.value.clone())),
        };

        // Is dest already what we want? (Skip the download when it is.)
        let mut algos = vec![ChecksumAlgorithm::Sha1];
        if let Some((a, _)) = &expected {
            if *a != ChecksumAlgorithm::Sha1 {
                algos.push(*a);
            }
        }
        let pre = probe(
            ctx.conn,
            &[ProbeRequest {
                follow: true,
                checksums: algos.clone(),
                ..ProbeRequest::new(&p.dest)
            }],
        )
        .await?;
        let dest_is_dir = pre[0].is_dir();
        if let Some(info) = pre[0].info.as_ref().filter(|_| !dest_is_dir) {
            let matches = expected
                .as_ref()
                .map(|(a, d)| info.checksum(*a) == Some(d.as_str()));
            if matches == Some(true) || (matches.is_none() && !p.force) {
                // No download; only the file attributes are converged.
                let sha1 = info
                    .checksum(ChecksumAlgorithm::Sha1)
                    .unwrap_or_default()
                    .to_string();
                let stats = probe(ctx.conn, &probe_requests(&p.dest, false)).await?;
                let write = FileWrite {
                    module: "get_url",
                    dest: p.dest.clone(),
                    data: Data::Remote {
                        path: p.dest.clone(),
                        size: info.size,
                        content: None,
                    },
                    checksum: sha1.clone(),
                    attrs: p.attrs.request(),
                    backup: false,
                    force: true,
                    validate: None,
                    follow: false,
                    create_parent: false,
                    diff_header: p.url.clone(),
                    attributes: p.attrs.chattr(),
                };
                let mut r = converge_file(ctx, &write, &stats).await?;
                if r.failed {
                    return Ok(r.with("url", p.url.as_str()));
                }
                r.msg = Some(if r.changed {
                    "file already exists but file attributes changed".into()
                } else {
                    "file already exists".into()
                });
                return Ok(r.with("url", p.url.as_str()).with("checksum_dest", sha1));
            }
        }

        // Download on the target, with checksums of the result.
        let started = std::time::Instant::now();
        let mut script = req.script(&tmpdir);
        script.push_str("if [ \"$rc\" -eq 0 ]; then echo \"@size $(wc -c < \"$t\")\";");
        for a in &algos {
            script.push_str(&format!(
                " s=$({} < \"$t\"); echo \"@{} ${{s%% *}}\";",
                a.command(),
                a.command()
            ));
        }
        script.push_str(" fi\nd=$(grep -i '^content-disposition:' \"$h\" 2>/dev/null | tail -n 1 | tr -d '\\r'); [ -n \"$d\" ] && echo \"@disposition ${d#*:}\"\nrm -f \"$h\"\n[ \"$rc\" -eq 0 ] || rm -f \"$t\"\nexit 0\n");
        let out = ctx.conn.exec(ExecRequest::new(script)).await?;
        let stdout = out.stdout_str();
        if marker(&stdout, NO_CLIENT).is_some() {
            return Ok(ModuleResult::failed(no_client_msg("get_url")).with("url", p.url.as_str()));
        }
        let Some(outcome) = parse_outcome(&stdout, &p.url) else {
            return Ok(ModuleResult::failed(format!(
                "download failed (rc {}): {}",
                out.rc,
                out.stderr_str().trim()
            ))
            .with("url", p.url.as_str()));
        };
        let elapsed = started.elapsed().as_secs();
        let cleanup = format!("rm -f {}", shell_quote(&outcome.tmp));
        let fail = |msg: String| {
            ModuleResult::failed(msg)
                .with("url", p.url.as_str())
                .with("dest", p.dest.as_str())
                .with("status_code", outcome.status)
                .with("elapsed", elapsed)
        };
        if outcome.rc != 0 {
            let detail = out.stderr_str().trim().to_string();
            return Ok(fail(format!(
                "Request failed: {} ({detail})",
                client_error(outcome.rc)
            )));
        }
        if outcome.status != 200 && outcome.status != 304 {
            ctx.conn.run(cleanup).await?;
            return Ok(
                fail(format!("Request failed: HTTP Error {}", outcome.status))
                    .with("response", format!("HTTP Error {}", outcome.status)),
            );
        }
        let size: u64 = marker(&stdout, "size")
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        let sum = |a: ChecksumAlgorithm| marker(&stdout, a.command()).map(str::to_string);
        let sha1 = sum(ChecksumAlgorithm::Sha1).unwrap_or_default();
        if let Some((a, want)) = &expected {
            let got = sum(*a).unwrap_or_default();
            if &got != want {
                ctx.conn.run(cleanup).await?;
                return Ok(fail(format!(
                    "The checksum for {} did not match {want}; it was {got}.",
                    outcome.tmp
                )));
            }
        }
        let dest = if dest_is_dir {
            let headers = parse_headers(
                &marker(&stdout, "disposition")
                    .map(|d| format!("X\ncontent-disposition: {d}"))
                    .unwrap_or_default(),
            );
            join_path(
                &p.dest,
                &file_name_for(
                    &outcome.url,
                    headers.get("content_disposition").map(String::as_str),
                ),
            )
        } else {
            p.dest.clone()
        };
        let stats = probe(ctx.conn, &probe_requests(&dest, false)).await?;
        let write = FileWrite {
            module: "get_url",
            dest: dest.clone(),
            data: Data::Remote {
                path: outcome.tmp.clone(),
                size,
                content: None,
            },
            checksum: sha1.clone(),
            attrs: p.attrs.request(),
            backup: p.backup,
            force: true,
            validate: None,
            follow: false,
            create_parent: false,
            diff_header: p.url.clone(),
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
        ctx.conn.run(cleanup).await?;
        let mut r = converged?;
        if r.failed {
            return Ok(r.with("url", p.url.as_str()));
        }
        let dest_sum = stats[1]
            .info
            .as_ref()
            .and_then(|i| i.checksum(ChecksumAlgorithm::Sha1))
            .map(str::to_string);
        r.msg = Some(format!("OK ({size} bytes)"));
        // The shared write pipeline reports `checksum` (as copy does); get_url's result has
        // `checksum_src`/`checksum_dest` instead.
        r.data.remove("checksum");
        r = r
            .with("url", p.url.as_str())
            .with("status_code", outcome.status)
            .with("elapsed", elapsed)
            .with("checksum_src", sha1.as_str())
            .with("checksum_dest", dest_sum.map_or(Value::Null, Value::from));
        if ctx.diff && r.changed {
            r = r.with_diff(drover_core::module::Diff {
                before_header: None,
                after_header: None,
                before: if stats[1].exists() {
                    format!(
                        "{dest}: {}\n",
                        stats[1]
                            .info
                            .as_ref()
                            .and_then(|i| i.checksum(ChecksumAlgorithm::Sha1))
                            .unwrap_or("")
                    )
                } else {
                    String::new()
                },
                after: format!("{dest}: {sha1}\n"),
            });
        }
        Ok(r)
    }
}

/// Downloads `url` on the target and returns its text (for checksum files).
async fn download_text(
    ctx: &ModuleContext<'_>,
    base: &HttpRequest,
    url: &str,
    tmpdir: &str,
) -> Result<Result<String, String>, ModuleError> {
    let mut req = base.clone();
    req.url = url.to_string();
    let mut script = req.script(tmpdir);
    script.push_str("rm -f \"$h\"\nif [ \"$rc\" -eq 0 ]; then echo '@body'; cat \"$t\"; fi\nrm -f \"$t\"\nexit 0\n");
    let out = ctx.conn.exec(ExecRequest::new(script)).await?;
    let stdout = out.stdout_str();
    if marker(&stdout, NO_CLIENT).is_some() {
        return Ok(Err(no_client_msg("get_url")));
    }
    let head_end = stdout.find("@body\n");
    let outcome = parse_outcome(&stdout[..head_end.unwrap_or(stdout.len())], url);
    match (outcome, head_end) {
        (Some(o), Some(i)) if o.status == 200 => Ok(Ok(stdout[i + 6..].to_string())),
        (Some(o), _) => Ok(Err(format!(
            "failed to download the checksum file {url}: {}",
            if o.rc != 0 {
                client_error(o.rc).to_string()
            } else {
                format!("HTTP Error {}", o.status)
            }
        ))),
        (None, _) => Ok(Err(format!(
            "failed to download the checksum file {url}: {}",
            out.stderr_str().trim()
        ))),
    }
}
