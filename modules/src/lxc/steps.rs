//! The shell script of each [`Step`]: `lxc-*` commands run on the LXC host through the task's
//! connection (so `become` applies), one round trip per step, with the failing step named in
//! the task's message.

use drover_core::connection::shell_quote;

use super::params::{BackingStore, LxcContainerParams};
use super::plan::Step;
use super::query::lxcpath_snippet;

/// A plain rootfs tarball given to the `local` template without LXC's metadata tarball.
pub fn plain_fstree(p: &LxcContainerParams) -> Result<Option<String>, String> {
    if p.template_or_default() != "local" {
        return Ok(None);
    }
    let words = template_words(p)?;
    let has = |short: &str, long: &str| {
        words
            .iter()
            .any(|w| w == short || w == long || w.starts_with(&format!("{long}=")))
    };
    if has("-m", "--metadata") {
        return Ok(None);
    }
    let mut it = words.iter();
    while let Some(w) = it.next() {
        if w == "-f" || w == "--fstree" {
            return Ok(it.next().cloned());
        }
        if let Some(v) = w.strip_prefix("--fstree=") {
            return Ok(Some(v.to_string()));
        }
    }
    Err("template local needs template_options with --fstree ROOTFS.tar (and --metadata META.tar.xz for LXC's own local template)".into())
}

/// `template_options` split as a shell would.
pub fn template_words(p: &LxcContainerParams) -> Result<Vec<String>, String> {
    match p.template_options.as_deref() {
        None => Ok(Vec::new()),
        Some(s) => shell_words::split(s).map_err(|e| format!("template_options: {e}")),
    }
}

/// The shared preamble: `P` (LXC path), `N` (name) and `LF` (log file, with `container_log`).
fn preamble(p: &LxcContainerParams, lxcpath: &str) -> String {
    let mut s = lxcpath_snippet(Some(lxcpath));
    s.push_str(&format!("N={}\nLF=\n", shell_quote(&p.name)));
    if p.log_level().is_some() {
        s.push_str(concat!(
            "if [ \"$(id -u)\" = 0 ]; then mkdir -p /var/log/lxc && LF=/var/log/lxc/lxc-$N.log; ",
            "else LF=\"$HOME/lxc-$N.log\"; fi\n"
        ));
    }
    s
}

/// `-o LOG -l LEVEL` when logging (expanded by the shell from `LF`).
fn log_opts(p: &LxcContainerParams) -> String {
    match p.log_level() {
        Some(level) => format!(" ${{LF:+-o \"$LF\" -l {level}}}"),
        None => String::new(),
    }
}

fn opt(flag: &str, value: Option<&str>) -> String {
    value
        .filter(|v| !v.is_empty())
        .map(|v| format!(" {flag} {}", shell_quote(v)))
        .unwrap_or_default()
}

/// `lxc-create`'s storage options for the backing store (community.general's mapping: each
/// store takes only its own options).
fn storage_opts(p: &LxcContainerParams) -> String {
    let mut s = format!(" -B {}", p.backing_store.as_str());
    let lv = p.lv_name.as_deref().unwrap_or(&p.name);
    let vg = p.vg_name.as_deref().unwrap_or("lxc");
    let fstype = p.fs_type.as_deref().unwrap_or("ext4");
    let fssize = p.fs_size.as_deref().unwrap_or("5G");
    match p.backing_store {
        BackingStore::Dir => {
            s += &opt("--dir", p.directory.as_deref());
            s += &opt("--zfsroot", p.zfs_root.as_deref());
        }
        BackingStore::Lvm => {
            s += &opt("--lvname", Some(lv));
            s += &opt("--vgname", Some(vg));
            s += &opt("--thinpool", p.thinpool.as_deref());
            s += &opt("--fstype", Some(fstype));
            s += &opt("--fssize", Some(fssize));
            s += &opt("--dir", p.directory.as_deref());
        }
        BackingStore::Loop => {
            s += &opt("--fstype", Some(fstype));
            s += &opt("--fssize", Some(fssize));
            s += &opt("--dir", p.directory.as_deref());
        }
        BackingStore::Btrfs | BackingStore::Overlayfs => {
            s += &opt("--dir", p.directory.as_deref());
        }
        BackingStore::Zfs => {
            s += &opt("--dir", p.directory.as_deref());
            s += &opt("--zfsroot", p.zfs_root.as_deref());
        }
    }
    s
}

