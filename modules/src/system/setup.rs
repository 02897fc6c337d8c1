//! `setup`: gathers facts about the host with one POSIX shell round trip (no Python needed).
//!
//! Facts come back with their `ansible_` prefix inside `ansible_facts`, as Ansible's setup module
//! returns them; the executor exposes them as top-level variables and under `ansible_facts`.

use async_trait::async_trait;
use drover_core::module::{
    parse_params, Module, ModuleContext, ModuleError, ModuleResult, TypedModule,
};
use drover_core::vars::{Map, Value, Vars};
use serde::Deserialize;

/// Parameters of `setup`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SetupParams {
    /// Subsets to gather (accepted; the basic set is always gathered).
    #[serde(default)]
    #[allow(dead_code)]
    pub gather_subset: Option<Value>,
    /// Only return facts whose names match these shell-style patterns.
    #[serde(default)]
    pub filter: Option<Value>,
    /// Timeout (accepted for compatibility).
    #[serde(default)]
    #[allow(dead_code)]
    pub gather_timeout: Option<Value>,
    /// Directory of local facts (accepted; read from `/etc/ansible/facts.d`).
    #[serde(default)]
    #[allow(dead_code)]
    pub fact_path: Option<String>,
}

/// The probe: prints `key=value` lines; multi-line values are avoided by construction.
const PROBE: &str = r#"
echo "system=$(uname -s)"
echo "kernel=$(uname -r)"
echo "kernel_version=$(uname -v)"
echo "machine=$(uname -m)"
echo "hostname=$(hostname 2>/dev/null || uname -n)"
echo "fqdn=$(hostname -f 2>/dev/null || hostname 2>/dev/null || uname -n)"
echo "nodename=$(uname -n)"
echo "user_id=$(id -un)"
echo "user_uid=$(id -u)"
echo "user_gid=$(id -g)"
echo "user_dir=$HOME"
echo "user_shell=$SHELL"
echo "nproc=$(nproc 2>/dev/null || grep -c ^processor /proc/cpuinfo)"
echo "memtotal_kb=$(awk '/^MemTotal:/{print $2}' /proc/meminfo 2>/dev/null)"
echo "memfree_kb=$(awk '/^MemFree:/{print $2}' /proc/meminfo 2>/dev/null)"
echo "debian_version=$(cat /etc/debian_version 2>/dev/null)"
[ -d /run/systemd/system ] && echo "service_mgr=systemd" || echo "service_mgr=$(ps -p 1 -o comm= 2>/dev/null)"
for m in apt-get dnf yum zypper apk pacman; do command -v $m >/dev/null 2>&1 && { echo "pkg_mgr=$m"; break; }; done
echo "date_epoch=$(date +%s)"
echo "date_tz=$(date +%Z)"
echo "python=$(command -v python3 2>/dev/null)"
dev=$(ip -4 route show default 2>/dev/null | awk '{for(i=1;i<NF;i++) if($i=="dev"){print $(i+1); exit}}')
gw=$(ip -4 route show default 2>/dev/null | awk '{print $3; exit}')
echo "default_dev=$dev"
echo "default_gw=$gw"
[ -n "$dev" ] && echo "default_addr=$(ip -4 -o addr show dev "$dev" 2>/dev/null | awk '{print $4; exit}')"
echo "all_ipv4=$(ip -4 -o addr show 2>/dev/null | awk '$2!="lo"{split($4,a,"/"); printf "%s ", a[1]}')"
echo "interfaces=$(ls /sys/class/net 2>/dev/null | tr '\n' ' ')"
echo "virt=$( (systemd-detect-virt 2>/dev/null) || echo none)"
sed -n 's/^\([A-Z_]*\)=\(.*\)$/os_\1=\2/p' /etc/os-release 2>/dev/null
"#;

/// The `setup` module.
pub struct Setup;

fn parse_lines(text: &str) -> Map<String, Value> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v.trim().trim_matches('"').to_string();
            (k.to_string(), Value::String(v))
        })
        .collect()
}

