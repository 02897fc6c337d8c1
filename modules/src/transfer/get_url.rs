//! `get_url`: downloads a file ON the target (with `curl`, or `wget` when curl is missing) and
//! puts it in place atomically when it differs, verifying an optional `checksum`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use drover_core::connection::{shell_quote, ExecRequest};
use drover_core::module::{
    parse_params, LegacyTypedModule, Module, ModuleContext, ModuleError, ModuleResult,
};
use drover_core::params::ArgError;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::http::{client_error, parse_headers, parse_outcome, HttpRequest, NO_CLIENT};
use super::{bad_args, marker};
use crate::files::write::{converge_file, probe_requests, Data, FileWrite};
use crate::params::{check_keys, de_bool, de_opt_mode, de_opt_string, de_string};
use crate::remote::attrs::AttrRequest;
use crate::remote::checksum::ChecksumAlgorithm;
use crate::remote::mode::Mode;
use crate::remote::probe::{probe, ProbeRequest};
use crate::remote::{base_name, join_path, quote_path};

/// Parameters of `get_url`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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
    pub headers: Option<Value>,
    /// Seconds before the connection or a stalled transfer fails (default 10).
    #[serde(default = "ten")]
    pub timeout: Value,
    /// Mode of the file.
    #[serde(default, deserialize_with = "de_opt_mode")]
    pub mode: Option<Mode>,
    /// Owner.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub owner: Option<String>,
    /// Group.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub group: Option<String>,
    /// Keep a timestamped backup of a replaced file.
    #[serde(default, deserialize_with = "de_bool")]
    pub backup: bool,
    /// Basic-auth user.
    #[serde(default, alias = "username", deserialize_with = "de_opt_string")]
    pub url_username: Option<String>,
    /// Basic-auth password.
    #[serde(default, alias = "password", deserialize_with = "de_opt_string")]
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
    /// Accepted for compatibility.
    #[serde(default, deserialize_with = "de_bool")]
    pub unsafe_writes: bool,
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

const GET_URL_KEYS: &[&str] = &[
    "url",
    "dest",
    "checksum",
    "force",
    "headers",
    "timeout",
    "mode",
    "owner",
    "group",
    "backup",
    "url_username",
    "username",
    "url_password",
    "password",
    "force_basic_auth",
    "validate_certs",
    "http_agent",
    "tmp_dest",
    "use_proxy",
    "unsafe_writes",
];

/// The `get_url` module.
pub struct GetUrl;

/// A parsed `checksum:` argument.
#[derive(Debug, Clone, PartialEq)]
pub struct ChecksumSpec {
    /// Algorithm.
    pub algorithm: ChecksumAlgorithm,
    /// Expected hex digest, or the URL of a checksum file.
    pub value: String,
}

/// Parses `algorithm:value`.
pub fn parse_checksum(spec: &str) -> Result<ChecksumSpec, String> {
    let (algo, value) = spec.split_once(':').ok_or_else(|| {
        "The checksum parameter has to be in format <algorithm>:<checksum>".to_string()
    })?;
    let algorithm: ChecksumAlgorithm =
        serde_json::from_value(Value::String(algo.trim().to_ascii_lowercase())).map_err(|_| {
            format!(
            "unsupported checksum algorithm '{algo}' (md5, sha1, sha224, sha256, sha384, sha512)"
        )
        })?;
    let value = value.trim().to_string();
    if !value.contains("://") && !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "The checksum '{value}' is not a hexadecimal digest"
        ));
    }
    let value = if value.contains("://") {
        value
    } else {
        value.to_ascii_lowercase()
    };
    Ok(ChecksumSpec { algorithm, value })
}

/// Finds the digest for `filename` in a checksum file (`<hex>  <name>` lines, or one bare digest).
pub fn digest_from_list(list: &str, filename: &str) -> Option<String> {
    let lines: Vec<&str> = list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if let [only] = lines.as_slice() {
        if !only.contains(char::is_whitespace) {
            return Some(only.to_ascii_lowercase());
        }
    }
    lines.iter().find_map(|l| {
        let mut parts = l.split_whitespace();
        let digest = parts.next()?;
        let name = parts
            .next()?
            .trim_start_matches('*')
            .trim_start_matches("./");
        (name == filename).then(|| digest.to_ascii_lowercase())
    })
}

