//! The probe's shell script: stat records, link targets, checksums, access checks and small
//! contents for every requested path, batched so one round trip answers them all.

use super::{ChecksumAlgorithm, ProbeRequest};
use crate::connection::quote_path;

const STAT_FORMAT: &str = "%f|%u|%g|%U|%G|%s|%.9X|%.9Y|%.9Z|%i|%d|%h|%b|%o|%t|%T";

/// The distinct paths of `requests`, in first-seen order, and for each request the index of
/// its path in that list.
pub(super) fn unique_paths(requests: &[ProbeRequest]) -> (Vec<&str>, Vec<usize>) {
    let mut paths: Vec<&str> = Vec::new();
    let slots = requests
        .iter()
        .map(|r| match paths.iter().position(|p| *p == r.path) {
            Some(i) => i,
            None => {
                paths.push(&r.path);
                paths.len() - 1
            }
        })
        .collect();
    (paths, slots)
}

/// Appends the lines running `cmd -- "$@"` over the paths `[ cond ]` selects (shell builtins
/// only), preceded by a `@<tag> <slot>…` line naming, in order, whose records follow; `@fail`
/// marks a run that did not produce one record per path.
fn push_batch(
    s: &mut String,
    tag: &str,
    cond: impl Fn(usize) -> Option<String>,
    n: usize,
    cmd: &str,
) {
    s.push_str("set --; _o=\n");
    for k in 0..n {
        if let Some(c) = cond(k) {
            s.push_str(&format!(
                "if {c}; then set -- \"$@\" \"$_p{k}\"; _o=\"$_o {k}\"; fi\n"
            ));
        }
    }
    s.push_str(&format!(
        "if [ $# -gt 0 ]; then echo \"@{tag}$_o\"; {cmd} -- \"$@\" 2>/dev/null || echo '@fail'; fi\n"
    ));
}

/// The shell snippet probing `requests`.
///
/// It starts as few processes as possible: shell builtins (`[ -e ]`, `[ -h ]`, `[ -f ]`) decide
/// which paths exist; ONE `stat` reports every existing distinct path (`lstat`); a second
/// `stat -L` runs only for followed paths that are symlinks (for any other path the `lstat`
/// record is the followed record); one `<algo>sum` per algorithm covers every file a checksum
/// is asked for. Records come in batches (`@L`, `@F`, `@sum <cmd>` lines listing path slots,
/// then one line per slot); extras for one request start with `@<index> `.
pub fn probe_script(requests: &[ProbeRequest]) -> String {
    let (paths, slots) = unique_paths(requests);
    let mut s = String::new();
    for (k, path) in paths.iter().enumerate() {
        s.push_str(&format!("_p{k}={}\n", quote_path(path)));
    }
    let stat_cmd = |flags: &str| format!("stat {flags}--printf '{STAT_FORMAT}\\n'");
    push_batch(
        &mut s,
        "L",
        |k| Some(format!("[ -e \"$_p{k}\" ] || [ -h \"$_p{k}\" ]")),
        paths.len(),
        &stat_cmd(""),
    );
    let followed: Vec<bool> = (0..paths.len())
        .map(|k| {
            requests
                .iter()
                .zip(&slots)
                .any(|(r, &sl)| sl == k && r.follow)
        })
        .collect();
    push_batch(
        &mut s,
        "F",
        |k| followed[k].then(|| format!("[ -h \"$_p{k}\" ] && [ -e \"$_p{k}\" ]")),
        paths.len(),
        &stat_cmd("-L "),
    );
    // Link targets, for paths asked about without following (links only: two processes).
    let mut linked = vec![false; paths.len()];
    for (req, &k) in requests.iter().zip(&slots) {
        if !req.follow && !linked[k] {
            linked[k] = true;
            s.push_str(&format!(
                "if [ -h \"$_p{k}\" ]; then printf '@={k} link %s\\n' \"$(readlink -- \"$_p{k}\")\"; \
                 printf '@={k} lnksrc %s\\n' \"$(readlink -f -- \"$_p{k}\")\"; fi\n"
            ));
        }
    }
    let mut algos: Vec<ChecksumAlgorithm> = Vec::new();
    for algo in requests.iter().flat_map(|r| &r.checksums) {
        if !algos.contains(algo) {
            algos.push(*algo);
        }
    }
    for algo in algos {
        let wanted: Vec<bool> = (0..paths.len())
            .map(|k| {
                requests
                    .iter()
                    .zip(&slots)
                    .any(|(r, &sl)| sl == k && r.checksums.contains(&algo))
            })
            .collect();
        push_batch(
            &mut s,
            &format!("sum {}", algo.command()),
            |k| wanted[k].then(|| format!("[ -f \"$_p{k}\" ] && [ -r \"$_p{k}\" ]")),
            paths.len(),
            algo.command(),
        );
    }
    for (i, (req, &k)) in requests.iter().zip(&slots).enumerate() {
        let p = format!("\"$_p{k}\"");
        if req.access {
            s.push_str(&format!(
                "[ -r {p} ] && echo '@{i} r'; [ -w {p} ] && echo '@{i} w'; [ -x {p} ] && echo '@{i} x'\n"
            ));
        }
        if req.mime {
            s.push_str(&format!(
                "if [ -e {p} ] || [ -h {p} ]; then if command -v file >/dev/null 2>&1; then \
                 printf '@{i} mime %s\\n' \"$(file -b -L --mime-type -- {p})\"; \
                 printf '@{i} charset %s\\n' \"$(file -b -L --mime-encoding -- {p})\"; \
                 else printf '@{i} mime unknown\\n@{i} charset unknown\\n'; fi; fi\n"
            ));
        }
        if req.attributes {
            s.push_str(&format!(
                "if [ ! -e {p} ]; then :; elif _a=$(lsattr -vd -- {p} 2>/dev/null); then \
                 printf '@{i} attrs %s\\n' \"$_a\"; elif _a=$(lsattr -d -- {p} 2>/dev/null); then \
                 printf '@{i} attrs - %s\\n' \"$_a\"; fi\n"
            ));
        }
        if let Some(limit) = req.content_limit {
            s.push_str(&format!(
                "if [ -f {p} ] && [ -r {p} ]; then _n=$(wc -c < {p}); \
                 if [ \"$_n\" -le {limit} ]; then printf '@{i} content %s\\n' \"$_n\"; cat -- {p}; echo; fi; fi\n"
            ));
        }
    }
    s.push_str("exit 0\n");
    s
}
