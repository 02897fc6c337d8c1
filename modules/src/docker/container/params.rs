//! `docker_container`'s parameters: community.docker's full argument spec.

use drover_core::params::ModuleParams;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::docker::api::{de_opt_u64, DockerApi};
use crate::params::{de_bool, de_opt_bool, de_opt_string, de_opt_string_list, de_string};

/// Parameters of `docker_container` (community.docker's names, aliases and defaults).
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct ContainerParams {
    /// The engine connection options.
    #[serde(flatten)]
    pub api: DockerApi,
    /// Name of the container (or its ID for an existing one).
    #[serde(deserialize_with = "de_string")]
    pub name: String,
    /// `present` (created, not started if new), `started`, `stopped`, `healthy` (started and
    /// healthy), `absent`.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(
        choices("absent", "present", "healthy", "started", "stopped"),
        default = "started"
    )]
    pub state: Option<String>,
    /// Repository path and tag (or ID) of the image the container runs.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub image: Option<String>,
    /// When to pull the image: `missing`, `always`, `never`; `true` = `always`, `false` = `missing`.
    #[serde(default)]
    #[param(default = "missing")]
    pub pull: Option<Value>,
    /// In check mode, whether `pull: always` reports a change (`always`) or only a missing
    /// image does (`image_not_present`).
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(choices("image_not_present", "always"), default = "image_not_present")]
    pub pull_check_mode_behavior: Option<String>,
    /// Whether the image the container runs is compared with `image` (`desired-image`) or the
    /// image the container was created from (`current-image`) for the image-provided defaults.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(choices("desired-image", "current-image"), default = "desired-image")]
    pub image_comparison: Option<String>,
    /// `fail` when labels of the image would have to be removed (strict label comparison).
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(choices("ignore", "fail"), default = "ignore")]
    pub image_label_mismatch: Option<String>,
    /// Recreate the container when its image name differs from `image` (`recreate`) or not.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(choices("ignore", "recreate"), default = "recreate")]
    pub image_name_mismatch: Option<String>,
    /// Command to run: a string (split like a shell would) or a list.
    #[serde(default)]
    pub command: Option<Value>,
    /// `correct` keeps lists as they are; `compatibility` joins and re-splits them.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(choices("compatibility", "correct"), default = "correct")]
    pub command_handling: Option<String>,
    /// The entrypoint (a list; the docker CLI can set one element only).
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub entrypoint: Option<Vec<String>>,
    /// How each option is compared with the existing container: `strict`, `ignore`,
    /// `allow_more_present`; `*` sets the default of all.
    #[serde(default)]
    pub comparisons: Option<Map<String, Value>>,
    /// `compatibility` restores the old defaults of `auto_remove`, `detach`, `init`,
    /// `interactive`, `memory`, `paused`, `privileged`, `read_only` and `tty`.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(choices("compatibility", "no_defaults"), default = "no_defaults")]
    pub container_default_behavior: Option<String>,
    /// Host IP for published ports that name none (default `0.0.0.0`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub default_host_ip: Option<String>,
    /// Remove the container once it ran (with `detach: false`).
    #[serde(default, deserialize_with = "de_bool")]
    pub cleanup: bool,
    /// Run in the background (`true`) or wait for the command to end (`false`, the result's
    /// `status` is its exit code).
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub detach: Option<bool>,
    /// Kill (instead of stop) the container when it must stop.
    #[serde(default, alias = "forcekill", deserialize_with = "de_bool")]
    pub force_kill: bool,
    /// Signal `force_kill` sends.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub kill_signal: Option<String>,
    /// Keep the container's anonymous volumes when it is removed.
    #[serde(default = "yes", deserialize_with = "de_bool")]
    #[param(default = "true")]
    pub keep_volumes: bool,
    /// Write the output of a `detach: false` run to the target's system log (`logger`), as
    /// community.docker writes it to the module log; it is in `container.Output` either way.
    #[serde(default, deserialize_with = "de_bool")]
    pub output_logs: bool,
    /// Pause (`true`) or unpause (`false`) the running container.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub paused: Option<bool>,
    /// Always recreate the container.
    #[serde(default, deserialize_with = "de_bool")]
    pub recreate: bool,
    /// Restart the container (with `state: started`).
    #[serde(default, deserialize_with = "de_bool")]
    pub restart: bool,
    /// Seconds to wait for a container the Engine is still removing to vanish (default 300).
    #[serde(default, deserialize_with = "de_opt_f64")]
    pub removal_wait_timeout: Option<f64>,
    /// Seconds `state: healthy` waits for the health check (0 or less: no limit).
    #[serde(default, deserialize_with = "de_opt_f64")]
    #[param(default = "300")]
    pub healthy_wait_timeout: Option<f64>,
    /// With `networks` and no `network_mode`, the first network is the network mode (as the
    /// CLI does).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    #[param(default = "true")]
    pub networks_cli_compatible: bool,
    /// Remove the container when it exits (`--rm`).
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub auto_remove: Option<bool>,
    /// Block IO weight (10-1000).
    #[serde(default, deserialize_with = "de_opt_u64")]
    pub blkio_weight: Option<u64>,
    /// Capabilities to add.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub capabilities: Option<Vec<String>>,
    /// Capabilities to drop.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub cap_drop: Option<Vec<String>>,
    /// Cgroup namespace mode (`private`, `host`).
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(choices("private", "host"))]
    pub cgroupns_mode: Option<String>,
    /// Parent cgroup.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub cgroup_parent: Option<String>,
    /// CPU CFS period (microseconds).
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub cpu_period: Option<i64>,
    /// CPU CFS quota (microseconds).
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub cpu_quota: Option<i64>,
    /// Number of CPUs (a fraction, `1.5`).
    #[serde(default, deserialize_with = "de_opt_f64")]
    pub cpus: Option<f64>,
    /// CPUs the container may use (`0-3`, `0,1`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes the container may use.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub cpuset_mems: Option<String>,
    /// CPU shares (relative weight).
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub cpu_shares: Option<i64>,
    /// Host devices (`/dev/x[:/dev/y[:rwm]]`).
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub devices: Option<Vec<String>>,
    /// Device cgroup rules (`c 1:3 mr`).
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub device_cgroup_rules: Option<Vec<String>>,
    /// Read rate limits: list of `{path, rate}` (rate with units).
    #[serde(default)]
    pub device_read_bps: Option<Vec<Value>>,
    /// Write rate limits: list of `{path, rate}`.
    #[serde(default)]
    pub device_write_bps: Option<Vec<Value>>,
    /// Read IO/s limits: list of `{path, rate}`.
    #[serde(default)]
    pub device_read_iops: Option<Vec<Value>>,
    /// Write IO/s limits: list of `{path, rate}`.
    #[serde(default)]
    pub device_write_iops: Option<Vec<Value>>,
    /// Device requests (GPUs): only `{driver: nvidia?, count, device_ids, capabilities}` that
    /// `--gpus` can express.
    #[serde(default)]
    pub device_requests: Option<Vec<Value>>,
    /// DNS servers.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub dns_servers: Option<Vec<String>>,
    /// DNS options.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub dns_opts: Option<Vec<String>>,
    /// DNS search domains.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub dns_search_domains: Option<Vec<String>>,
    /// Domain name.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub domainname: Option<String>,
    /// Environment variables (values must be strings).
    #[serde(default)]
    pub env: Option<Map<String, Value>>,
    /// File on the target host with `NAME=value` lines (`env` wins over it).
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(kind = "path")]
    pub env_file: Option<String>,
    /// Extra `/etc/hosts` entries: `{hostname: ip}`.
    #[serde(default)]
    pub etc_hosts: Option<Map<String, Value>>,
    /// Ports to expose (`80`, `53/udp`, `8000-8010`).
    #[serde(
        default,
        alias = "exposed",
        alias = "expose",
        deserialize_with = "de_opt_string_list"
    )]
    pub exposed_ports: Option<Vec<String>>,
    /// Extra groups of the container's user.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub groups: Option<Vec<String>>,
    /// Health check: `test`, `interval`, `timeout`, `start_period`, `start_interval`, `retries`,
    /// `test_cli_compatible`.
    #[serde(default)]
    pub healthcheck: Option<Map<String, Value>>,
    /// Container hostname.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub hostname: Option<String>,
    /// Run an init inside the container (`--init`).
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub init: Option<bool>,
    /// Keep stdin open (`-i`).
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub interactive: Option<bool>,
    /// IPC namespace mode.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub ipc_mode: Option<String>,
    /// Kernel memory limit (with units); removed from current engines.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub kernel_memory: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: Option<Map<String, Value>>,
    /// Legacy links (`name[:alias]`).
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub links: Option<Vec<String>>,
    /// Logging driver.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub log_driver: Option<String>,
    /// Logging driver options.
    #[serde(default, alias = "log_opt")]
    pub log_options: Option<Map<String, Value>>,
    /// MAC address.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub mac_address: Option<String>,
    /// Memory limit (`512M`, `1G`, bytes without unit).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub memory: Option<String>,
    /// Memory soft limit.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub memory_reservation: Option<String>,
    /// Memory plus swap limit (`-1` unlimited).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub memory_swap: Option<String>,
    /// Swappiness (0-100).
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub memory_swappiness: Option<i64>,
    /// Mounts: `{target, source, type, read_only, …}` as community.docker's.
    #[serde(default)]
    pub mounts: Option<Vec<Value>>,
    /// Network mode (`bridge`, `host`, `none`, `container:NAME`, a network name).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub network_mode: Option<String>,
    /// Networks: `{name, aliases, ipv4_address, ipv6_address, links, mac_address}`.
    #[serde(default)]
    pub networks: Option<Vec<Value>>,
    /// Disable the OOM killer.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub oom_killer: Option<bool>,
    /// OOM score adjustment (-1000..1000).
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub oom_score_adj: Option<i64>,
    /// PID namespace mode.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub pid_mode: Option<String>,
    /// PIDs limit (`-1` unlimited).
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub pids_limit: Option<i64>,
    /// Platform (`linux/amd64`) used to pull and create.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub platform: Option<String>,
    /// Privileged mode.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub privileged: Option<bool>,
    /// Publish every exposed port on a random host port (`-P`).
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub publish_all_ports: Option<bool>,
    /// Published ports: `8080:80`, `127.0.0.1:8080:80`, `80`, `8080:80/udp`, ranges, `all`.
    #[serde(default, alias = "ports", deserialize_with = "de_opt_string_list")]
    pub published_ports: Option<Vec<String>>,
    /// Read-only root filesystem.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub read_only: Option<bool>,
    /// Restart policy.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(choices("no", "on-failure", "always", "unless-stopped"))]
    pub restart_policy: Option<String>,
    /// Retries of the `on-failure` policy.
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub restart_retries: Option<i64>,
    /// Runtime (`runc`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub runtime: Option<String>,
    /// Security options (`no-new-privileges`, `seccomp=…`).
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub security_opts: Option<Vec<String>>,
    /// Size of `/dev/shm` (with units).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub shm_size: Option<String>,
    /// Signal that stops the container.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub stop_signal: Option<String>,
    /// Seconds to wait for a stop before killing (compared only when `comparisons` asks).
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub stop_timeout: Option<i64>,
    /// Storage driver options.
    #[serde(default)]
    pub storage_opts: Option<Map<String, Value>>,
    /// Kernel parameters.
    #[serde(default)]
    pub sysctls: Option<Map<String, Value>>,
    /// tmpfs mounts (`/path[:options]`).
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub tmpfs: Option<Vec<String>>,
    /// Allocate a pseudo-TTY.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub tty: Option<bool>,
    /// Ulimits (`nofile:1024:2048`).
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub ulimits: Option<Vec<String>>,
    /// User (`name`, `uid[:gid]`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub user: Option<String>,
    /// User namespace mode.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub userns_mode: Option<String>,
    /// UTS namespace mode.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub uts: Option<String>,
    /// Volume driver.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub volume_driver: Option<String>,
    /// Volumes: `/host:/ctr[:mode]`, `name:/ctr[:mode]`, `/ctr` (anonymous).
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub volumes: Option<Vec<String>>,
    /// Containers whose volumes to mount.
    #[serde(default, deserialize_with = "de_opt_string_list")]
    pub volumes_from: Option<Vec<String>>,
    /// Working directory.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub working_dir: Option<String>,
}

fn yes() -> bool {
    true
}

/// Deserializes an optional integer given as a number or a numeric string.
pub fn de_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("expected an integer, got {n}"))),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expected an integer, got '{s}'"))),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected an integer, got {other}"
        ))),
    }
}

/// Deserializes an optional number given as a number or a numeric string.
pub fn de_opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expected a number, got '{s}'"))),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected a number, got {other}"
        ))),
    }
}
