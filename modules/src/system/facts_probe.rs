//! The fact probe: one POSIX shell script, assembled from the collectors a `gather_subset`
//! selects, whose output is split into named sections.
//!
//! Each collector prints `@@DROVER:<section>@@` on its own line followed by its raw output; the
//! Rust side (see `facts_build`) turns sections into Ansible-named facts.

use std::collections::BTreeMap;

use drover_core::connection::shell_quote;

/// Marker prefix that starts a section in the probe's output.
const MARKER: &str = "@@DROVER:";

/// Fact collectors drover knows, as `gather_subset` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Collector {
    /// AppArmor status.
    Apparmor,
    /// Kernel command line.
    Cmdline,
    /// Date and time.
    DateTime,
    /// Distribution and OS family.
    Distribution,
    /// `/etc/resolv.conf`.
    Dns,
    /// The login environment.
    Env,
    /// FIPS mode.
    Fips,
    /// `ansible_local` from the facts directory.
    Local,
    /// The package manager.
    PkgMgr,
    /// Kernel, architecture, host names.
    Platform,
    /// Python interpreter, if present.
    Python,
    /// SELinux status.
    Selinux,
    /// The service manager.
    ServiceMgr,
    /// SSH host public keys.
    SshPubKeys,
    /// The connecting user.
    User,
    /// CPU, memory, mounts, uptime.
    Hardware,
    /// Interfaces and addresses.
    Network,
    /// Virtualization type and role.
    Virtual,
}

impl Collector {
    /// Every collector, in gathering order.
    pub const ALL: [Collector; 18] = [
        Collector::Apparmor,
        Collector::Cmdline,
        Collector::DateTime,
        Collector::Distribution,
        Collector::Dns,
        Collector::Env,
        Collector::Fips,
        Collector::Local,
        Collector::PkgMgr,
        Collector::Platform,
        Collector::Python,
        Collector::Selinux,
        Collector::ServiceMgr,
        Collector::SshPubKeys,
        Collector::User,
        Collector::Hardware,
        Collector::Network,
        Collector::Virtual,
    ];

