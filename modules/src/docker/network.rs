//! `docker_network` (community.docker): creates, recreates and removes networks and attaches
//! containers to them. An existing network whose options differ from the task's (or `force`) is
//! recreated: its containers are disconnected, the network removed and created again, and the
//! containers reconnected. `connected` lists the containers that must be attached; without
//! `appends` every other attached container is disconnected (an empty `connected` keeps the
//! network's current containers). The result's `network` is the network's inspect data.

use std::collections::BTreeMap;

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::{finish, DockerApi, DockerCli, DockerError, ObjectKind};
use super::network_compare::{container_names, differences};
use super::util_netvol::{
    de_opt_labels, de_opt_str_map, flag_pairs, run_steps, valid_cidr, Differences,
};
use crate::params::{de_bool, de_opt_bool, de_opt_string, de_string, de_string_list};

/// Whether the object should exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum PresentAbsent {
    /// It exists with the task's options.
    #[default]
    Present,
    /// It does not exist.
    Absent,
}

/// A network's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// This engine only.
    Local,
    /// Every engine of the cluster.
    Global,
    /// The swarm.
    Swarm,
}

impl Scope {
    /// The engine's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Global => "global",
            Self::Swarm => "swarm",
        }
    }
}

/// One IPAM address pool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpamPool {
    /// The pool's subnet in CIDR notation.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub subnet: Option<String>,
    /// The range containers' addresses are taken from (CIDR).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub iprange: Option<String>,
    /// The subnet's gateway address.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub gateway: Option<String>,
    /// Auxiliary addresses the driver must not hand out (name → address).
    #[serde(default, deserialize_with = "de_opt_str_map")]
    pub aux_addresses: Option<BTreeMap<String, String>>,
}

/// Parameters of `docker_network`.
#[derive(Debug, Deserialize, ModuleParams)]
pub struct NetworkParams {
    /// The network's name.
    #[serde(alias = "network_name", deserialize_with = "de_string")]
    pub name: String,
    /// Containers (names) that must be attached; missing containers are ignored.
    #[serde(default, alias = "containers", deserialize_with = "de_string_list")]
    pub connected: Vec<String>,
    /// `present` or `absent`.
    #[serde(default)]
    #[param(default = "present")]
    pub state: PresentAbsent,
    /// The network driver.
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(default = "bridge")]
    pub driver: Option<String>,
    /// Driver options (`com.docker.network.bridge.name: br0`); the network must have these.
    #[serde(default, deserialize_with = "de_opt_str_map")]
    pub driver_options: Option<BTreeMap<String, String>>,
    /// Recreate the network even when nothing differs (disconnecting its containers first).
    #[serde(default, deserialize_with = "de_bool")]
    pub force: bool,
    /// Only connect the `connected` containers; leave other attached containers alone.
    #[serde(default, alias = "incremental", deserialize_with = "de_bool")]
    pub appends: bool,
    /// The IPAM driver.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub ipam_driver: Option<String>,
    /// IPAM driver options (compared exactly).
    #[serde(default, deserialize_with = "de_opt_str_map")]
    pub ipam_driver_options: Option<BTreeMap<String, String>>,
    /// Address pools: `subnet`, `iprange`, `gateway`, `aux_addresses`.
    #[serde(default)]
    pub ipam_config: Option<Vec<IpamPool>>,
    /// Whether containers get IPv4 addresses.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub enable_ipv4: Option<bool>,
    /// Whether containers get IPv6 addresses.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub enable_ipv6: Option<bool>,
    /// Restrict external access to the network.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub internal: Option<bool>,
    /// Labels the network must have.
    #[serde(default, deserialize_with = "de_opt_labels")]
    pub labels: Option<BTreeMap<String, String>>,
    /// The network's scope: `local`, `global` or `swarm`.
    #[serde(default)]
    pub scope: Option<Scope>,
    /// Allow containers to attach to a swarm-scoped network by hand.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub attachable: Option<bool>,
    /// Create the swarm routing-mesh network.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub ingress: Option<bool>,
    /// The configuration-only network to copy this network's configuration from.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub config_from: Option<String>,
    /// Create a configuration-only network (its driver is `null`).
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub config_only: Option<bool>,
    /// The engine connection options.
    #[serde(flatten)]
    pub api: DockerApi,
}

/// The `docker_network` module.
pub struct DockerNetwork;

#[async_trait]
impl TypedModule for DockerNetwork {
    const NAME: &'static str = "docker_network";
    type Params = NetworkParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: NetworkParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(run(ctx, p).await)
    }
}

/// One change to the engine.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Disconnect(String),
    Remove,
    Create,
    Connect(String),
}

