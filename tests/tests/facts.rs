//! `setup` / `gather_facts` against a real Debian host: facts match what the host itself reports,
//! `ansible_local` from facts.d (JSON, INI, executable), `gather_subset`, `filter`, check mode,
//! bad input, and `delegate_facts`.

use drover_integration::TestHosts;
use serde_json::Value;

/// Reads a JSON file from host `i`.
fn host_json(hosts: &TestHosts, i: usize, path: &str) -> Value {
    let text = hosts.ssh_ok(i, &format!("cat {path}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
}

#[test]
fn facts_match_the_host() {
    let hosts = TestHosts::start(2);
    let h0 = hosts.host(0).clone();
    // Local facts: JSON file, INI file, executable, broken file.
    hosts.ssh_ok(
        0,
        r#"mkdir -p /etc/ansible/facts.d && cd /etc/ansible/facts.d &&
printf '{"port": 8080, "tags": ["a"]}\n' > app.fact &&
printf '[general]\nName = web\nlevel: 3\n' > site.fact &&
printf '#!/bin/sh\necho "{\\"dyn\\": \\"$(hostname)\\"}"\n' > dyn.fact && chmod +x dyn.fact &&
printf 'not facts at all\n' > junk.fact"#,
    );
    let run = hosts.play(
        "all_hosts",
        "facts.yml",
        r#"- hosts: all_hosts
  tasks:
    - name: dump facts
      copy:
        dest: /tmp/facts.json
        content: "{{ ansible_facts | to_json }}"
    - name: dump top-level names
      copy:
        dest: /tmp/top.json
        content: "{{ {'distribution': ansible_distribution, 'major': ansible_distribution_major_version, 'hostname': ansible_hostname, 'local': ansible_local, 'addr': ansible_default_ipv4.address, 'eth0': ansible_eth0.ipv4.address} | to_json }}"
"#,
        &[],
    );
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let f = host_json(&hosts, 0, "/tmp/facts.json");
    let sh = |cmd: &str| hosts.ssh_ok(0, cmd).trim().to_string();
    assert_eq!(f["distribution"], "Debian");
    assert_eq!(f["os_family"], "Debian");
    assert_eq!(f["distribution_release"], "bookworm");
    assert_eq!(f["distribution_version"], sh("cat /etc/debian_version"));
    assert_eq!(f["distribution_major_version"], "12");
    assert_eq!(f["architecture"], sh("uname -m"));
    assert_eq!(f["kernel"], sh("uname -r"));
    assert_eq!(f["hostname"], h0.name.as_str());
    assert_eq!(f["nodename"], h0.name.as_str());
    assert_eq!(f["fqdn"], sh("hostname -f"));
    assert_eq!(f["default_ipv4"]["address"], h0.ip.to_string());
    assert_eq!(f["default_ipv4"]["interface"], "eth0");
    assert_eq!(f["default_ipv4"]["gateway"], "10.77.0.1");
    assert_eq!(f["default_ipv4"]["netmask"], "255.255.255.0");
    assert!(f["all_ipv4_addresses"]
        .as_array()
        .unwrap()
        .contains(&Value::String(h0.ip.to_string())));
    assert!(f["interfaces"]
        .as_array()
        .unwrap()
        .contains(&Value::from("lo")));
    assert_eq!(
        f["eth0"]["macaddress"],
        sh("cat /sys/class/net/eth0/address")
    );
    assert_eq!(f["lo"]["ipv4"]["address"], "127.0.0.1");
    let memtotal: u64 = sh("awk '/MemTotal/{print int($2/1024)}' /proc/meminfo")
        .parse()
        .unwrap();
    assert_eq!(f["memtotal_mb"], memtotal);
    assert_eq!(f["processor_vcpus"], sh("nproc").parse::<u64>().unwrap());
    assert_eq!(f["service_mgr"], "systemd");
    assert_eq!(f["pkg_mgr"], "apt");
    assert_eq!(f["user_id"], "root");
    assert_eq!(f["user_uid"], 0);
    assert_eq!(f["user_dir"], "/root");
    assert_eq!(f["env"]["HOME"], "/root");
    assert!(f.get("python").is_none(), "no python on the host");
    assert_eq!(f["selinux"]["status"], "disabled");
    assert_eq!(f["virtualization_type"], "lxc");
    assert_eq!(f["virtualization_role"], "guest");
    assert_eq!(
        f["virtualization_tech_guest"],
        serde_json::json!(["lxc", "container"])
    );
    assert_eq!(f["is_chroot"], false);
    assert!(f["systemd"]["version"].as_u64().unwrap() >= 252);
    assert_eq!(f["lsb"], serde_json::json!({}));
    assert!(f["loadavg"]["1m"].is_number());
    assert_eq!(f["machine_id"], sh("cat /etc/machine-id"));
    let dt = &f["date_time"];
    let epoch: i64 = dt["epoch"].as_str().unwrap().parse().unwrap();
    let now: i64 = sh("date +%s").parse().unwrap();
    assert!((now - epoch).abs() < 120, "epoch {epoch} vs {now}");
    for key in [
        "year",
        "month",
        "day",
        "hour",
        "minute",
        "second",
        "weekday",
        "weekday_number",
        "weeknumber",
        "date",
        "time",
        "iso8601",
        "iso8601_micro",
        "iso8601_basic",
        "iso8601_basic_short",
        "tz",
        "tz_dst",
        "tz_offset",
        "epoch_int",
    ] {
        assert!(dt.get(key).is_some(), "date_time.{key} missing: {dt}");
    }
    assert!(f["mounts"].is_array());
    // ansible_local: JSON, INI (lower-cased keys, string values), executable output, error text.
    let local = &f["ansible_local"];
    assert_eq!(local["app"]["port"], 8080);
    assert_eq!(local["site"]["general"]["name"], "web");
    assert_eq!(local["site"]["general"]["level"], "3");
    assert_eq!(local["dyn"]["dyn"], h0.name.as_str());
    assert!(local["junk"]
        .as_str()
        .unwrap()
        .contains("error loading facts"));
    // The same facts as top-level ansible_* variables.
    let top = host_json(&hosts, 0, "/tmp/top.json");
    assert_eq!(top["distribution"], "Debian");
    assert_eq!(top["hostname"], h0.name.as_str());
    assert_eq!(top["addr"], h0.ip.to_string());
    assert_eq!(top["eth0"], h0.ip.to_string());
    assert_eq!(top["local"]["app"]["port"], 8080);
    // Host 1 has its own facts and no local facts.
    let f1 = host_json(&hosts, 1, "/tmp/facts.json");
    assert_eq!(f1["hostname"], hosts.host(1).name.as_str());
    assert_eq!(f1["ansible_local"], serde_json::json!({}));

    // gather_subset + filter; facts stay for later plays (cached for the run); check mode gathers.
    let run = hosts.play(
        "all_hosts",
        "subset.yml",
        r#"- hosts: all_hosts
  gather_facts: false
  tasks:
    - setup:
        gather_subset: ['!all', 'network']
        filter: ['ansible_default_ipv4', 'ansible_distribution*']
      register: r
    - copy:
        dest: /tmp/subset.json
        content: "{{ r.ansible_facts | to_json }}"
- hosts: all_hosts
  gather_facts: false
  tasks:
    - copy:
        dest: /tmp/later.txt
        content: "{{ ansible_distribution }} {{ ansible_default_ipv4.address }}"
    - setup:
        gather_subset: bogus
      register: bad
      ignore_errors: true
    - assert:
        that:
          - bad is failed
          - "'Bad subset' in bad.msg"
"#,
        &[],
    );
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let s = host_json(&hosts, 0, "/tmp/subset.json");
    let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
    assert!(keys.contains(&"ansible_default_ipv4"), "{keys:?}");
    assert!(keys.contains(&"ansible_distribution_release"), "{keys:?}");
    assert!(!keys.contains(&"ansible_mounts"), "{keys:?}");
    assert!(!keys.contains(&"ansible_env"), "{keys:?}");
    assert_eq!(
        hosts.ssh_ok(0, "cat /tmp/later.txt"),
        format!("Debian {}", h0.ip)
    );

    // Check mode: facts are gathered, nothing is written.
    hosts.ssh_ok(0, "rm -f /tmp/facts.json");
    let run = hosts.play(
        "all_hosts",
        "facts.yml",
        &std::fs::read_to_string(hosts.dir().join("facts.yml")).unwrap(),
        &["--check"],
    );
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(!hosts.ssh(0, "test -e /tmp/facts.json").status.success());

    // Unknown argument: exit 1 before touching hosts, naming the key.
    let run = hosts.play(
        "all_hosts",
        "badarg.yml",
        "- hosts: all_hosts\n  gather_facts: false\n  tasks:\n    - setup:\n        gather_subsett: all\n",
        &[],
    );
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        all.contains("gather_subsett") && all.contains("badarg.yml:5"),
        "{all}"
    );

    // delegate_facts: facts gathered by delegation land on the delegated host.
    let h1 = hosts.host(1).name.clone();
    let run = hosts.play(
        "all_hosts",
        "delegate.yml",
        &format!(
            r#"- hosts: {h0name}
  gather_facts: false
  tasks:
    - setup:
        gather_subset: ['!all']
      delegate_to: {h1}
      delegate_facts: true
- hosts: all_hosts
  gather_facts: false
  tasks:
    - copy:
        dest: /tmp/delegated.txt
        content: "{{{{ ansible_hostname | default('none') }}}}"
"#,
            h0name = h0.name
        ),
        &[],
    );
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    // Without delegate_facts host 0 would get host 1's facts; with it, host 0 has none and
    // host 1 has its own.
    assert_eq!(hosts.ssh_ok(0, "cat /tmp/delegated.txt"), "none");
    assert_eq!(hosts.ssh_ok(1, "cat /tmp/delegated.txt"), h1);
}