/// The script creating the container.
fn create_script(p: &LxcContainerParams) -> Result<String, String> {
    let log = log_opts(p);
    let config = opt("-f", p.config.as_deref());
    if let Some(fstree) = plain_fstree(p)? {
        if p.backing_store != BackingStore::Dir {
            return Err(
                "a plain rootfs tarball (template local without --metadata) needs backing_store dir"
                    .into(),
            );
        }
        let rootfs = match p.directory.as_deref() {
            Some(d) => shell_quote(d),
            None => "\"$P/$N/rootfs\"".into(),
        };
        return Ok(format!(
            concat!(
                "lxc-create -P \"$P\" -n \"$N\" -t none{config}{log} || exit 1\n",
                "R={rootfs}\n",
                "if mkdir -p \"$R\" && tar --numeric-owner -xpf {fstree} -C \"$R\" ",
                "&& printf 'lxc.rootfs.path = dir:%s\\n' \"$R\" >> \"$P/$N/config\"; then exit 0; fi\n",
                "rc=$?; lxc-destroy -P \"$P\" -n \"$N\" >/dev/null 2>&1; rm -rf \"$R\"; exit $rc\n"
            ),
            config = config,
            log = log,
            rootfs = rootfs,
            fstree = shell_quote(&fstree),
        ));
    }
    let words = template_words(p)?;
    let mut s = format!(
        "lxc-create -P \"$P\" -n \"$N\" -t {}{}{}{}",
        shell_quote(p.template_or_default()),
        config,
        storage_opts(p),
        log
    );
    if !words.is_empty() {
        s.push_str(" --");
        for w in &words {
            s.push(' ');
            s.push_str(&shell_quote(w));
        }
    }
    s.push('\n');
    Ok(s)
}

/// The script cloning the container to `clone_name`.
fn clone_script(p: &LxcContainerParams) -> String {
    let clone = p.clone_name.as_deref().unwrap_or_default();
    let mut s = format!("lxc-copy -P \"$P\" -n \"$N\" -N {}", shell_quote(clone));
    let snapshot = p.clone_snapshot || p.backing_store == BackingStore::Overlayfs;
    // A snapshot of a dir container is an overlay: LXC refuses `-B dir -s`, so let it choose.
    if !(snapshot && p.backing_store == BackingStore::Dir) {
        s += &format!(" -B {}", p.backing_store.as_str());
    }
    if matches!(p.backing_store, BackingStore::Lvm | BackingStore::Loop) {
        s += &opt("--fssize", Some(p.fs_size.as_deref().unwrap_or("5G")));
    }
    if snapshot {
        s.push_str(" -s");
    }
    s + &log_opts(p) + "\n"
}