/// Request headers from the `headers` argument.
pub fn parse_header_arg(v: &Option<Value>) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    match v {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let s = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                out.insert(k.clone(), s);
            }
        }
        Some(Value::String(s)) if !s.trim().is_empty() => {
            for pair in s.split(',') {
                let (k, v) = pair.split_once(':').ok_or_else(|| {
                    format!("headers must be a mapping or 'Key:Value,...', got '{s}'")
                })?;
                out.insert(k.trim().to_string(), v.trim().to_string());
            }
        }
        Some(Value::String(_)) => {}
        Some(other) => return Err(format!("headers must be a mapping, got {other}")),
    }
    Ok(out)
}

/// Reads a timeout given as a number or numeric string.
pub fn parse_timeout(v: &Value) -> Result<u64, String> {
    match v {
        Value::Number(n) => n.as_f64().map(|f| f.ceil().max(1.0) as u64),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .map(|f| f.ceil().max(1.0) as u64),
        _ => None,
    }
    .ok_or_else(|| format!("timeout must be a number of seconds, got {v}"))
}

/// The file name a download into a directory gets: `Content-Disposition`'s, else the URL's last
/// path segment.
pub fn file_name_for(url: &str, disposition: Option<&str>) -> String {
    if let Some(d) = disposition {
        if let Some(i) = d.find("filename=") {
            let name = d[i + 9..]
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"');
            let name = base_name(name);
            if !name.is_empty() && name != "." && name != ".." {
                return name;
            }
        }
    }
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let path = path.split_once("://").map_or(path, |(_, rest)| rest);
    let name = match path.split_once('/') {
        Some((_, p)) => base_name(p),
        None => String::new(),
    };
    if name.is_empty() {
        "index.html".into()
    } else {
        name
    }
}

fn no_client_msg(module: &str) -> String {
    format!(
        "{module} needs curl or wget on the target and neither is installed (install the curl package)"
    )
}

#[async_trait]
impl Module for GetUrl {
    fn name(&self) -> &'static str {
        "get_url"
    }

    fn check_args(&self, args: &Map<String, Value>) -> Result<(), ArgError> {
        check_keys("get_url", args, GET_URL_KEYS, &[&["url"], &["dest"]])
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        args: &Value,
    ) -> Result<ModuleResult, ModuleError> {
        self.run_with(ctx, parse_params(self.name(), args)?).await
    }
}

#[async_trait]
impl LegacyTypedModule for GetUrl {
    type Params = GetUrlParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: GetUrlParams,
    ) -> Result<ModuleResult, ModuleError> {
        let bad = |m: String| bad_args("get_url", m);
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
                    attrs: AttrRequest {
                        mode: p.mode.clone(),
                        owner: p.owner.clone(),
                        group: p.group.clone(),
                    },
                    backup: false,
                    force: true,
                    validate: None,
                    follow: false,
                    create_parent: false,
                    diff_header: p.url.clone(),
                    attributes: None,
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
            attrs: AttrRequest {
                mode: p.mode.clone(),
                owner: p.owner.clone(),
                group: p.group.clone(),
            },
            backup: p.backup,
            force: true,
            validate: None,
            follow: false,
            create_parent: false,
            diff_header: p.url.clone(),
            attributes: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_specs() {
        let c = parse_checksum("sha256:ABCDEF").unwrap();
        assert_eq!(c.algorithm, ChecksumAlgorithm::Sha256);
        assert_eq!(c.value, "abcdef");
        assert!(parse_checksum("sha256").is_err());
        assert!(parse_checksum("crc:00").is_err());
        assert!(parse_checksum("sha1:xyz").is_err());
        assert!(parse_checksum("sha1:http://h/SUMS").is_ok());
    }

    #[test]
    fn checksum_files() {
        let list = "aaa  other.tgz\nBBB *app.tgz\n";
        assert_eq!(digest_from_list(list, "app.tgz").as_deref(), Some("bbb"));
        assert_eq!(digest_from_list("ccc\n", "x").as_deref(), Some("ccc"));
        assert_eq!(digest_from_list(list, "nope"), None);
    }

    #[test]
    fn names_and_headers() {
        assert_eq!(file_name_for("http://h/a/b.tgz?x=1", None), "b.tgz");
        assert_eq!(file_name_for("http://h", None), "index.html");
        assert_eq!(
            file_name_for("http://h/x", Some("attachment; filename=\"r.bin\"")),
            "r.bin"
        );
        let h = parse_header_arg(&Some(Value::String("A:1, B: 2".into()))).unwrap();
        assert_eq!(h["A"], "1");
        assert_eq!(h["B"], "2");
        assert_eq!(parse_timeout(&Value::from("2.5")).unwrap(), 3);
    }
}
