//! HTTP requests made ON the target with `curl` (or, for plain downloads, `wget` or apt's own
//! `apt-helper download-file`, which every Debian-family host has): the shell snippet shared by
//! `get_url`, `uri`, `unarchive` with a URL `src`, `apt` with a URL `deb`, `apt_key` and
//! `deb822_repository` with a URL `signed_by`. A bare Debian host with neither curl nor wget can
//! still download, as ansible-core can with Python.

use std::collections::BTreeMap;

use drover_core::connection::shell_quote;

/// One HTTP request to run on the target.
#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    /// The URL (http, https, ftp or file).
    pub url: String,
    /// Method; `None` is GET (or POST when there is a body, as curl does).
    pub method: Option<String>,
    /// Request headers.
    pub headers: BTreeMap<String, String>,
    /// Send the request body from standard input.
    pub body_from_stdin: bool,
    /// Seconds before a connection or a stalled transfer fails.
    pub timeout: u64,
    /// Follow redirects.
    pub follow_redirects: bool,
    /// Verify TLS certificates.
    pub validate_certs: bool,
    /// Basic-auth credentials.
    pub credentials: Option<(String, String)>,
    /// `User-Agent` header.
    pub user_agent: Option<String>,
    /// Allow the `wget` and `apt-helper` fallbacks (plain GET downloads only).
    pub allow_wget: bool,
}

/// Marker printed when no client exists on the target.
pub const NO_CLIENT: &str = "noclient";

/// apt's downloader, present wherever apt is.
const APT_HELPER: &str = "/usr/lib/apt/apt-helper";

impl HttpRequest {
    /// A GET of `url` with Ansible's defaults (10 s timeout, redirects followed, certificates
    /// checked).
    pub fn get(url: &str) -> Self {
        Self {
            url: url.to_string(),
            timeout: 10,
            follow_redirects: true,
            validate_certs: true,
            allow_wget: true,
            ..Self::default()
        }
    }

    fn curl_line(&self) -> String {
        let mut a = vec![
            "curl".to_string(),
            "-sS".into(),
            "--connect-timeout".into(),
            self.timeout.to_string(),
            "--speed-time".into(),
            self.timeout.to_string(),
            "--speed-limit".into(),
            "1".into(),
        ];
        if self.follow_redirects {
            a.push("-L".into());
        }
        if !self.validate_certs {
            a.push("-k".into());
        }
        match self.method.as_deref() {
            Some("HEAD") => a.push("--head".into()),
            Some(m) => {
                a.push("-X".into());
                a.push(shell_quote(m));
            }
            None => {}
        }
        for (k, v) in &self.headers {
            a.push("-H".into());
            a.push(shell_quote(&format!("{k}: {v}")));
        }
        if let Some((u, p)) = &self.credentials {
            a.push("-u".into());
            a.push(shell_quote(&format!("{u}:{p}")));
        }
        if let Some(ua) = &self.user_agent {
            a.push("-A".into());
            a.push(shell_quote(ua));
        }
        if self.body_from_stdin {
            a.push("--data-binary".into());
            a.push("@-".into());
        }
        a.push("-D \"$h\" -o \"$t\" -w '%{http_code} %{url_effective}'".into());
        a.push(shell_quote(&self.url));
        a.join(" ")
    }

    fn wget_line(&self) -> String {
        let mut a = vec![
            "wget".to_string(),
            "-q".into(),
            "-S".into(),
            "-T".into(),
            self.timeout.to_string(),
        ];
        if !self.follow_redirects {
            a.push("--max-redirect=0".into());
        }
        if !self.validate_certs {
            a.push("--no-check-certificate".into());
        }
        for (k, v) in &self.headers {
            a.push(shell_quote(&format!("--header={k}: {v}")));
        }
        if let Some((u, p)) = &self.credentials {
            a.push(shell_quote(&format!("--user={u}")));
            a.push(shell_quote(&format!("--password={p}")));
        }
        if let Some(ua) = &self.user_agent {
            a.push(shell_quote(&format!("--user-agent={ua}")));
        }
        a.push("-O \"$t\"".into());
        a.push(shell_quote(&self.url));
        a.join(" ")
    }