/// Builds Ansible-named facts from the probe's raw values.
fn facts_from_probe(raw: &Map<String, Value>) -> Vars {
    let get = |k: &str| raw.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let num = |k: &str| get(k).parse::<u64>().unwrap_or(0);
    let mut f = Vars::new();
    let mut put = |k: &str, v: Value| {
        f.insert(format!("ansible_{k}"), v);
    };
    let os_id = get("os_ID");
    let distribution = match os_id.as_str() {
        "debian" => "Debian".to_string(),
        "ubuntu" => "Ubuntu".to_string(),
        "centos" => "CentOS".to_string(),
        "rhel" => "RedHat".to_string(),
        "fedora" => "Fedora".to_string(),
        "rocky" => "Rocky".to_string(),
        "almalinux" => "AlmaLinux".to_string(),
        "alpine" => "Alpine".to_string(),
        "arch" => "Archlinux".to_string(),
        "opensuse-leap" | "opensuse" => "openSUSE Leap".to_string(),
        "" => get("system"),
        other => {
            let mut c = other.chars();
            c.next()
                .map(|first| first.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    };
    let os_family = match os_id.as_str() {
        "debian" | "ubuntu" | "linuxmint" | "raspbian" | "kali" => "Debian",
        "centos" | "rhel" | "fedora" | "rocky" | "almalinux" | "ol" | "amzn" => "RedHat",
        "alpine" => "Alpine",
        "arch" | "manjaro" => "Archlinux",
        "opensuse-leap" | "opensuse" | "sles" => "Suse",
        _ => "",
    };
    let os_family = if os_family.is_empty() {
        distribution.clone()
    } else {
        os_family.to_string()
    };
    // Debian's point release lives in /etc/debian_version (e.g. 12.7), as Ansible reports it.
    let version = match (os_id.as_str(), get("debian_version")) {
        ("debian", dv) if dv.chars().next().is_some_and(|c| c.is_ascii_digit()) => dv,
        _ => get("os_VERSION_ID"),
    };
    let major = version.split('.').next().unwrap_or("").to_string();
    let s = |v: String| Value::String(v);
    put("system", s(get("system")));
    put("kernel", s(get("kernel")));
    put("kernel_version", s(get("kernel_version")));
    put("architecture", s(get("machine")));
    put("machine", s(get("machine")));
    put(
        "hostname",
        s(get("hostname").split('.').next().unwrap_or("").to_string()),
    );
    put("nodename", s(get("nodename")));
    put("fqdn", s(get("fqdn")));
    put(
        "domain",
        s(get("fqdn")
            .split_once('.')
            .map(|(_, d)| d.to_string())
            .unwrap_or_default()),
    );
    put("distribution", s(distribution));
    put("distribution_version", s(version));
    put("distribution_major_version", s(major));
    put("distribution_release", s(get("os_VERSION_CODENAME")));
    put("os_family", s(os_family));
    put("user_id", s(get("user_id")));
    put("user_uid", Value::from(num("user_uid")));
    put("user_gid", Value::from(num("user_gid")));
    put("user_dir", s(get("user_dir")));
    put("user_shell", s(get("user_shell")));
    put("processor_vcpus", Value::from(num("nproc")));
    put("processor_count", Value::from(num("nproc")));
    put("memtotal_mb", Value::from(num("memtotal_kb") / 1024));
    put("memfree_mb", Value::from(num("memfree_kb") / 1024));
    put("service_mgr", s(get("service_mgr")));
    put(
        "pkg_mgr",
        s(match get("pkg_mgr").as_str() {
            "apt-get" => "apt".to_string(),
            other => other.to_string(),
        }),
    );
    let addrs: Vec<Value> = get("all_ipv4")
        .split_whitespace()
        .map(|a| s(a.to_string()))
        .collect();
    put("all_ipv4_addresses", Value::Array(addrs));
    let ifaces: Vec<Value> = get("interfaces")
        .split_whitespace()
        .map(|a| s(a.to_string()))
        .collect();
    put("interfaces", Value::Array(ifaces));
    let mut default_ipv4 = Map::new();
    if let Some((addr, prefix)) = get("default_addr").split_once('/') {
        default_ipv4.insert("address".into(), s(addr.to_string()));
        default_ipv4.insert("prefix".into(), s(prefix.to_string()));
        default_ipv4.insert("interface".into(), s(get("default_dev")));
        default_ipv4.insert("alias".into(), s(get("default_dev")));
        default_ipv4.insert("gateway".into(), s(get("default_gw")));
    }
    put("default_ipv4", Value::Object(default_ipv4));
    let virt = get("virt");
    put(
        "virtualization_type",
        s(if virt == "none" {
            "NA".into()
        } else {
            virt.clone()
        }),
    );
    put(
        "virtualization_role",
        s(if virt == "none" {
            "NA".into()
        } else {
            "guest".into()
        }),
    );
    let epoch = num("date_epoch");
    put(
        "date_time",
        serde_json::json!({"epoch": epoch.to_string(), "tz": get("date_tz")}),
    );
    if !get("python").is_empty() {
        put("python", serde_json::json!({"executable": get("python")}));
    }
    f
}

fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

#[async_trait]
impl Module for Setup {
    fn name(&self) -> &'static str {
        "setup"
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
impl TypedModule for Setup {
    type Params = SetupParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        params: SetupParams,
    ) -> Result<ModuleResult, ModuleError> {
        let out = ctx.conn.run(PROBE).await?;
        let mut facts = facts_from_probe(&parse_lines(&out.stdout_str()));
        let filters: Vec<String> = match &params.filter {
            None => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(other) => {
                return Err(ModuleError::BadArgs {
                    module: "setup".into(),
                    message: format!("filter must be a string or a list, got {other}"),
                })
            }
        };
        if !filters.is_empty() {
            facts.retain(|k, _| filters.iter().any(|p| glob_match(p, k)));
        }
        Ok(ModuleResult {
            ansible_facts: Some(facts),
            ..ModuleResult::ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_facts() {
        let raw = parse_lines(
            "system=Linux\nos_ID=debian\nos_VERSION_ID=\"12\"\nos_VERSION_CODENAME=bookworm\ndebian_version=12.7\nhostname=web1\nfqdn=web1.example.com\npkg_mgr=apt-get\nmemtotal_kb=2048000\ndefault_addr=10.0.3.5/24\ndefault_dev=eth0\n",
        );
        let f = facts_from_probe(&raw);
        assert_eq!(f["ansible_distribution"], "Debian");
        assert_eq!(f["ansible_os_family"], "Debian");
        assert_eq!(f["ansible_distribution_version"], "12.7");
        assert_eq!(f["ansible_distribution_major_version"], "12");
        assert_eq!(f["ansible_distribution_release"], "bookworm");
        assert_eq!(f["ansible_pkg_mgr"], "apt");
        assert_eq!(f["ansible_memtotal_mb"], 2000);
        assert_eq!(f["ansible_domain"], "example.com");
        assert_eq!(f["ansible_default_ipv4"]["address"], "10.0.3.5");
    }

    #[test]
    fn filter_globs() {
        assert!(glob_match(
            "ansible_distribution*",
            "ansible_distribution_version"
        ));
        assert!(!glob_match("ansible_os*", "ansible_distribution"));
    }
}
