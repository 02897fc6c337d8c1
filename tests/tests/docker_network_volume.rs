//! `docker_network`, `docker_volume` and their `_info` modules against a private engine: create,
//! idempotent rerun, check mode touching nothing, option changes recreating the object (networks
//! with their containers reconnected), `connected`/`appends`, removal, and bad input.

mod netvol_common;

use drover_integration::TestDockerEngine;
use netvol_common::{attached, inspect, play, play_ok, sleeper};

fn net_task(extra: &str) -> String {
    format!(
        "    - name: the network\n      docker_network:\n        docker_host: DH\n        name: net1\n\
         \x20       ipam_config:\n          - subnet: 172.30.5.0/24\n            gateway: 172.30.5.1\n\
         \x20       labels:\n          app: drover\n{extra}      register: r\n"
    )
}

#[test]
fn networks_converge_recreate_and_reconnect() {
    let engine = TestDockerEngine::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sleeper(&engine, "c1");
    sleeper(&engine, "c2");

    // Check mode on a missing network: changed, nothing created.
    let create = net_task("        connected: [c1]\n");
    assert_eq!(play_ok(&engine, d, &create, &["--check"]), 1);
    assert!(inspect(&engine, "network", "net1").is_none());

    let with_asserts = format!(
        "{create}    - assert:\n        that:\n          - r is changed\n\
         \x20         - r.network.Name == 'net1'\n\
         \x20         - r.network.IPAM.Config[0].Subnet == '172.30.5.0/24'\n\
         \x20         - r.network.Labels.app == 'drover'\n"
    );
    assert_eq!(play_ok(&engine, d, &with_asserts, &[]), 1);
    let first = inspect(&engine, "network", "net1").expect("created");
    assert_eq!(first["Labels"]["app"], "drover");
    assert_eq!(attached(&engine, "net1"), vec!["c1"]);
    assert_eq!(play_ok(&engine, d, &create, &[]), 0, "second run");
    assert_eq!(play_ok(&engine, d, &create, &["--check"]), 0);

    // A driver option differs: check mode predicts it and touches nothing...
    let mtu = "        connected: [c1]\n        driver_options:\n          com.docker.network.driver.mtu: 1400\n";
    let predicted = play(&engine, d, &net_task(mtu), &["--check", "--diff"]);
    predicted.assert_success();
    assert_eq!(predicted.changed(), 1);
    assert!(
        predicted
            .stdout
            .contains("+driver_options: {\"com.docker.network.driver.mtu\":\"1400\"}")
            && !predicted.stdout.contains("connected.c1"),
        "{}",
        predicted.stdout
    );
    assert_eq!(
        inspect(&engine, "network", "net1").unwrap()["Id"],
        first["Id"]
    );
    // ...and the apply recreates the network with c1 reconnected.
    assert_eq!(play_ok(&engine, d, &net_task(mtu), &[]), 1);
    let second = inspect(&engine, "network", "net1").unwrap();
    assert_ne!(second["Id"], first["Id"]);
    assert_eq!(second["Options"]["com.docker.network.driver.mtu"], "1400");
    assert_eq!(attached(&engine, "net1"), vec!["c1"]);
    assert_eq!(play_ok(&engine, d, &net_task(mtu), &[]), 0);

    // A different subnet also recreates it.
    let other = create.replace("172.30.5", "172.30.6");
    assert_eq!(play_ok(&engine, d, &other, &[]), 1);
    let third = inspect(&engine, "network", "net1").unwrap();
    assert_eq!(third["IPAM"]["Config"][0]["Subnet"], "172.30.6.0/24");
    assert_eq!(attached(&engine, "net1"), vec!["c1"]);

    // appends keeps c1; without it, c1 is disconnected; no `connected` keeps what is attached.
    let c2 = "    - docker_network:\n        docker_host: DH\n        name: net1\n        connected: [c2]\n";
    assert_eq!(
        play_ok(&engine, d, &format!("{c2}        appends: true\n"), &[]),
        1
    );
    assert_eq!(attached(&engine, "net1"), vec!["c1", "c2"]);
    assert_eq!(play_ok(&engine, d, c2, &["--check"]), 1);
    assert_eq!(attached(&engine, "net1"), vec!["c1", "c2"]);
    assert_eq!(play_ok(&engine, d, c2, &[]), 1);
    assert_eq!(attached(&engine, "net1"), vec!["c2"]);
    let bare = "    - docker_network:\n        docker_host: DH\n        name: net1\n";
    assert_eq!(play_ok(&engine, d, bare, &[]), 0);
    assert_eq!(attached(&engine, "net1"), vec!["c2"]);

    // Info on present and missing networks.
    let info = "    - docker_network_info:\n        docker_host: DH\n        name: net1\n      register: i\n\
                \x20   - community.docker.docker_network_info:\n        docker_host: DH\n        name: nope\n      register: m\n\
                \x20   - assert:\n        that:\n          - i.exists and not (i is changed)\n\
                \x20         - i.network.Name == 'net1'\n          - not m.exists\n          - m.network is none\n";
    assert_eq!(play_ok(&engine, d, info, &[]), 0);

    // Absent: check mode keeps it, apply removes it (disconnecting c2), rerun is unchanged.
    let absent = format!("{bare}        state: absent\n");
    assert_eq!(play_ok(&engine, d, &absent, &["--check"]), 1);
    assert!(inspect(&engine, "network", "net1").is_some());
    assert_eq!(play_ok(&engine, d, &absent, &[]), 1);
    assert!(inspect(&engine, "network", "net1").is_none());
    assert_eq!(play_ok(&engine, d, &absent, &[]), 0);
}