impl Step {
    fn action(&self, name: &str, driver: &str) -> String {
        match self {
            Step::Disconnect(c) => format!("Disconnected container {c}"),
            Step::Remove => format!("Removed network {name}"),
            Step::Create => format!("Created network {name} with driver {driver}"),
            Step::Connect(c) => format!("Connected container {c}"),
        }
    }
}

fn validate(p: &NetworkParams) -> Result<(), DockerError> {
    if p.name.trim().is_empty() {
        return Err(DockerError::failed("name must not be empty"));
    }
    for (i, pool) in p.ipam_config.iter().flatten().enumerate() {
        let subnet = pool.subnet.as_deref().unwrap_or("");
        if !valid_cidr(subnet) {
            return Err(DockerError::failed(format!(
                "ipam_config[{i}].subnet: \"{subnet}\" is not a valid CIDR"
            )));
        }
    }
    Ok(())
}

/// The changes that bring the network where the task wants it, with the differences found.
fn plan(
    p: &NetworkParams,
    driver: &str,
    existing: Option<&Value>,
    container_exists: &dyn Fn(&str) -> bool,
) -> (Vec<Step>, Differences, Differences) {
    let mut steps = Vec::new();
    let mut tracker = Differences::default();
    let attached = existing.map(container_names).unwrap_or_default();
    if p.state == PresentAbsent::Absent {
        tracker.add("exists", json!(false), json!(existing.is_some()));
        if existing.is_some() {
            steps.extend(attached.iter().map(|c| Step::Disconnect(c.clone())));
            steps.push(Step::Remove);
        }
        return (steps, tracker, Differences::default());
    }
    let diffs = existing
        .map(|net| differences(p, driver, net))
        .unwrap_or_default();
    tracker.add("exists", json!(true), json!(existing.is_some()));
    let wanted = if p.connected.is_empty() {
        attached.clone()
    } else {
        p.connected.clone()
    };
    let mut now_attached = attached.clone();
    if existing.is_some() && (p.force || !diffs.is_empty()) {
        steps.extend(attached.iter().map(|c| Step::Disconnect(c.clone())));
        for c in &attached {
            tracker.add(format!("connected.{c}"), json!(false), json!(true));
        }
        steps.push(Step::Remove);
        now_attached.clear();
    }
    if existing.is_none() || steps.contains(&Step::Remove) {
        steps.push(Step::Create);
    }
    for c in &wanted {
        let known = attached.contains(c) || container_exists(c);
        if !now_attached.contains(c) && known {
            steps.push(Step::Connect(c.clone()));
            tracker.add(format!("connected.{c}"), json!(true), json!(false));
        }
    }
    if !p.appends {
        for c in now_attached.iter().filter(|c| !wanted.contains(c)) {
            steps.push(Step::Disconnect(c.clone()));
            tracker.add(format!("connected.{c}"), json!(false), json!(true));
        }
    }
    tracker.merge(&diffs);
    (steps, tracker, diffs)
}

/// `docker network create` arguments for the task.
fn create_args(p: &NetworkParams, driver: &str) -> Vec<String> {
    let mut a: Vec<String> = vec!["network".into(), "create".into(), "--driver".into()];
    a.push(driver.into());
    if let Some(opts) = &p.driver_options {
        a.extend(flag_pairs("--opt", opts));
    }
    if let Some(d) = &p.ipam_driver {
        a.extend(["--ipam-driver".into(), d.clone()]);
    }
    if let Some(opts) = &p.ipam_driver_options {
        a.extend(flag_pairs("--ipam-opt", opts));
    }
    for pool in p.ipam_config.iter().flatten() {
        for (flag, value) in [
            ("--subnet", &pool.subnet),
            ("--ip-range", &pool.iprange),
            ("--gateway", &pool.gateway),
        ] {
            if let Some(v) = value {
                a.extend([flag.into(), v.clone()]);
            }
        }
        if let Some(aux) = &pool.aux_addresses {
            a.extend(flag_pairs("--aux-address", aux));
        }
    }
    if p.config_only == Some(true) {
        a.push("--config-only".into());
    }
    if let Some(from) = &p.config_from {
        a.extend(["--config-from".into(), from.clone()]);
    }
    for (flag, value) in [
        ("--ipv4", p.enable_ipv4),
        ("--ipv6", p.enable_ipv6),
        ("--attachable", p.attachable),
        ("--ingress", p.ingress),
    ] {
        if let Some(v) = value {
            a.push(format!("{flag}={v}"));
        }
    }
    if p.internal == Some(true) {
        a.push("--internal".into());
    }
    if let Some(scope) = p.scope {
        a.extend(["--scope".into(), scope.as_str().into()]);
    }
    if let Some(labels) = &p.labels {
        a.extend(flag_pairs("--label", labels));
    }
    a.extend(["--".into(), p.name.clone()]);
    a
}

