//! Shared by `rhaptos_roles.rs`: the LAN under test (one fresh host per role, the inventory and
//! group variables the roles expect), the site playbook, and the probes run from the controller.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use drover_integration::{drover_command, repo_root, DroverOutput, TestHosts};

pub const ROLES: [&str; 4] = ["devdns", "devlog", "devjenkins", "devweb"];
pub const DOMAIN: &str = "rhaptos.test";

/// The roles this run tests (all, unless `DROVER_RHAPTOS_ROLES` names some).
pub fn selected_roles() -> Vec<&'static str> {
    match std::env::var("DROVER_RHAPTOS_ROLES") {
        Ok(list) if !list.trim().is_empty() => ROLES
            .into_iter()
            .filter(|role| list.split(',').any(|r| r.trim() == *role))
            .collect(),
        _ => ROLES.to_vec(),
    }
}

/// The LAN under test: one fresh host per role, an inventory with a group per role (children of
/// `rhaptos`) and the shared variables in `group_vars/rhaptos.yml`.
pub struct Lan {
    pub hosts: TestHosts,
    pub roles: Vec<&'static str>,
    pub inventory: PathBuf,
}

impl Lan {
    pub fn start(roles: Vec<&'static str>) -> Lan {
        let hosts = TestHosts::start(roles.len());
        let dir = hosts.dir().to_path_buf();
        let text = hosts.inventory_text("all_hosts", "root");
        let mut inventory = String::new();
        for (role, line) in roles.iter().zip(text.lines().skip(1)) {
            inventory.push_str(&format!(
                "[{role}]\n{line}\n\n[{role}:vars]\nrhaptos_role={role}\n\n"
            ));
        }
        inventory.push_str("[rhaptos:children]\n");
        for role in &roles {
            inventory.push_str(&format!("{role}\n"));
        }
        let inventory_path = dir.join("hosts.ini");
        std::fs::write(&inventory_path, inventory).unwrap();
        let lan = Lan {
            hosts,
            roles,
            inventory: inventory_path,
        };
        std::fs::create_dir_all(dir.join("group_vars")).unwrap();
        std::fs::write(
            dir.join("group_vars/rhaptos.yml"),
            lan.group_vars(&lan.host_list()),
        )
        .unwrap();
        std::fs::write(dir.join("site.yml"), SITE).unwrap();
        lan
    }

    /// Index of the host running `role`.
    pub fn index(&self, role: &str) -> Option<usize> {
        self.roles.iter().position(|r| *r == role)
    }

    pub fn ip(&self, role: &str) -> Ipv4Addr {
        self.hosts
            .host(self.index(role).expect("role under test"))
            .ip
    }

    /// `rhaptos_hosts` as YAML flow items: every role's host with its aliases.
    pub fn host_list(&self) -> Vec<String> {
        self.roles
            .iter()
            .enumerate()
            .map(|(i, role)| {
                let aliases = match *role {
                    "devdns" => "[ns]",
                    "devlog" => "[log, graphite]",
                    "devjenkins" => "[ci]",
                    _ => "[www, cdn]",
                };
                format!(
                    "{{name: {role}, ip: {}, aliases: {aliases}}}",
                    self.hosts.host(i).ip
                )
            })
            .collect()
    }

    pub fn group_vars(&self, host_list: &[String]) -> String {
        let upstream: Vec<String> = std::fs::read_to_string("/etc/resolv.conf")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.strip_prefix("nameserver "))
            .map(|s| s.trim().to_string())
            .filter(|s| s.parse::<Ipv4Addr>().is_ok())
            .collect();
        let log_host = self
            .index("devlog")
            .map(|i| self.hosts.host(i).ip.to_string())
            .unwrap_or_else(|| "127.0.0.1".into());
        format!(
            "rhaptos_domain: {DOMAIN}\nrhaptos_subnet: 10.77.0.0/24\nrhaptos_upstream_dns: [{}]\n\
             rhaptos_log_host: {log_host}\nrhaptos_log_port: 5514\nrhaptos_hosts:\n{}",
            upstream.join(", "),
            host_list
                .iter()
                .map(|h| format!("  - {h}\n"))
                .collect::<String>()
        )
    }

    /// Runs `site.yml` (plus `extra` arguments) with the repository's roles on the roles path.
    pub fn play(&self, extra: &[&str]) -> DroverOutput {
        let output = drover_command()
            .arg("play")
            .arg(self.hosts.dir().join("site.yml"))
            .arg("-i")
            .arg(&self.inventory)
            .args(extra)
            .env("ANSIBLE_ROLES_PATH", repo_root().join("playbooks/roles"))
            .env("DROVER_NO_PROGRESS", "1")
            .output()
            .expect("run drover");
        DroverOutput {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Lan {
    /// Runs `site.yml` with ansible-core (the oracle; the hosts need python3) like [`Lan::play`].
    pub fn play_ansible(&self) -> DroverOutput {
        let output = Command::new(drover_integration::oracle_ansible_playbook())
            .arg(self.hosts.dir().join("site.yml"))
            .arg("-i")
            .arg(&self.inventory)
            .env("ANSIBLE_ROLES_PATH", repo_root().join("playbooks/roles"))
            .env(
                "ANSIBLE_COLLECTIONS_PATH",
                drover_integration::oracle_collections_path(),
            )
            .env("ANSIBLE_PYTHON_INTERPRETER", "/usr/bin/python3")
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
            .output()
            .expect("run ansible-playbook");
        DroverOutput {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// One play for every host: each includes the role named by its group's `rhaptos_role`, and the
/// hosts other than devlog forward their logs to it; then (a second play, once devdns answers)
/// the hosts other than devdns resolve through it.
pub const SITE: &str = "\
- name: Rhaptos LAN services
  hosts: rhaptos
  strategy: free
  tasks:
    - name: Apply this host's service role
      ansible.builtin.include_role:
        name: \"{{ rhaptos_role }}\"
    - name: Forward this host's logs to devlog
      ansible.builtin.include_role:
        name: devlog
        tasks_from: client
      when: rhaptos_role != 'devlog' and 'devlog' in groups

- name: Resolve through devdns
  hosts: rhaptos
  tasks:
    - name: Point resolv.conf at devdns
      ansible.builtin.include_role:
        name: devdns
        tasks_from: client
      when: rhaptos_role != 'devdns' and 'devdns' in groups
";

/// `dig +short` against `server` (the answer lines, trimmed).
pub fn dig(server: Ipv4Addr, args: &[&str]) -> String {
    let out = Command::new("dig")
        .arg(format!("@{server}"))
        .args(["+short", "+time=3", "+tries=2"])
        .args(args)
        .output()
        .expect("run dig (tests/harness/setup.sh installs bind9-dnsutils)");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The SOA serial of `zone` on `server`.
pub fn serial(server: Ipv4Addr, zone: &str) -> u64 {
    let soa = dig(server, &[zone, "SOA"]);
    soa.split_whitespace()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no SOA serial for {zone}: {soa:?}"))
}

/// A plain HTTP/1.0 GET of `path` on `ip:port` with `Host: host`; returns (status line, body).
pub fn http_get(ip: Ipv4Addr, port: u16, host: &str, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect_timeout(&(ip, port).into(), Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connect {ip}:{port}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or_default().to_string(),
        body.to_string(),
    )
}

/// Retries `check` (which returns a failure description) for up to `seconds`.
pub fn eventually(seconds: u64, mut check: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        match check() {
            Ok(()) => return,
            Err(why) if Instant::now() > deadline => panic!("{why}"),
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}
