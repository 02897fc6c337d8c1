//! Reading and appending OpenSSH known_hosts files.
//!
//! Supports plain and hashed (`|1|salt|hash`) host fields, comma-separated patterns with `*`/`?`
//! wildcards and `!` negation, `[host]:port` entries, and the `@revoked` marker (a revoked key is
//! never trusted). `@cert-authority` lines are skipped (host certificates are not supported).
//! Line numbers count every physical line, as OpenSSH and `ssh-keygen -R` do.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use russh::keys::PublicKey;
use sha1::{Digest, Sha1};

/// One known_hosts line that applies to the host being checked.
#[derive(Debug, Clone)]
pub(super) struct KnownEntry {
    /// 1-based line number in the file.
    pub line: usize,
    /// The recorded key.
    pub key: PublicKey,
    /// The line is marked `@revoked`.
    pub revoked: bool,
}

/// How OpenSSH names `host` on `port` in known_hosts: `host`, or `[host]:port` off port 22.
pub(super) fn host_field(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// The entries of `path` matching `host`:`port`. A missing file has none; lines whose key cannot
/// be parsed are skipped.
pub(super) fn entries_for(
    path: &Path,
    host: &str,
    port: u16,
) -> Result<Vec<KnownEntry>, std::io::Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let name = host_field(host, port);
    let mut found = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let mut first = fields.next().unwrap_or_default();
        let mut revoked = false;
        if let Some(marker) = first.strip_prefix('@') {
            match marker {
                "revoked" => revoked = true,
                _ => continue,
            }
            first = fields.next().unwrap_or_default();
        }
        let (Some(_kind), Some(blob)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !patterns_match(first, &name) {
            continue;
        }
        if let Ok(key) = russh::keys::parse_public_key_base64(blob) {
            found.push(KnownEntry {
                line: index + 1,
                key,
                revoked,
            });
        }
    }
    Ok(found)
}

/// Appends `host`:`port` with `key` to `path` (creating it and its directory), OpenSSH style.
pub(super) fn append(path: &Path, host: &str, port: u16, key: &PublicKey) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
    }
    let existing = std::fs::read(path).unwrap_or_default();
    let openssh = key.to_openssh().map_err(|e| e.to_string())?;
    // Drop the comment (the server's key has none worth keeping).
    let key_text: String = openssh
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let mut line = String::new();
    if !existing.is_empty() && !existing.ends_with(b"\n") {
        line.push('\n');
    }
    line.push_str(&format!("{} {key_text}\n", host_field(host, port)));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| e.to_string())?;
    file.write_all(line.as_bytes()).map_err(|e| e.to_string())
}

/// Does the comma-separated pattern list (or hashed entry) match `name`? A matching negated
/// pattern wins over any positive one.
fn patterns_match(field: &str, name: &str) -> bool {
    if field.starts_with("|1|") {
        return hashed_matches(field, name);
    }
    let mut matched = false;
    for pattern in field.split(',') {
        if let Some(negated) = pattern.strip_prefix('!') {
            if wildcard_match(negated, name) {
                return false;
            }
        } else if wildcard_match(pattern, name) {
            matched = true;
        }
    }
    matched
}

/// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
fn hashed_matches(field: &str, name: &str) -> bool {
    let mut parts = field.split('|').skip(2);
    let engine = base64::engine::general_purpose::STANDARD;
    let (Some(Ok(salt)), Some(Ok(hash))) = (
        parts.next().map(|s| engine.decode(s)),
        parts.next().map(|s| engine.decode(s)),
    ) else {
        return false;
    };
    hmac_sha1(&salt, name.as_bytes()).as_slice() == hash.as_slice()
}

fn hmac_sha1(key: &[u8], message: &[u8]) -> [u8; 20] {
    const BLOCK: usize = 64;
    let mut block_key = [0u8; BLOCK];
    if key.len() > BLOCK {
        block_key[..20].copy_from_slice(&Sha1::digest(key));
    } else {
        block_key[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha1::new();
    inner.update(block_key.map(|b| b ^ 0x36));
    inner.update(message);
    let inner_hash = inner.finalize();
    let mut outer = Sha1::new();
    outer.update(block_key.map(|b| b ^ 0x5c));
    outer.update(inner_hash);
    outer.finalize().into()
}

/// Case-insensitive glob match with `*` and `?`.
fn wildcard_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let n: Vec<char> = name.to_ascii_lowercase().chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";

    #[test]
    fn patterns_wildcards_and_negation() {
        assert!(patterns_match("web1,web2", "web2"));
        assert!(patterns_match("*.example.com", "a.EXAMPLE.com"));
        assert!(patterns_match("[10.0.0.?]:2222", "[10.0.0.5]:2222"));
        assert!(!patterns_match("[10.0.0.5]:2222", "10.0.0.5"));
        assert!(!patterns_match(
            "*.example.com,!bad.example.com",
            "bad.example.com"
        ));
        assert!(!patterns_match("!web1", "web1"));
    }

    #[test]
    fn hashed_entry_matches_its_host_only() {
        let salt = [7u8; 20];
        let engine = base64::engine::general_purpose::STANDARD;
        let made = format!(
            "|1|{}|{}",
            engine.encode(salt),
            engine.encode(hmac_sha1(&salt, b"[h]:2200"))
        );
        assert!(hashed_matches(&made, "[h]:2200"));
        assert!(!hashed_matches(&made, "h"));
    }

    #[test]
    fn hmac_sha1_matches_rfc2202() {
        // RFC 2202 test case 2.
        assert_eq!(
            hex::encode(hmac_sha1(b"Jefe", b"what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
    }

    #[test]
    fn line_numbers_count_comments_and_blank_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kh");
        std::fs::write(
            &path,
            format!("# c\n\nother ssh-ed25519 {KEY}\n@revoked host ssh-ed25519 {KEY}\n@cert-authority host ssh-ed25519 {KEY}\nhost\tssh-ed25519  {KEY} comment\n"),
        )
        .unwrap();
        let found = entries_for(&path, "host", 22).unwrap();
        let lines: Vec<(usize, bool)> = found.iter().map(|e| (e.line, e.revoked)).collect();
        assert_eq!(lines, vec![(4, true), (6, false)]);
        assert!(entries_for(&dir.path().join("missing"), "host", 22)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn append_writes_openssh_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d").join("kh");
        let key = russh::keys::parse_public_key_base64(KEY).unwrap();
        append(&path, "10.0.0.1", 2222, &key).unwrap();
        append(&path, "web", 22, &key).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("[10.0.0.1]:2222 ssh-ed25519 {KEY}\nweb ssh-ed25519 {KEY}\n")
        );
        assert_eq!(entries_for(&path, "10.0.0.1", 2222).unwrap().len(), 1);
    }
}
