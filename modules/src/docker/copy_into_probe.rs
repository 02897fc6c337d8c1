//! `docker_container_copy_into`'s target-side scripts: one round trip reads the container's state,
//! its user's IDs, the source file and the file in the container; another writes the file as a
//! tar stream (`docker cp - CONTAINER:DIR`), which carries mode, owner and group in its header.

use drover_core::connection::shell_quote;

use super::api::DockerCli;

/// Marker starting each section of the probe's output.
pub const MARK: &str = "@@drover-copy@@";

/// Where the file comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A file on the target host.
    Path {
        /// Its path.
        path: String,
        /// Follow it if it is a symbolic link.
        follow: bool,
    },
    /// The given bytes.
    Content(Vec<u8>),
}

/// What the probe should read.
#[derive(Debug, Clone)]
pub struct ProbeSpec<'a> {
    /// The container.
    pub container: &'a str,
    /// The normalized path in the container.
    pub container_path: &'a str,
    /// The source.
    pub source: &'a Source,
    /// Ask the container for its user's IDs (`id -u && id -g`).
    pub need_ids: bool,
    /// Follow symbolic links in the container.
    pub follow: bool,
    /// Read the container's file at all.
    pub read_dest: bool,
    /// Send back contents for `--diff` up to this size (`None`: no diff).
    pub diff_max: Option<u64>,
}

