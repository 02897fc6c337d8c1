//! Deciding what to do: from the container's [`Status`] and the task, the ordered [`Step`]s
//! that reach the task's state. Check mode reports exactly these steps' `changed` without
//! running them, so the prediction and the apply come from the same list.
//!
//! The order follows community.general's: the config is edited first (a running or frozen
//! container is stopped for it and started again when the state wants it running — its
//! restart rule), then `container_command` runs in the running container, then the state is
//! reached, then the archive is written, then the clone is made (its source stopped for the
//! copy and put back in its state after).

use super::params::{LxcContainerParams, LxcState};
use super::query::Status;

/// One action on the LXC host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Create the container (template, or a plain rootfs tarball).
    Create,
    /// Write this text to the container's config file.
    WriteConfig(String),
    /// `lxc-start` (and wait until it runs).
    Start,
    /// `lxc-stop -k` (community.general's `stop()` kills the container).
    Stop,
    /// `lxc-freeze`.
    Freeze,
    /// `lxc-unfreeze`.
    Unfreeze,
    /// Run `container_command` through `lxc-attach`.
    Attach,
    /// Write the archive.
    Archive,
    /// `lxc-copy` to `clone_name`.
    Clone,
    /// `lxc-destroy`.
    Destroy,
}

/// The steps and what they lead to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// The ordered steps; empty when nothing changes.
    pub steps: Vec<Step>,
    /// The run state the container ends in (`running`, `stopped`, `frozen`, `absent`).
    pub final_state: String,
    /// Whether the container's init process is replaced (stop/start) along the way.
    pub restarts: bool,
}

impl Plan {
    /// Whether the plan changes anything.
    pub fn changed(&self) -> bool {
        !self.steps.is_empty()
    }
}

/// Tracks the container's run state while steps are added.
struct Builder {
    steps: Vec<Step>,
    state: String,
    restarts: bool,
}

impl Builder {
    fn push(&mut self, step: Step) {
        match step {
            Step::Start => {
                self.state = "running".into();
                self.restarts = true;
            }
            Step::Stop => {
                self.state = "stopped".into();
                self.restarts = true;
            }
            Step::Freeze => self.state = "frozen".into(),
            Step::Unfreeze => self.state = "running".into(),
            Step::Destroy => self.state = "absent".into(),
            Step::Create => self.state = "stopped".into(),
            _ => {}
        }
        self.steps.push(step);
    }
    fn is(&self, s: &str) -> bool {
        self.state == s
    }
    fn ensure_running(&mut self) {
        if self.is("frozen") {
            self.push(Step::Unfreeze);
        } else if !self.is("running") {
            self.push(Step::Start);
        }
    }
    fn ensure_stopped(&mut self) {
        if self.is("frozen") {
            self.push(Step::Unfreeze);
        }
        if !self.is("stopped") {
            self.push(Step::Stop);
        }
    }
}