async fn run(ctx: &ModuleContext<'_>, p: NetworkParams) -> Result<ModuleResult, DockerError> {
    validate(&p)?;
    let cli = DockerCli::new(&p.api)?;
    let driver = if p.config_only == Some(true) {
        "null".to_string()
    } else {
        p.driver.clone().unwrap_or_else(|| "bridge".into())
    };
    let mut objects = vec![(ObjectKind::Network, p.name.as_str())];
    if p.state == PresentAbsent::Present {
        objects.extend(
            p.connected
                .iter()
                .map(|c| (ObjectKind::Container, c.as_str())),
        );
    }
    let found = cli.inspect_many(ctx.conn, &objects).await?;
    let existing = found.first().cloned().flatten();
    let exists = |c: &str| {
        p.connected
            .iter()
            .position(|x| x == c)
            .and_then(|i| found.get(i + 1))
            .is_some_and(Option::is_some)
    };
    let (steps, tracker, _) = plan(&p, &driver, existing.as_ref(), &exists);
    let changed = !steps.is_empty();
    if !ctx.check_mode {
        let calls: Vec<Vec<String>> = steps
            .iter()
            .map(|step| match step {
                Step::Disconnect(c) => ["network", "disconnect", "--force", &p.name, c]
                    .map(String::from)
                    .to_vec(),
                Step::Remove => ["network", "rm", "--", &p.name].map(String::from).to_vec(),
                Step::Create => create_args(&p, &driver),
                Step::Connect(c) => ["network", "connect", &p.name, c]
                    .map(String::from)
                    .to_vec(),
            })
            .collect();
        run_steps(&cli, ctx.conn, &calls).await?;
    }
    let mut result = ModuleResult::changed(changed);
    let actions: Vec<Value> = steps
        .iter()
        .map(|s| Value::from(s.action(&p.name, &driver)))
        .collect();
    if ctx.check_mode || p.api.debug || p.state == PresentAbsent::Absent {
        result = result.with("actions", actions);
    }
    if p.state == PresentAbsent::Present {
        let network = if changed && !ctx.check_mode {
            cli.inspect(ctx.conn, ObjectKind::Network, &p.name).await?
        } else {
            existing
        };
        result = result.with("network", network.unwrap_or(Value::Null));
    }
    if ctx.diff && changed {
        result = result.with_diff(tracker.diff());
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> NetworkParams {
        serde_json::from_value(v).unwrap()
    }

    fn net(containers: &[&str]) -> Value {
        let cs: serde_json::Map<String, Value> = containers
            .iter()
            .map(|c| (format!("id-{c}"), json!({"Name": c})))
            .collect();
        json!({"Name": "n", "Driver": "bridge", "Containers": cs, "IPAM": {"Config": []}})
    }

    #[test]
    fn connected_without_appends_disconnects_the_others() {
        let p = params(json!({"name": "n", "connected": ["a"]}));
        let (steps, _, _) = plan(&p, "bridge", Some(&net(&["b"])), &|_| true);
        assert_eq!(
            steps,
            vec![Step::Connect("a".into()), Step::Disconnect("b".into())]
        );
        let p = params(json!({"name": "n", "connected": ["a"], "appends": true}));
        let (steps, _, _) = plan(&p, "bridge", Some(&net(&["b"])), &|_| true);
        assert_eq!(steps, vec![Step::Connect("a".into())]);
        let p = params(json!({"name": "n"}));
        let (steps, _, _) = plan(&p, "bridge", Some(&net(&["b"])), &|_| true);
        assert!(steps.is_empty());
    }

    #[test]
    fn a_different_network_is_recreated_with_its_containers() {
        let p = params(json!({"name": "n", "driver_options": {"x": "1"}}));
        let (steps, _, diffs) = plan(&p, "bridge", Some(&net(&["b"])), &|_| true);
        assert!(!diffs.is_empty());
        assert_eq!(
            steps,
            vec![
                Step::Disconnect("b".into()),
                Step::Remove,
                Step::Create,
                Step::Connect("b".into())
            ]
        );
    }

    #[test]
    fn create_arguments_follow_the_options() {
        let p = params(json!({
            "name": "n", "internal": true, "labels": {"a": "b"},
            "ipam_config": [{"subnet": "10.9.0.0/24", "gateway": "10.9.0.1"}],
        }));
        assert_eq!(
            create_args(&p, "bridge").join(" "),
            "network create --driver bridge --subnet 10.9.0.0/24 --gateway 10.9.0.1 \
             --internal --label a=b -- n"
        );
        assert!(validate(&params(
            json!({"name": "n", "ipam_config": [{"gateway": "1.2.3.4"}]})
        ))
        .is_err());
    }
}