    /// Whether apt-helper can make this request: a plain http(s) GET with redirects followed and
    /// nothing apt-helper cannot send (headers, credentials).
    fn apt_helper_fits(&self) -> bool {
        self.follow_redirects
            && self.headers.is_empty()
            && self.credentials.is_none()
            && (self.url.starts_with("http://") || self.url.starts_with("https://"))
    }

    /// apt-helper into `$t.dl`, its messages in `$h.log`; sets `rc` and `w` as the curl branch
    /// does: status 200 on success; an HTTP error status apt printed with `rc` 0 (the server
    /// answered, as curl without `-f` reports it); else apt's error on stderr and its exit status.
    fn apt_helper_branch(&self) -> String {
        let t = self.timeout;
        let mut opts = format!("-o Acquire::http::Timeout={t} -o Acquire::https::Timeout={t}");
        if !self.validate_certs {
            opts.push_str(
                " -o Acquire::https::Verify-Peer=false -o Acquire::https::Verify-Host=false",
            );
        }
        if let Some(ua) = &self.user_agent {
            for scheme in ["http", "https"] {
                opts.push_str(" -o ");
                opts.push_str(&shell_quote(&format!("Acquire::{scheme}::User-Agent={ua}")));
            }
        }
        format!(
            "elif [ -x {APT_HELPER} ]; then\n \
             {APT_HELPER} {opts} download-file {u} \"$t.dl\" >\"$h.log\" 2>&1; rc=$?\n \
             if [ $rc = 0 ]; then mv -f \"$t.dl\" \"$t\"; w='200 -'; else rm -f \"$t.dl\"; \
             c=$(sed -n 's/^ *\\([1-5][0-9][0-9]\\) .*/\\1/p' \"$h.log\" | tail -n 1); w=\"$c -\"; \
             if [ -n \"$c\" ]; then rc=0; else sed -n 's/^E: //p' \"$h.log\" | head -n 1 >&2; fi; fi\n \
             rm -f \"$h.log\"\n",
            u = shell_quote(&self.url),
        )
    }

    /// Shell snippet: downloads into a new temporary file `$t` (response headers in `$h`) and
    /// prints `@tmp`, `@rc`, `@code` and `@url` lines; exits 127 after `@noclient` when no client
    /// is installed. `tmpdir` is where the temporary files go (quoted shell word).
    pub fn script(&self, tmpdir: &str) -> String {
        let plain = self.allow_wget && !self.body_from_stdin && self.method.is_none();
        let mut wget = String::new();
        if plain {
            wget = format!(
                "elif command -v wget >/dev/null 2>&1; then\n {} 2>\"$h\"; rc=$?\n \
                 w=\"$(awk '/^  HTTP\\//{{c=$2}} END{{print c}}' \"$h\") -\"\n",
                self.wget_line()
            );
            if self.apt_helper_fits() {
                wget.push_str(&self.apt_helper_branch());
            }
        }
        format!(
            "t=$(mktemp {tmpdir}/.drover-http-XXXXXXXX) || exit 1\nh=\"$t.headers\"\n\
             if command -v curl >/dev/null 2>&1; then\n w=$({curl}); rc=$?\n\
             {wget}else echo '@{NO_CLIENT}'; rm -f \"$t\"; exit 127; fi\n\
             echo \"@tmp $t\"; echo \"@rc $rc\"; echo \"@code ${{w%% *}}\"; echo \"@url ${{w#* }}\"\n",
            curl = self.curl_line(),
        )
    }
}

/// What the snippet from [`HttpRequest::script`] reported.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpOutcome {
    /// Temporary file holding the body.
    pub tmp: String,
    /// Client exit status (0 = transfer worked, whatever the HTTP status).
    pub rc: i32,
    /// HTTP status (0 or -1 when none was received; 200 for successful file:// URLs).
    pub status: i64,
    /// Final URL after redirects.
    pub url: String,
}