/// The script writing the archive; prints its path.
fn archive_script(p: &LxcContainerParams, rootfs: &str) -> String {
    let (ext, flag) = p.archive_compression.extension_and_flag();
    let dir = p.archive_path.as_deref().unwrap_or_default();
    format!(
        concat!(
            "umask 077\nAP={ap}\nR={rootfs}\nmkdir -p \"$AP\" || exit 1\nA=\"$AP/$N.{ext}\"\n",
            "was=$(lxc-info -P \"$P\" -n \"$N\" -s -H 2>/dev/null)\n",
            "[ \"$was\" = RUNNING ] && {{ lxc-freeze -P \"$P\" -n \"$N\" || exit 1; }}\n",
            "T=$(mktemp -d) || exit 1\nmounted=\nonefs=\n",
            "finish() {{ [ -n \"$mounted\" ] && umount \"$T/rootfs\"; rm -rf \"$T\"; ",
            "[ \"$was\" = RUNNING ] && lxc-unfreeze -P \"$P\" -n \"$N\"; exit $1; }}\n",
            "case \"$R\" in\n",
            "  overlay:*|overlayfs:*) rest=${{R#*:}}; lower=${{rest%%:*}}; upper=${{rest#*:}}; ",
            "mkdir \"$T/rootfs\" && mount -t overlay overlay -o \"ro,lowerdir=$upper:$lower\" \"$T/rootfs\" ",
            "|| finish 1; mounted=1; src=\"$T/rootfs\";;\n",
            "  dir:*|btrfs:*) src=${{R#*:}};;\n",
            // Block devices and datasets: the running container's root (its own mount), else
            // the device mounted read-only.
            "  /dev/*|loop:*|lvm:*|zfs:*)\n",
            "    pid=$(lxc-info -P \"$P\" -n \"$N\" -p -H 2>/dev/null)\n",
            "    case \"$pid\" in ''|*[!0-9]*) pid=;; esac\n",
            "    if [ -n \"$pid\" ]; then src=/proc/$pid/root; onefs=--one-file-system\n",
            "    else case \"$R\" in loop:*) mopt=ro,loop;; zfs:*) mopt=;; *) mopt=ro;; esac\n",
            "      [ -n \"$mopt\" ] || {{ echo \"archive: a stopped zfs container cannot be archived\" >&2; finish 1; }}\n",
            "      mkdir \"$T/rootfs\" && mount -o \"$mopt\" \"${{R#*:}}\" \"$T/rootfs\" || finish 1\n",
            "      mounted=1; src=\"$T/rootfs\"; fi;;\n",
            "  /*) src=$R;;\n",
            "  *) echo \"archive: rootfs $R is not supported\" >&2; finish 1;;\n",
            "esac\n",
            "tar --numeric-owner $onefs {flag} -cf \"$A\" -C \"$P/$N\" config -C \"$src\" ",
            "--transform 's,^\\.,./rootfs,S;s,^config$,./config,' . || finish 1\n",
            "echo \"$A\"\nfinish 0\n"
        ),
        ap = shell_quote(dir.trim_end_matches('/')),
        rootfs = shell_quote(rootfs),
        ext = ext,
        flag = flag,
    )
}

/// The script running `container_command` in the container. Its output goes to a file on the
/// host, printed once the command ended, so a daemon the command leaves running in the
/// container (holding its stdout) cannot keep the task's connection open.
fn attach_script(p: &LxcContainerParams) -> String {
    let cmd = p.container_command.as_deref().unwrap_or_default();
    format!(
        concat!(
            "O=$(mktemp) || exit 1\n",
            "lxc-attach -P \"$P\" -n \"$N\"{log} --clear-env ",
            "-v PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin -v HOME=/root -- ",
            "/bin/sh -c {inner} drover-lxc {cmd} </dev/null >\"$O\" 2>&1\n",
            "rc=$?; cat \"$O\" >&2; rm -f \"$O\"; exit $rc\n"
        ),
        log = log_opts(p),
        inner = shell_quote(
            "if command -v bash >/dev/null 2>&1; then exec bash -c \"$1\"; fi; exec /bin/sh -c \"$1\""
        ),
        cmd = shell_quote(cmd),
    )
}

/// The script writing the edited config: LXC must parse it first (`lxc-info` on a copy in a
/// scratch lxcpath), so a key LXC rejects leaves the container as it was instead of unusable.
fn write_config_script(text: &str) -> String {
    format!(
        concat!(
            "T=$(mktemp -d) || exit 1\nmkdir \"$T/$N\" && printf '%s' {text} > \"$T/$N/config\" || {{ rm -rf \"$T\"; exit 1; }}\n",
            "err=$(lxc-info -P \"$T\" -n \"$N\" -s -l ERROR -o /dev/stderr 2>&1); ok=$?\n",
            // lxc-info leaves its lock directory for the scratch lxcpath behind.
            "rm -rf \"/run/lxc/lock$T\" 2>/dev/null\n",
            "if [ $ok != 0 ]; then rm -rf \"$T\"; ",
            "printf 'LXC rejects the edited config:\\n%s\\n' \"$err\" | grep -v 'Failure to retrieve\\|Failed to load config' >&2; exit 1; fi\n",
            "rm -rf \"$T\"\nprintf '%s' {text} > \"$P/$N/config\"\n"
        ),
        text = shell_quote(text)
    )
}

