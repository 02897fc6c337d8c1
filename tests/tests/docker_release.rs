//! The shipped container release flow (`playbooks/container-release.yml` with
//! `inventories/container-release`) end to end on a private engine and a local registry: the dev
//! container is committed and pushed, the database is dumped, verified in a scratch container of
//! the new image and only then replaced (its data kept), PostGIS-style and Redis containers run,
//! the release QA passes; a second run changes nothing; a script that lost its execute bit fails
//! the QA; a database image the dump cannot be verified in leaves the old container alone.
//!
//! The database and Redis images are Debian's packages built once per machine
//! (`TestDockerEngine::cached_image`); no public registry is used.

use std::path::Path;

use drover_integration::{repo_root, run_drover, DroverOutput, TestDockerEngine, TEST_IMAGE};

fn postgres_dockerfile() -> String {
    format!(
        "FROM {TEST_IMAGE}\n\
         RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
         --no-install-recommends postgresql-15 && rm -rf /var/lib/apt/lists/*\n\
         USER postgres\n\
         CMD [\"/usr/lib/postgresql/15/bin/postgres\", \"-D\", \"/var/lib/postgresql/15/main\", \
         \"-c\", \"config_file=/etc/postgresql/15/main/postgresql.conf\"]\n"
    )
}

fn redis_dockerfile() -> String {
    format!(
        "FROM {TEST_IMAGE}\n\
         RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
         --no-install-recommends redis-server && rm -rf /var/lib/apt/lists/*\n\
         CMD [\"redis-server\", \"--protected-mode\", \"no\"]\n"
    )
}

const DATA_DIR: &str = "/var/lib/postgresql/15/main";

/// Runs the release playbook with `extra` as extra vars.
fn release(dir: &Path, extra: &serde_json::Value) -> DroverOutput {
    let vars = dir.join("extra.json");
    std::fs::write(&vars, extra.to_string()).expect("writing extra vars");
    let root = repo_root();
    run_drover([
        "play".into(),
        root.join("playbooks/container-release.yml")
            .into_os_string(),
        "-i".into(),
        root.join("inventories/container-release").into_os_string(),
        "-e".into(),
        format!("@{}", vars.display()).into(),
    ] as [std::ffi::OsString; 6])
}

/// Waits until the database container answers.
fn wait_for_db(engine: &TestDockerEngine, name: &str) {
    for _ in 0..100 {
        let out = engine.docker(&["exec", "-u", "postgres", name, "psql", "-Atc", "select 1"]);
        if out.status.success() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!("{name} did not answer");
}

#[test]
fn release_flow_end_to_end() {
    let engine = TestDockerEngine::start();
    let registry = engine.registry();
    let pg15 = engine.cached_image("drover-test/postgres:15", &postgres_dockerfile());
    let pg15b = engine.cached_image(
        "drover-test/postgres:15-b",
        &format!("FROM {pg15}\nLABEL drover.test.release=b\n"),
    );
    let redis = engine.cached_image("drover-test/redis:7", &redis_dockerfile());

    // The dev container, as a developer left it; the database on last release's image, with data.
    engine.docker_ok(&[
        "run",
        "-d",
        "--name",
        "app-dev",
        "-e",
        "APP_ENV=staging",
        "-e",
        "DATABASE_URL=postgres://app-db/app",
        "-e",
        "REDIS_URL=redis://app-redis",
        TEST_IMAGE,
        "sleep",
        "infinity",
    ]);
    engine.docker_ok(&[
        "exec",
        "app-dev",
        "sh",
        "-c",
        "mkdir -p /srv/app/scripts /srv/app/.git && printf '#!/bin/sh\\necho hi\\n' >/srv/app/scripts/run.sh \
         && chmod 755 /srv/app/scripts/run.sh && printf '[core]\\n\\tbare = false\\n' >/srv/app/.git/config \
         && chown -R deploy:deploy /srv/app",
    ]);
    engine.docker_ok(&[
        "run",
        "-d",
        "--name",
        "app-db",
        "-v",
        &format!("app-db-data:{DATA_DIR}"),
        &pg15,
    ]);
    wait_for_db(&engine, "app-db");
    engine.docker_ok(&[
        "exec",
        "-u",
        "postgres",
        "app-db",
        "psql",
        "-c",
        "create table releases (tag text); insert into releases values ('last-week')",
    ]);

    let dir = tempfile::tempdir().expect("tempdir");
    let backups = dir.path().join("backups");
    let mut extra = serde_json::json!({
        "release_tag": "2026-12-07",
        "release_registry": registry,
        "db_image": pg15b,
        "db_data_dir": DATA_DIR,
        "redis_image": redis,
        "db_backup_dir": backups,
        "db_wait_retries": 30,
        "docker_environment": {"DOCKER_HOST": engine.docker_host()},
    });

    let first = release(dir.path(), &extra);
    assert!(first.success(), "{}\n{}", first.stdout, first.stderr);
    assert!(first.changed() >= 5, "{}", first.stdout);
    // The release image is in the registry.
    let pushed = format!("{registry}/app-dev:2026-12-07");
    engine.docker_ok(&["rmi", &pushed]);
    engine.docker_ok(&["pull", "-q", &pushed]);
    // The dump was written and verified; the database runs the new image with its data.
    assert!(backups.join("app-db-2026-12-07.sql").is_file());
    let image = engine.docker_ok(&["inspect", "-f", "{{.Config.Image}}", "app-db"]);
    assert_eq!(image, pg15b);
    wait_for_db(&engine, "app-db");
    let rows = engine.docker_ok(&[
        "exec",
        "-u",
        "postgres",
        "app-db",
        "psql",
        "-Atc",
        "select tag from releases",
    ]);
    assert_eq!(rows, "last-week");
    assert!(!engine
        .docker(&["inspect", "app-db-verify"])
        .status
        .success());
    for name in ["app-db", "app-redis", "app-dev"] {
        let running = engine.docker_ok(&["inspect", "-f", "{{.State.Running}}", name]);
        assert_eq!(running, "true", "{name}");
    }

    let second = release(dir.path(), &extra);
    assert!(second.success(), "{}\n{}", second.stdout, second.stderr);
    assert_eq!(second.changed(), 0, "{}", second.stdout);

    // QA: a script without its execute bit fails the release.
    engine.docker_ok(&["exec", "app-dev", "chmod", "644", "/srv/app/scripts/run.sh"]);
    let qa = release(dir.path(), &extra);
    assert!(!qa.success());
    assert!(
        qa.stdout
            .contains("not executable: /srv/app/scripts/run.sh"),
        "{}",
        qa.stdout
    );
    engine.docker_ok(&["exec", "app-dev", "chmod", "755", "/srv/app/scripts/run.sh"]);

    // A database image the dump cannot be verified in (no PostgreSQL at all): the old container
    // stays on its image, running.
    extra["db_image"] = serde_json::Value::from(redis.clone());
    extra["release_tag"] = serde_json::Value::from("2026-12-08");
    extra["db_wait_retries"] = serde_json::Value::from(2);
    let refused = release(dir.path(), &extra);
    assert!(!refused.success(), "{}", refused.stdout);
    assert!(
        refused.stdout.contains("was not replaced"),
        "{}",
        refused.stdout
    );
    let image = engine.docker_ok(&["inspect", "-f", "{{.Config.Image}}", "app-db"]);
    assert_eq!(image, pg15b);
    let running = engine.docker_ok(&["inspect", "-f", "{{.State.Running}}", "app-db"]);
    assert_eq!(running, "true");
}