/// Parses the markers of [`HttpRequest::script`]; `None` when the script did not get that far.
pub fn parse_outcome(out: &str, requested_url: &str) -> Option<HttpOutcome> {
    let tmp = super::marker(out, "tmp")?.to_string();
    let rc = super::marker(out, "rc")?.trim().parse().unwrap_or(-1);
    let code: i64 = super::marker(out, "code")
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or(-1);
    let status = if code == 0 && rc == 0 && !requested_url.starts_with("http") {
        200
    } else {
        code
    };
    let url = super::marker(out, "url")
        .filter(|u| !u.is_empty() && *u != "-")
        .unwrap_or(requested_url)
        .to_string();
    Some(HttpOutcome {
        tmp,
        rc,
        status,
        url,
    })
}

/// curl's and wget's exit statuses as messages (Ansible reports the urllib error).
pub fn client_error(rc: i32) -> &'static str {
    match rc {
        3 => "URL malformed",
        6 => "could not resolve host",
        7 => "connection refused",
        28 => "timed out",
        35 | 51 | 60 => "TLS/SSL certificate verification failed",
        37 => "file not found",
        47 => "too many redirects",
        52 => "empty reply from server",
        56 => "connection reset",
        _ => "request failed",
    }
}

/// Parses a response header block (the last one, after redirects) into Ansible's result keys:
/// lower-case names with `-` turned into `_`.
pub fn parse_headers(raw: &str) -> BTreeMap<String, String> {
    let block = raw
        .replace("\r\n", "\n")
        .split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .last()
        .unwrap_or_default()
        .to_string();
    let mut out = BTreeMap::new();
    for line in block.lines().skip(1) {
        if let Some((k, v)) = line.split_once(':') {
            out.insert(
                k.trim().to_ascii_lowercase().replace('-', "_"),
                v.trim().to_string(),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_quotes_url_and_headers() {
        let mut r = HttpRequest::get("http://h/a b?x=$y");
        r.headers.insert("X-T".into(), "it's".into());
        let s = r.script("/tmp");
        assert!(s.contains("'http://h/a b?x=$y'"), "{s}");
        assert!(s.contains("-H 'X-T: it'\\''s'"), "{s}");
        assert!(s.contains("wget"), "{s}");
        assert!(
            !s.contains("apt-helper"),
            "headers apt-helper cannot send: {s}"
        );
        r.method = Some("POST".into());
        assert!(!r.script("/tmp").contains("wget"));
    }

    #[test]
    fn plain_downloads_fall_back_to_apt_helper() {
        let mut r = HttpRequest::get("https://h/k.asc");
        r.user_agent = Some("ansible-httpget".into());
        r.validate_certs = false;
        let s = r.script("/tmp");
        assert!(
            s.contains("/usr/lib/apt/apt-helper -o Acquire::http::Timeout=10 -o Acquire::https::Timeout=10 -o Acquire::https::Verify-Peer=false"),
            "{s}"
        );
        assert!(
            s.contains("Acquire::https::User-Agent=ansible-httpget download-file https://h/k.asc"),
            "{s}"
        );
        r.follow_redirects = false;
        assert!(!r.script("/tmp").contains("apt-helper"));
    }

    #[test]
    fn outcome_and_headers() {
        let o = parse_outcome(
            "@tmp /tmp/x\n@rc 0\n@code 404\n@url http://a/b\n",
            "http://a",
        )
        .unwrap();
        assert_eq!((o.status, o.rc, o.url.as_str()), (404, 0, "http://a/b"));
        let o = parse_outcome("@tmp /tmp/x\n@rc 0\n@code 000\n@url \n", "file:///x").unwrap();
        assert_eq!(o.status, 200);
        let h = parse_headers("HTTP/1.1 301 Moved\r\nLocation: /x\r\n\r\nHTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\n");
        assert_eq!(h["content_type"], "text/plain");
        assert!(!h.contains_key("location"));
    }
}