fn vol_task(extra: &str) -> String {
    format!(
        "    - name: the volume\n      docker_volume:\n        docker_host: DH\n        name: vol1\n{extra}      register: r\n"
    )
}

#[test]
fn volumes_follow_the_recreate_mode() {
    let engine = TestDockerEngine::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = vol_task("        labels:\n          app: one\n");
    assert_eq!(play_ok(&engine, d, &base, &["--check"]), 1);
    assert!(inspect(&engine, "volume", "vol1").is_none());
    let checked = format!(
        "{base}    - assert:\n        that:\n          - r.volume.Name == 'vol1'\n          - r.volume.Labels.app == 'one'\n"
    );
    assert_eq!(play_ok(&engine, d, &checked, &[]), 1);
    assert_eq!(
        inspect(&engine, "volume", "vol1").unwrap()["Labels"]["app"],
        "one"
    );
    assert_eq!(play_ok(&engine, d, &base, &[]), 0);
    assert_eq!(play_ok(&engine, d, &base, &["--check"]), 0);

    // A label change: `never` (the default) keeps the volume as it is...
    let two = "        labels:\n          app: two\n";
    assert_eq!(play_ok(&engine, d, &vol_task(two), &[]), 0);
    assert_eq!(
        inspect(&engine, "volume", "vol1").unwrap()["Labels"]["app"],
        "one"
    );
    // ...`options-changed` recreates it (check mode first: nothing happens).
    let oc = format!("{two}        recreate: options-changed\n");
    assert_eq!(play_ok(&engine, d, &vol_task(&oc), &["--check"]), 1);
    assert_eq!(
        inspect(&engine, "volume", "vol1").unwrap()["Labels"]["app"],
        "one"
    );
    assert_eq!(play_ok(&engine, d, &vol_task(&oc), &[]), 1);
    assert_eq!(
        inspect(&engine, "volume", "vol1").unwrap()["Labels"]["app"],
        "two"
    );
    assert_eq!(play_ok(&engine, d, &vol_task(&oc), &[]), 0);
    // Driver options too.
    let tmpfs = format!(
        "{oc}        driver_options:\n          type: tmpfs\n          device: tmpfs\n          o: size=1m\n"
    );
    assert_eq!(play_ok(&engine, d, &vol_task(&tmpfs), &[]), 1);
    assert_eq!(
        inspect(&engine, "volume", "vol1").unwrap()["Options"]["type"],
        "tmpfs"
    );
    assert_eq!(play_ok(&engine, d, &vol_task(&tmpfs), &[]), 0);
    // `always` recreates every time.
    let always = format!("{two}        recreate: always\n");
    assert_eq!(play_ok(&engine, d, &vol_task(&always), &[]), 1);
    assert_eq!(play_ok(&engine, d, &vol_task(&always), &[]), 1);
    assert!(inspect(&engine, "volume", "vol1").unwrap()["Options"]["type"].is_null());

    let info = "    - docker_volume_info:\n        docker_host: DH\n        name: vol1\n      register: i\n\
                \x20   - docker_volume_info:\n        docker_host: DH\n        volume_name: nope\n      register: m\n\
                \x20   - assert:\n        that:\n          - i.exists and i.volume.Name == 'vol1'\n\
                \x20         - not m.exists and m.volume is none\n";
    assert_eq!(play_ok(&engine, d, info, &[]), 0);

    let absent = vol_task("        state: absent\n");
    assert_eq!(play_ok(&engine, d, &absent, &["--check"]), 1);
    assert!(inspect(&engine, "volume", "vol1").is_some());
    assert_eq!(play_ok(&engine, d, &absent, &[]), 1);
    assert!(inspect(&engine, "volume", "vol1").is_none());
    assert_eq!(play_ok(&engine, d, &absent, &[]), 0);
}

#[test]
fn bad_input_fails_naming_the_task() {
    let engine = TestDockerEngine::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (task, words) in [
        (
            "    - name: bad subnet\n      docker_network:\n        docker_host: DH\n        name: n\n        ipam_config:\n          - subnet: 10.0.0.0\n",
            "not a valid CIDR",
        ),
        (
            "    - name: unknown option\n      docker_network:\n        docker_host: DH\n        name: n\n        colour: red\n",
            "colour",
        ),
        (
            "    - name: bad recreate\n      docker_volume:\n        docker_host: DH\n        name: v\n        recreate: sometimes\n",
            "sometimes",
        ),
        (
            "    - name: bad driver\n      docker_volume:\n        docker_host: DH\n        name: v\n        driver: nosuchdriver\n",
            "nosuchdriver",
        ),
        (
            "    - name: float label\n      docker_volume:\n        docker_host: DH\n        name: v\n        labels:\n          a: 1.5\n",
            "labels",
        ),
    ] {
        let out = play(&engine, d, task, &[]);
        assert!(!out.success(), "{task}: {}", out.stdout);
        let text = format!("{}{}", out.stdout, out.stderr);
        // An unknown key is refused before the play runs, pointing at its line; the others
        // fail their task, which the output names.
        let name = task.split("name: ").nth(1).unwrap().lines().next().unwrap();
        let named = text.contains(&format!("TASK [{name}]")) && text.contains("failed");
        assert!(named || text.contains("book.yml:10:9"), "{name}: {text}");
        assert!(text.contains(words), "{words}: {text}");
    }
    assert!(inspect(&engine, "network", "n").is_none());
    assert!(inspect(&engine, "volume", "v").is_none());
}
