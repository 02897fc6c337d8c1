//! Settings of the `docker` transport from a host's connection variables (community.docker's
//! `docker` connection plugin's variables, plus drover's `ansible_docker_docker_host`,
//! `ansible_docker_via` and `ansible_docker_via_become`).

use std::time::Duration;

use super::connect::var_str;
use super::options::RunOptions;
use crate::connection::docker::DockerOptions;
use crate::connection::ConnectionError;
use crate::vars::{is_truthy, Value, Vars};

/// The variable naming the inventory host whose connection runs the docker CLI for a container
/// (the Docker host reached over SSH); unset = the docker CLI runs on the controller.
pub const DOCKER_VIA_VAR: &str = "ansible_docker_via";

/// When true, the docker CLI runs with `sudo` on the `ansible_docker_via` host.
pub const DOCKER_VIA_BECOME_VAR: &str = "ansible_docker_via_become";

/// True for the names of the docker transport.
pub fn is_docker_transport(name: &str) -> bool {
    matches!(name, "docker" | "community.docker.docker")
}

/// The `ansible_docker_via` host named by `vars`, if any.
pub fn docker_via(vars: &Vars) -> Option<String> {
    var_str(vars, &[DOCKER_VIA_VAR]).filter(|s| !s.trim().is_empty())
}

/// Docker connection settings for `host` from its rendered connection variables. As in
/// community.docker, of two variables for one option the more specific one wins
/// (`ansible_docker_host` over `ansible_host` over the inventory name; `ansible_docker_user` over
/// `ansible_user`).
pub fn docker_options(
    host: &str,
    vars: &Vars,
    opts: &RunOptions,
) -> Result<DockerOptions, ConnectionError> {
    let bad = |reason: String| ConnectionError::Connect {
        host: host.to_string(),
        reason,
    };
    let container =
        var_str(vars, &["ansible_docker_host", "ansible_host"]).unwrap_or_else(|| host.to_string());
    let mut o = DockerOptions::new(host, container);
    o.user = var_str(vars, &["ansible_docker_user", "ansible_user"])
        .or_else(|| opts.remote_user.clone());
    o.docker_host = var_str(vars, &["ansible_docker_docker_host"]);
    o.extra_args = var_str(vars, &["ansible_docker_extra_args"])
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    o.working_dir = var_str(vars, &["ansible_docker_working_dir"]);
    o.privileged = vars.get("ansible_docker_privileged").is_some_and(is_truthy);
    o.timeout = match var_str(vars, &["ansible_docker_timeout", "ansible_timeout"]) {
        Some(t) => Duration::from_secs(t.trim().parse().map_err(|_| {
            bad(format!(
                "ansible_docker_timeout must be a number of seconds, not '{t}'"
            ))
        })?),
        None => opts.connect_timeout,
    };
    match vars.get("ansible_docker_extra_env") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (k, v) in map {
                let Value::String(v) = v else {
                    return Err(bad(format!(
                        "ansible_docker_extra_env: the value of '{k}' is not a string ({v}); \
                         quote it"
                    )));
                };
                o.extra_env.push((k.clone(), v.clone()));
            }
        }
        Some(other) => {
            return Err(bad(format!(
                "ansible_docker_extra_env must be a mapping, not {other}"
            )))
        }
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: serde_json::Value) -> Vars {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn specific_variables_win() {
        let opts = RunOptions::default();
        let o = docker_options(
            "web",
            &vars(json!({
                "ansible_host": "a", "ansible_docker_host": "b",
                "ansible_user": "u1", "ansible_docker_user": "u2",
                "ansible_docker_extra_args": "--log-level  error",
                "ansible_docker_extra_env": {"X": "1"},
                "ansible_docker_privileged": "yes",
                "ansible_docker_timeout": 3,
            })),
            &opts,
        )
        .unwrap();
        assert_eq!(o.container, "b");
        assert_eq!(o.user.as_deref(), Some("u2"));
        assert_eq!(o.extra_args, ["--log-level", "error"]);
        assert_eq!(o.extra_env, [("X".to_string(), "1".to_string())]);
        assert!(o.privileged);
        assert_eq!(o.timeout, Duration::from_secs(3));
        let o = docker_options("web", &Vars::default(), &opts).unwrap();
        assert_eq!((o.container.as_str(), o.user), ("web", None));
    }

    #[test]
    fn non_string_env_values_are_refused() {
        let err = docker_options(
            "web",
            &vars(json!({"ansible_docker_extra_env": {"X": 1}})),
            &RunOptions::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("quote it"), "{err}");
    }
}