/// The probe script. Sections: `state RC TEXT`, `ids RC TEXT`, `src …`, `dst …`.
pub fn probe_script(cli: &DockerCli, s: &ProbeSpec<'_>) -> String {
    let c = s.container;
    let mut out = String::from(
        "T=$(mktemp -d) || exit 1\ntrap 'rm -rf \"$T\"' EXIT\nflat() { tr '\\n' ' '; }\n",
    );
    let state = cli.command_line(&[
        "container",
        "inspect",
        "--format",
        "{{.State.Running}} {{.State.Paused}}",
        "--",
        c,
    ]);
    out.push_str(&format!(
        "st=$({state} 2>&1); r=$?\nprintf '%s state %s %s\\n' '{MARK}' \"$r\" \"$(printf '%s' \"$st\" | flat)\"\n\
         [ \"$r\" = 0 ] || exit 0\n"
    ));
    if s.need_ids {
        let exec = cli.command_line(&["exec", "--", c, "/bin/sh", "-c", "id -u && id -g"]);
        out.push_str(&format!(
            "case \"$st\" in \"true false\"*)\n  ids=$({exec} 2>&1 </dev/null); r=$?\n  \
             printf '%s ids %s %s\\n' '{MARK}' \"$r\" \"$(printf '%s' \"$ids\" | flat)\";;\n\
             *) printf '%s ids notrunning %s\\n' '{MARK}' \"$st\";;\nesac\n"
        ));
    }
    // The source: `src RC TYPE MODE SIZE`, then `sha`, `link`, `content` lines.
    let diff_max = s.diff_max.unwrap_or(0);
    match s.source {
        Source::Path { path, follow } => {
            let p = shell_quote(path);
            let l = if *follow { "-L " } else { "" };
            out.push_str(&format!(
                "S={p}\nif info=$(stat {l}-c '%F|%a|%s' -- \"$S\" 2>&1); then\n  \
                 printf '%s src 0 %s\\n' '{MARK}' \"$info\"\n  \
                 case \"$info\" in\n  'regular file'*|'regular empty file'*)\n    \
                 printf '%s sha %s\\n' '{MARK}' \"$(sha256sum < \"$S\" | cut -d' ' -f1)\"\n    \
                 ssize=${{info##*|}}\n"
            ));
            if s.diff_max.is_some() {
                out.push_str(&format!(
                    "    [ \"$ssize\" -gt {diff_max} ] || printf '%s content %s\\n' '{MARK}' \"$(base64 -w0 < \"$S\")\";;\n"
                ));
            } else {
                out.push_str("    ;;\n");
            }
            out.push_str(&format!(
                "  'symbolic link'*) printf '%s link %s\\n' '{MARK}' \"$(readlink -- \"$S\" | flat)\"; ssize=0;;\n  \
                 *) ssize=0;;\n  esac\nelse\n  \
                 printf '%s src 1 %s\\n' '{MARK}' \"$(printf '%s' \"$info\" | flat)\"; exit 0\nfi\n"
            ));
        }
        Source::Content(bytes) => out.push_str(&format!("ssize={}\n", bytes.len())),
    }
    if !s.read_dest {
        return out;
    }
    // Enough of the container's file to compare it or show it; a larger one (or a directory) is
    // cut short: its tar header, which is all that is needed then, comes first.
    let cp = format!(
        "{} {}\"$P\" -",
        cli.command_line(&["cp", "--"]),
        shell_quote(&format!("{c}:"))
    );
    out.push_str(&format!(
        "lim={diff_max}; [ \"$ssize\" -gt \"$lim\" ] && lim=$ssize; lim=$((lim + 20480))\n\
         P={cp_path}; n=0\nwhile :; do\n  \
         rm -rf \"$T/x\" \"$T/cur.tar\"; mkdir \"$T/x\"\n  \
         {cp} 2>\"$T/err\" | head -c \"$lim\" > \"$T/cur.tar\"\n  \
         if [ ! -s \"$T/cur.tar\" ]; then\n    \
         if grep -qi 'could not find\\|no such file' \"$T/err\" && ! grep -qi 'no such container' \"$T/err\"; then\n      \
         printf '%s dst none %s\\n' '{MARK}' \"$P\"\n    \
         else printf '%s dst error %s\\n' '{MARK}' \"$(flat < \"$T/err\")\"; fi\n    exit 0\n  fi\n  \
         line=$(tar -tvf \"$T/cur.tar\" --numeric-owner 2>/dev/null | head -n 1)\n  \
         case \"$line\" in\n  l*)\n    \
         tar -xf \"$T/cur.tar\" -C \"$T/x\" 2>/dev/null\n    \
         lt=$(for f in \"$T\"/x/* \"$T\"/x/.[!.]*; do [ -L \"$f\" ] && readlink -- \"$f\"; done | head -n 1)\n",
        cp_path = shell_quote(s.container_path),
    ));
    if s.follow {
        out.push_str(&format!(
            "    n=$((n + 1)); [ \"$n\" -gt 40 ] && {{ printf '%s dst loop %s\\n' '{MARK}' \"$P\"; exit 0; }}\n    \
             case \"$lt\" in /*) P=$lt;; *) P=\"${{P%/*}}/$lt\";; esac\n    continue;;\n"
        ));
    } else {
        out.push_str(&format!(
            "    printf '%s dst found %s\\n%s\\n' '{MARK}' \"$P\" \"$line\"\n    \
             printf '%s link %s\\n' '{MARK}' \"$lt\"; exit 0;;\n"
        ));
    }
    out.push_str(&format!(
        "  esac\n  printf '%s dst found %s\\n%s\\n' '{MARK}' \"$P\" \"$line\"\n  \
         case \"$line\" in -*)\n    \
         printf '%s sha %s\\n' '{MARK}' \"$(tar -xOf \"$T/cur.tar\" 2>/dev/null | sha256sum | cut -d' ' -f1)\"\n"
    ));
    if s.diff_max.is_some() {
        out.push_str(&format!(
            "    printf '%s content %s\\n' '{MARK}' \"$(tar -xOf \"$T/cur.tar\" 2>/dev/null | head -c {diff_max} | base64 -w0)\";;\n"
        ));
    } else {
        out.push_str("    ;;\n");
    }
    out.push_str("  esac\n  exit 0\ndone\n");
    out
}