/// The full script of one step, and the name it is reported under.
pub fn script(
    step: &Step,
    p: &LxcContainerParams,
    lxcpath: &str,
    rootfs: Option<&str>,
) -> Result<(String, &'static str), String> {
    let log = log_opts(p);
    let (body, what) = match step {
        Step::Create => (create_script(p)?, "lxc-create"),
        Step::WriteConfig(text) => (write_config_script(text), "container_config"),
        Step::Start => (
            format!(
                "lxc-start -P \"$P\" -n \"$N\"{log} && lxc-wait -P \"$P\" -n \"$N\" -s RUNNING -t 30\n"
            ),
            "lxc-start",
        ),
        Step::Stop => (
            format!(
                "lxc-stop -P \"$P\" -n \"$N\" -k{log} && lxc-wait -P \"$P\" -n \"$N\" -s STOPPED -t 30\n"
            ),
            "lxc-stop",
        ),
        Step::Freeze => (format!("lxc-freeze -P \"$P\" -n \"$N\"{log}\n"), "lxc-freeze"),
        Step::Unfreeze => (
            format!("lxc-unfreeze -P \"$P\" -n \"$N\"{log}\n"),
            "lxc-unfreeze",
        ),
        Step::Attach => (attach_script(p), "container_command"),
        Step::Archive => (
            archive_script(
                p,
                rootfs.ok_or("archive: the container's config has no lxc.rootfs.path")?,
            ),
            "archive",
        ),
        Step::Clone => (clone_script(p), "lxc-copy"),
        Step::Destroy => (
            format!("lxc-destroy -P \"$P\" -n \"$N\"{log}\n"),
            "lxc-destroy",
        ),
    };
    Ok((preamble(p, lxcpath) + &body, what))
}

#[cfg(test)]
mod tests {
    use super::*;
    use drover_core::module::parse_params;
    use serde_json::json;

    fn params(v: serde_json::Value) -> LxcContainerParams {
        parse_params("lxc_container", &v).unwrap()
    }

    #[test]
    fn create_passes_the_stores_options_and_template_options() {
        let p = params(
            json!({"name": "a", "template": "debian", "backing_store": "lvm",
            "vg_name": "vg0", "template_options": "--release 'book worm'"}),
        );
        let (s, _) = script(&Step::Create, &p, "/x", None).unwrap();
        assert!(s.contains("-t debian -B lvm --lvname a --vgname vg0 --fstype ext4 --fssize 5G -- --release 'book worm'"), "{s}");
        let p = params(
            json!({"name": "a", "template": "busybox", "backing_store": "overlayfs", "fs_size": "1G"}),
        );
        let (s, _) = script(&Step::Create, &p, "/x", None).unwrap();
        assert!(s.contains("-t busybox -B overlayfs\n"), "{s}");
    }

    #[test]
    fn snapshot_clone_of_a_dir_container_lets_lxc_choose_the_store() {
        let p = params(json!({"name": "a", "clone_name": "b", "clone_snapshot": true}));
        let (s, _) = script(&Step::Clone, &p, "/x", None).unwrap();
        assert!(s.contains("lxc-copy -P \"$P\" -n \"$N\" -N b -s"), "{s}");
        let p = params(json!({"name": "a", "clone_name": "b"}));
        let (s, _) = script(&Step::Clone, &p, "/x", None).unwrap();
        assert!(s.contains("-N b -B dir\n"), "{s}");
    }

    #[test]
    fn local_template_with_a_plain_tarball() {
        let p = params(
            json!({"name": "a", "template": "local", "template_options": "--fstree /t/root.tar"}),
        );
        assert_eq!(plain_fstree(&p).unwrap().as_deref(), Some("/t/root.tar"));
        let (s, _) = script(&Step::Create, &p, "/x", None).unwrap();
        assert!(
            s.contains("-t none") && s.contains("tar --numeric-owner -xpf /t/root.tar"),
            "{s}"
        );
        let p = params(
            json!({"name": "a", "template": "local", "template_options": "-f /r.tar.xz -m /m.tar.xz"}),
        );
        assert_eq!(plain_fstree(&p).unwrap(), None);
        let p = params(json!({"name": "a", "template": "local"}));
        assert!(plain_fstree(&p).is_err());
    }
}