/// Plans an existing (or just created, when `created`) container. `new_config` is the config
/// text with `container_config` applied, when it differs from the current one.
pub fn plan(p: &LxcContainerParams, st: &Status, new_config: Option<String>) -> Plan {
    let mut b = Builder {
        steps: Vec::new(),
        state: if st.exists {
            st.state.clone()
        } else {
            "absent".into()
        },
        restarts: false,
    };
    let clone_needed = p.clone_name.is_some() && !st.clone_exists;
    if p.state == LxcState::Absent {
        if !st.exists {
            return Plan {
                steps: Vec::new(),
                final_state: "absent".into(),
                restarts: false,
            };
        }
        if p.archive {
            b.push(Step::Archive);
        }
        if clone_needed {
            b.ensure_stopped();
            b.push(Step::Clone);
        }
        b.ensure_stopped();
        b.push(Step::Destroy);
        return Plan {
            steps: b.steps,
            final_state: "absent".into(),
            restarts: b.restarts,
        };
    }
    if !st.exists {
        b.push(Step::Create);
    }
    if let Some(text) = new_config {
        let was = b.state.clone();
        if was == "running" || was == "frozen" {
            b.ensure_stopped();
        }
        b.push(Step::WriteConfig(text));
    }
    if p.container_command.is_some() {
        b.ensure_running();
        b.push(Step::Attach);
    }
    match p.state {
        LxcState::Started => b.ensure_running(),
        LxcState::Stopped => b.ensure_stopped(),
        LxcState::Frozen => {
            if !b.is("frozen") {
                b.ensure_running();
                b.push(Step::Freeze);
            }
        }
        LxcState::Restarted => {
            // Restarted is a stop and a start on every run, unless this run already started
            // the container afresh.
            let fresh_start = b.steps.last() == Some(&Step::Start);
            if !fresh_start {
                b.ensure_stopped();
                b.push(Step::Start);
            }
        }
        LxcState::Clone | LxcState::Absent => {}
    }
    if p.archive {
        b.push(Step::Archive);
    }
    if clone_needed {
        let back_to = b.state.clone();
        b.ensure_stopped();
        b.push(Step::Clone);
        match back_to.as_str() {
            "running" => b.push(Step::Start),
            "frozen" => {
                b.push(Step::Start);
                b.push(Step::Freeze);
            }
            _ => {}
        }
    }
    Plan {
        final_state: b.state.clone(),
        restarts: b.restarts,
        steps: b.steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drover_core::module::parse_params;
    use serde_json::json;

    fn params(v: serde_json::Value) -> LxcContainerParams {
        parse_params("lxc_container", &v).unwrap()
    }

    fn status(state: &str) -> Status {
        Status {
            exists: state != "absent",
            state: state.into(),
            ..Status::default()
        }
    }

    #[test]
    fn converged_containers_need_nothing() {
        for (state, have) in [
            ("started", "running"),
            ("stopped", "stopped"),
            ("frozen", "frozen"),
            ("absent", "absent"),
        ] {
            let p = params(json!({"name": "a", "state": state}));
            let plan = plan(&p, &status(have), None);
            assert!(!plan.changed(), "{state}: {plan:?}");
        }
    }

    #[test]
    fn config_edit_restarts_a_running_container_but_does_not_start_a_stopped_one() {
        let p = params(json!({"name": "a", "state": "started"}));
        let pl = plan(&p, &status("running"), Some("x = 1\n".into()));
        assert_eq!(
            pl.steps,
            vec![Step::Stop, Step::WriteConfig("x = 1\n".into()), Step::Start]
        );
        let p = params(json!({"name": "a", "state": "stopped"}));
        let pl = plan(&p, &status("stopped"), Some("x = 1\n".into()));
        assert_eq!(pl.steps, vec![Step::WriteConfig("x = 1\n".into())]);
        let p = params(json!({"name": "a", "state": "frozen"}));
        let pl = plan(&p, &status("frozen"), Some("x\n".into()));
        assert_eq!(
            pl.steps,
            vec![
                Step::Unfreeze,
                Step::Stop,
                Step::WriteConfig("x\n".into()),
                Step::Start,
                Step::Freeze
            ]
        );
    }

    #[test]
    fn command_runs_in_a_running_container_before_the_stop() {
        let p = params(json!({"name": "a", "state": "stopped", "container_command": "true"}));
        let pl = plan(&p, &status("stopped"), None);
        assert_eq!(pl.steps, vec![Step::Start, Step::Attach, Step::Stop]);
        assert_eq!(pl.final_state, "stopped");
    }

    #[test]
    fn clone_stops_the_source_and_restores_it() {
        let p = params(json!({"name": "a", "clone_name": "b"}));
        let pl = plan(&p, &status("running"), None);
        assert_eq!(pl.steps, vec![Step::Stop, Step::Clone, Step::Start]);
        let mut st = status("running");
        st.clone_exists = true;
        assert!(!plan(&p, &st, None).changed());
    }

    #[test]
    fn absent_archives_and_destroys() {
        let p =
            params(json!({"name": "a", "state": "absent", "archive": true, "archive_path": "/x"}));
        let pl = plan(&p, &status("running"), None);
        assert_eq!(pl.steps, vec![Step::Archive, Step::Stop, Step::Destroy]);
    }

    #[test]
    fn missing_container_is_created_then_started() {
        let p = params(json!({"name": "a"}));
        let pl = plan(&p, &status("absent"), None);
        assert_eq!(pl.steps, vec![Step::Create, Step::Start]);
        let p = params(json!({"name": "a", "state": "restarted"}));
        assert_eq!(
            plan(&p, &status("absent"), None).steps,
            vec![Step::Create, Step::Start]
        );
        assert_eq!(
            plan(&p, &status("running"), None).steps,
            vec![Step::Stop, Step::Start]
        );
    }
}