/// What the write needs.
#[derive(Debug, Clone)]
pub struct WriteSpec<'a> {
    /// The container.
    pub container: &'a str,
    /// The (resolved) path in the container.
    pub container_path: &'a str,
    /// The source (content arrives on standard input).
    pub source: &'a Source,
    /// Mode for the tar header.
    pub mode: u32,
    /// Owner ID.
    pub uid: u64,
    /// Group ID.
    pub gid: u64,
}

/// The write script: stages the file under its final name in a temporary directory on the
/// target, then streams it as a tar archive with the wanted mode/owner/group into the container.
pub fn write_script(cli: &DockerCli, w: &WriteSpec<'_>) -> String {
    let (dir, name) = match w.container_path.rsplit_once('/') {
        Some(("", n)) => ("/", n),
        Some((d, n)) => (d, n),
        None => ("/", w.container_path),
    };
    let staged = format!("\"$T/d\"/{}", shell_quote(name));
    let stage = match w.source {
        Source::Path { path, follow } => format!(
            "cp {} --preserve=timestamps -- {} {staged}",
            if *follow { "-L" } else { "-P" },
            shell_quote(path)
        ),
        Source::Content(_) => format!("cat > {staged}"),
    };
    let cp = cli.command_line(&["cp", "-", &format!("{}:{dir}", w.container)]);
    format!(
        "T=$(mktemp -d) || exit 1\ntrap 'rm -rf \"$T\"' EXIT\nmkdir \"$T/d\" || exit 1\n\
         {stage} || exit 1\n\
         tar -cf - -C \"$T/d\" --numeric-owner --owner={uid} --group={gid} --mode={mode:o} -- {n} | {cp}\n",
        uid = w.uid,
        gid = w.gid,
        mode = w.mode,
        n = shell_quote(name),
    )
}

/// One `tar -tv --numeric-owner` line, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarEntry {
    /// The type letter (`-` regular, `l` symlink, `d` directory, …).
    pub kind: char,
    /// Permission bits with setuid/setgid/sticky.
    pub mode: u32,
    /// Owner ID.
    pub uid: u64,
    /// Group ID.
    pub gid: u64,
    /// Size (0 for devices).
    pub size: u64,
}

/// Reads a `tar -tv --numeric-owner` line (`-rwsr-xr-x 1000/33 3 2026-12-06 03:20 f`).
pub fn parse_tar_line(line: &str) -> Option<TarEntry> {
    let mut words = line.split_whitespace();
    let perms: Vec<char> = words.next()?.chars().collect();
    if perms.len() < 10 {
        return None;
    }
    let (uid, gid) = words.next()?.split_once('/')?;
    let size = words.next()?.parse().unwrap_or(0);
    let mut mode = 0u32;
    let bit = |c: char, set: &[char]| set.contains(&c);
    for (i, c) in perms[1..10].iter().enumerate() {
        let shift = 8 - i as u32;
        if bit(*c, &['r', 'w', 'x', 's', 't']) {
            mode |= 1 << shift;
        }
    }
    if bit(perms[3], &['s', 'S']) {
        mode |= 0o4000;
    }
    if bit(perms[6], &['s', 'S']) {
        mode |= 0o2000;
    }
    if bit(perms[9], &['t', 'T']) {
        mode |= 0o1000;
    }
    Some(TarEntry {
        kind: perms[0],
        mode,
        uid: uid.parse().ok()?,
        gid: gid.parse().ok()?,
        size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_lines_are_read() {
        let e = parse_tar_line("-rwsr-xr-x 1000/33           3 2026-12-06 03:20 f").unwrap();
        assert_eq!(
            e,
            TarEntry {
                kind: '-',
                mode: 0o4755,
                uid: 1000,
                gid: 33,
                size: 3
            }
        );
        let d = parse_tar_line("drwxrwxrwT 0/0 0 2026-12-06 03:20 tmp/").unwrap();
        assert_eq!((d.kind, d.mode), ('d', 0o1776));
        assert!(parse_tar_line("garbage").is_none());
    }
}