    /// The `gather_subset` name.
    pub fn name(self) -> &'static str {
        match self {
            Collector::Apparmor => "apparmor",
            Collector::Cmdline => "cmdline",
            Collector::DateTime => "date_time",
            Collector::Distribution => "distribution",
            Collector::Dns => "dns",
            Collector::Env => "env",
            Collector::Fips => "fips",
            Collector::Local => "local",
            Collector::PkgMgr => "pkg_mgr",
            Collector::Platform => "platform",
            Collector::Python => "python",
            Collector::Selinux => "selinux",
            Collector::ServiceMgr => "service_mgr",
            Collector::SshPubKeys => "ssh_pub_keys",
            Collector::User => "user",
            Collector::Hardware => "hardware",
            Collector::Network => "network",
            Collector::Virtual => "virtual",
        }
    }

    /// True for the collectors of Ansible's `min` subset (gathered unless `!min`).
    pub fn is_min(self) -> bool {
        !matches!(
            self,
            Collector::Hardware | Collector::Network | Collector::Virtual
        )
    }

    /// Looks a collector up by its `gather_subset` name (a few Ansible sub-names map to their
    /// parent collector: `interfaces` → network, `devices`/`mounts` → hardware).
    pub fn from_name(name: &str) -> Option<Collector> {
        match name {
            "interfaces" => Some(Collector::Network),
            "devices" | "mounts" => Some(Collector::Hardware),
            "lsb" => Some(Collector::Distribution),
            "caps" => Some(Collector::User),
            _ => Collector::ALL.iter().copied().find(|c| c.name() == name),
        }
    }

    /// The collector's shell snippet.
    fn script(self, fact_path: &str) -> String {
        match self {
            Collector::Apparmor => "[ -d /sys/kernel/security/apparmor ] && echo enabled || echo disabled\n".into(),
            Collector::Cmdline => "cat /proc/cmdline 2>/dev/null\n".into(),
            Collector::DateTime => concat!(
                "date '+%Y|%m|%d|%H|%M|%S|%A|%w|%u|%W|%B|%b|%a|%j|%Z|%z|%s|%N'\n",
                "date -u '+%Y-%m-%dT%H:%M:%S|%N'\n",
                "date -d 2000-07-01 '+%Z' 2>/dev/null || echo\n",
            )
            .into(),
            Collector::Distribution => concat!(
                "cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null\n",
                "printf 'DROVER_DEBIAN_VERSION=%s\\n' \"$(cat /etc/debian_version 2>/dev/null)\"\n",
                "echo '@@DROVER:lsb@@'\ncat /etc/lsb-release 2>/dev/null\n",
            )
            .into(),
            Collector::Dns => "cat /etc/resolv.conf 2>/dev/null\n".into(),
            Collector::Env => "env -0 2>/dev/null; echo\n".into(),
            Collector::Fips => "cat /proc/sys/crypto/fips_enabled 2>/dev/null\n".into(),
            Collector::Local => format!(
                concat!(
                    "fp={}\n",
                    "if [ -d \"$fp\" ]; then for f in \"$fp\"/*.fact; do [ -f \"$f\" ] || continue\n",
                    "  n=${{f##*/}}; n=${{n%.fact}}\n",
                    "  if [ -x \"$f\" ]; then o=$(\"$f\" 2>/dev/null); rc=$?; else o=$(cat \"$f\" 2>/dev/null); rc=file$?; fi\n",
                    "  echo \"@@DROVER:local.$rc.$n@@\"; printf '%s\\n' \"$o\"\n",
                    "done; fi\n",
                ),
                shell_quote(fact_path)
            ),
            Collector::PkgMgr => concat!(
                "for m in apt-get dnf5 dnf yum zypper apk pacman pkg emerge xbps-install; do ",
                "command -v $m >/dev/null 2>&1 && { echo $m; break; }; done\n",
            )
            .into(),
            Collector::Platform => concat!(
                "uname -s; uname -r; uname -v; uname -m; uname -n\n",
                "hostname 2>/dev/null || uname -n\n",
                "hostname -f 2>/dev/null || hostname 2>/dev/null || uname -n\n",
                "cat /etc/machine-id 2>/dev/null || echo\n",
                "r=$(stat -c %d:%i / 2>/dev/null); p=$(stat -c %d:%i /proc/1/root/. 2>/dev/null); [ -n \"$p\" ] && [ \"$r\" != \"$p\" ] && echo True || echo False\n",
            )
            .into(),
            Collector::Python => concat!(
                "for p in python3 python /usr/libexec/platform-python; do command -v $p >/dev/null 2>&1 || continue\n",
                "  $p -c 'import sys; v=sys.version_info; import os; print(os.path.realpath(sys.executable)); print(\"%d %d %d %s %d\" % tuple(v)); print(sys.implementation.name)' 2>/dev/null && break\n",
                "done\n",
            )
            .into(),
            Collector::Selinux => concat!(
                "if [ -e /sys/fs/selinux/enforce ]; then echo enabled; cat /sys/fs/selinux/enforce; ",
                "cat /sys/fs/selinux/policyvers 2>/dev/null || echo; ",
                "sed -n 's/^SELINUX=//p;s/^SELINUXTYPE=//p' /etc/selinux/config 2>/dev/null; ",
                "else echo disabled; fi\n",
            )
            .into(),
            Collector::ServiceMgr => concat!(
                "if [ -d /run/systemd/system ]; then echo systemd; ",
                "else c=$(cat /proc/1/comm 2>/dev/null || ps -p 1 -o comm= 2>/dev/null); ",
                "case $c in init) [ -x /sbin/openrc ] && echo openrc || echo sysvinit;; *) echo \"$c\";; esac; fi\n",
                "systemctl --version 2>/dev/null | head -n 2\n",
            )
            .into(),
            Collector::SshPubKeys => "for k in /etc/ssh/ssh_host_*_key.pub; do [ -r \"$k\" ] && { printf '%s ' \"${k##*/}\"; cat \"$k\"; }; done\n".into(),
            Collector::User => concat!(
                "id -un; id -u; id -g; echo \"$HOME\"; echo \"$SHELL\"\n",
                "getent passwd \"$(id -un)\" 2>/dev/null || grep \"^$(id -un):\" /etc/passwd\n",
                "id -ru; id -rg\n",
            )
            .into(),
            Collector::Hardware => concat!(
                "cat /proc/meminfo 2>/dev/null\n",
                "echo '@@DROVER:cpuinfo@@'\ncat /proc/cpuinfo 2>/dev/null\n",
                "echo '@@DROVER:nproc@@'\nnproc 2>/dev/null\n",
                "echo '@@DROVER:uptime@@'\ncat /proc/uptime 2>/dev/null\n",
                "echo '@@DROVER:loadavg@@'\ncat /proc/loadavg 2>/dev/null\n",
                "echo '@@DROVER:dmi@@'\nfor f in bios_date bios_vendor bios_version board_asset_tag board_name board_serial board_vendor board_version chassis_asset_tag chassis_serial chassis_vendor chassis_version product_name product_serial product_uuid product_version sys_vendor chassis_type; do ",
                "v=$(cat /sys/class/dmi/id/$f 2>/dev/null) || v=NA; printf '%s=%s\\n' $f \"${v:-NA}\"; done\n",
                "echo '@@DROVER:mounts@@'\n",
                "while read -r dev mnt fs opts _; do case $dev in /*) ;; *) [ \"$fs\" = none ] || continue;; esac\n",
                "  m=$(printf '%b' \"$mnt\"); s=$(stat -f -c '%S %b %a %f %c %d' \"$m\" 2>/dev/null) || continue\n",
                "  u=$(blkid -s UUID -o value \"$dev\" 2>/dev/null)\n",
                "  printf '%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' \"$dev\" \"$m\" \"$fs\" \"$opts\" \"$s\" \"${u:-N/A}\"\n",
                "done < /proc/mounts\n",
            )
            .into(),
            Collector::Network => concat!(
                "for d in /sys/class/net/*; do [ -e \"$d/mtu\" ] || continue; ",
                "printf '%s %s %s %s %s %s\\n' \"${d##*/}\" \"$(cat $d/mtu)\" \"$(cat $d/address 2>/dev/null)\" \"$(cat $d/flags)\" \"$(cat $d/type)\" \"$(cat $d/speed 2>/dev/null || echo -)\"; done\n",
                "echo '@@DROVER:addrs@@'\nip -o addr show 2>/dev/null\n",
                "echo '@@DROVER:route4@@'\nip -4 route show default 2>/dev/null\n",
                "echo '@@DROVER:route6@@'\nip -6 route show default 2>/dev/null\n",
            )
            .into(),
            Collector::Virtual => concat!(
                "systemd-detect-virt 2>/dev/null || { ",
                "grep -qa container=lxc /proc/1/environ 2>/dev/null && echo lxc; } || { ",
                "[ -f /.dockerenv ] && echo docker; } || echo none\n",
            )
            .into(),
        }
    }
}

/// Builds the probe script for the given collectors.
pub fn build_script(collectors: &[Collector], fact_path: &str) -> String {
    let mut s = String::from("exec 2>/dev/null\n");
    for c in collectors {
        s.push_str(&format!("echo '{MARKER}{}@@'\n", c.name()));
        s.push_str(&c.script(fact_path));
    }
    s
}

/// Splits probe output into sections by marker. Section text keeps its lines (without the marker).
pub fn split_sections(output: &str) -> BTreeMap<String, String> {
    let mut sections = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut body = String::new();
    for line in output.split_inclusive('\n') {
        let trimmed = line.trim_end_matches(['\n', '\r']);
        if let Some(name) = trimmed
            .strip_prefix(MARKER)
            .and_then(|r| r.strip_suffix("@@"))
        {
            if let Some(prev) = current.take() {
                sections.insert(prev, std::mem::take(&mut body));
            }
            current = Some(name.to_string());
            continue;
        }
        if current.is_some() {
            body.push_str(line);
        }
    }
    if let Some(prev) = current {
        sections.insert(prev, body);
    }
    sections
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_split_on_markers() {
        let s = split_sections("junk\n@@DROVER:a@@\nx\ny\n@@DROVER:b@@\n@@DROVER:c@@\nz");
        assert_eq!(s["a"], "x\ny\n");
        assert_eq!(s["b"], "");
        assert_eq!(s["c"], "z");
        assert!(!s.contains_key("junk"));
    }

    #[test]
    fn script_has_only_selected_collectors() {
        let s = build_script(&[Collector::Dns], "/etc/ansible/facts.d");
        assert!(s.contains("resolv.conf"));
        assert!(!s.contains("/proc/meminfo"));
    }

    #[test]
    fn names_round_trip() {
        for c in Collector::ALL {
            assert_eq!(Collector::from_name(c.name()), Some(c));
        }
        assert_eq!(Collector::from_name("mounts"), Some(Collector::Hardware));
        assert_eq!(Collector::from_name("bogus"), None);
    }
}
