//! Runs scenarios: create hosts, prepare, converge, converge again (nothing may change),
//! verify, destroy — the hosts are destroyed on failure and on Ctrl-C/SIGTERM too.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use drover_core::config::AnsibleConfig;
use drover_core::module::ModuleRegistry;
use drover_core::vars::Vars;
use drover_core::vault::VaultSecrets;
use futures::StreamExt;
use rand::Rng;

use crate::driver::{DockerSettings, Driver, DriverKind, Host};
use crate::error::DriverError;
use crate::lxc::CONTAINER_PREFIX;
use crate::play::{run_playbook, PlayContext, PlayOutcome};
use crate::process::mark_owner;
use crate::report::{Failure, HostReport, Phase, PhaseReport, RunReport, ScenarioReport, Status};
use crate::scenario::{Scenario, Step};
use crate::steps::{inventory_text, playbook_for};

/// How to run.
#[derive(Clone)]
pub struct RunnerOptions {
    /// The testbed directory (base, leases, apt pool, run directories).
    pub dir: PathBuf,
    /// Leave the hosts running.
    pub keep: bool,
    /// Scenarios run side by side (at least 1).
    pub parallel: usize,
    /// Settings the playbooks run with (`ansible.cfg`).
    pub config: AnsibleConfig,
    /// Extra variables for every scenario (over the scenario's own `vars`).
    pub extra_vars: Vars,
    /// Vault passwords for encrypted files and values in the playbooks.
    pub vault: VaultSecrets,
    /// The driver of every scenario (`--driver`); unset: each scenario's `driver:`, else LXC.
    pub driver: Option<DriverKind>,
    /// Settings of the Docker driver.
    pub docker: DockerSettings,
}

impl RunnerOptions {
    /// The driver `scenario` runs with.
    pub fn driver_of(&self, scenario: &Scenario) -> DriverKind {
        self.driver.or(scenario.driver).unwrap_or(DriverKind::Lxc)
    }
}

/// Told about progress as it happens (the CLI prints it; the default does nothing).
pub trait Progress: Send + Sync {
    /// A phase of `scenario` started.
    fn phase_started(&self, _scenario: &str, _phase: Phase) {}
    /// A phase of `scenario` ended.
    fn phase_finished(&self, _scenario: &str, _report: &PhaseReport) {}
}

/// A [`Progress`] that ignores everything.
pub struct Quiet;
impl Progress for Quiet {}

/// Containers created and not yet destroyed, for the clean-up after an interrupt.
type Live = Arc<Mutex<Vec<(DriverKind, String)>>>;

/// The drivers a run prepared.
struct Drivers(Vec<Box<dyn Driver>>);

impl Drivers {
    fn get(&self, kind: DriverKind) -> Option<&dyn Driver> {
        self.0.iter().find(|d| d.kind() == kind).map(|d| d.as_ref())
    }
}

/// Runs `scenarios` with drover's modules in `registry`. Fails only when the testbed itself
/// cannot be prepared (not root, tools missing, base build failed); scenario failures are in
/// the report.
pub async fn run(
    scenarios: &[Scenario],
    registry: &ModuleRegistry,
    options: &RunnerOptions,
    progress: &dyn Progress,
) -> Result<RunReport, DriverError> {
    let started = Instant::now();
    let interrupted = interrupt();
    let mut drivers = Drivers(Vec::new());
    for kind in [DriverKind::Lxc, DriverKind::Docker] {
        let used = scenarios
            .iter()
            .any(|s| s.skip.is_none() && options.driver_of(s) == kind);
        if used {
            drivers
                .0
                .push(crate::driver::prepare(kind, &options.dir, &options.docker).await?);
        }
    }
    let live: Live = Arc::new(Mutex::new(Vec::new()));
    let reports: Arc<Mutex<Vec<ScenarioReport>>> = Arc::new(Mutex::new(
        scenarios
            .iter()
            .map(|s| {
                let kind = options.driver_of(s);
                let lxc_path = drivers
                    .get(kind)
                    .and_then(|d| d.lxc_path())
                    .map(Path::to_path_buf);
                empty_report(s, kind, lxc_path)
            })
            .collect(),
    ));
    let work = futures::stream::iter(scenarios.iter().enumerate())
        .map(|(i, s)| {
            let runner = ScenarioRun {
                drivers: &drivers,
                scenario: s,
                registry,
                options,
                progress,
                live: live.clone(),
                slot: (reports.clone(), i),
            };
            runner.run()
        })
        .buffer_unordered(options.parallel.max(1))
        .collect::<Vec<()>>();
    let interrupted = tokio::select! {
        _ = work => false,
        _ = interrupted => true,
    };
    if interrupted && !options.keep {
        let names: Vec<(DriverKind, String)> = std::mem::take(&mut *lock(&live));
        futures::future::join_all(
            names
                .iter()
                .filter_map(|(kind, name)| drivers.get(*kind).map(|d| d.destroy_container(name))),
        )
        .await;
        futures::future::join_all(drivers.0.iter().map(|d| d.sweep())).await;
        for d in &drivers.0 {
            let mine: Vec<String> = names
                .iter()
                .filter(|(k, _)| *k == d.kind())
                .map(|(_, n)| n.clone())
                .collect();
            d.release_all(&mine);
        }
    }
    let mut scenarios = std::mem::take(&mut *lock(&reports));
    for s in scenarios
        .iter_mut()
        .filter(|s| s.status == Status::Interrupted)
    {
        s.duration = started.elapsed();
    }
    Ok(RunReport {
        scenarios,
        interrupted,
        duration: started.elapsed(),
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Installs the SIGINT and SIGTERM handlers at once (so that a signal arriving while the hosts
/// are being made is not the default "terminate now") and resolves on either.
fn interrupt() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt()).ok();
    let mut term = signal(SignalKind::terminate()).ok();
    async move {
        let int = async {
            match int.as_mut() {
                Some(s) => s.recv().await,
                None => futures::future::pending().await,
            }
        };
        let term = async {
            match term.as_mut() {
                Some(s) => s.recv().await,
                None => futures::future::pending().await,
            }
        };
        tokio::select! {
            _ = int => {}
            _ = term => {}
        }
    }
}

fn empty_report(s: &Scenario, driver: DriverKind, lxc_path: Option<PathBuf>) -> ScenarioReport {
    ScenarioReport {
        name: s.name.clone(),
        source: s.source.clone(),
        status: Status::Interrupted,
        skip_reason: None,
        duration: Duration::ZERO,
        phases: Vec::new(),
        hosts: Vec::new(),
        driver,
        lxc_path,
        work_dir: None,
        kept: false,
    }
}

/// The container-name part made of a scenario name: lowercase letters, digits and '-'.
fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(24)
        .collect();
    s.trim_matches('-').to_string()
}

struct ScenarioRun<'a> {
    drivers: &'a Drivers,
    scenario: &'a Scenario,
    registry: &'a ModuleRegistry,
    options: &'a RunnerOptions,
    progress: &'a dyn Progress,
    live: Live,
    slot: (Arc<Mutex<Vec<ScenarioReport>>>, usize),
}

impl ScenarioRun<'_> {
    /// Updates this scenario's report (kept current, so an interrupt reports what ran).
    fn update(&self, f: impl FnOnce(&mut ScenarioReport)) {
        let mut reports = lock(&self.slot.0);
        if let Some(r) = reports.get_mut(self.slot.1) {
            f(r);
        }
    }

    fn start(&self, phase: Phase) -> Instant {
        self.progress.phase_started(&self.scenario.name, phase);
        Instant::now()
    }

    fn finish(
        &self,
        phase: Phase,
        started: Instant,
        outcome: PlayOutcome,
        log: Option<PathBuf>,
    ) -> Status {
        let status = if outcome.ok() {
            Status::Ok
        } else {
            Status::Failed
        };
        self.record(PhaseReport {
            phase,
            status,
            duration: started.elapsed(),
            changed: outcome.changed,
            failures: outcome.failures,
            log,
        });
        status
    }

    fn record(&self, report: PhaseReport) {
        self.progress.phase_finished(&self.scenario.name, &report);
        self.update(|r| r.phases.push(report));
    }

    async fn run(self) {
        let started = Instant::now();
        let s = self.scenario;
        if let Some(reason) = &s.skip {
            self.update(|r| {
                r.status = Status::Skipped;
                r.skip_reason = Some(reason.clone());
            });
            return;
        }
        let kind = self.options.driver_of(s);
        let Some(driver) = self.drivers.get(kind) else {
            // Not reached: `run` prepares the driver of every scenario that is not skipped.
            self.update(|r| r.status = Status::Failed);
            return;
        };
        let tag: String = {
            let mut rng = rand::rng();
            (0..6)
                .map(|_| {
                    char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.random_range(0..36)])
                })
                .collect()
        };
        let base = format!("{CONTAINER_PREFIX}{}", slug(&s.name));
        let work = self
            .options
            .dir
            .join("runs")
            .join(format!("{}-{tag}", slug(&s.name)));
        let created = std::fs::create_dir_all(&work);
        mark_owner(&work);
        // Create.
        let t = self.start(Phase::Create);
        let names: Vec<String> = (1..=s.hosts.len())
            .map(|n| format!("{base}-{n}-{tag}"))
            .collect();
        lock(&self.live).extend(names.iter().map(|n| (kind, n.clone())));
        let results = futures::future::join_all(
            s.hosts
                .iter()
                .zip(&names)
                .map(|(spec, name)| driver.create(name, &spec.name)),
        )
        .await;
        let mut hosts: Vec<Host> = Vec::new();
        let mut failures: Vec<Failure> = Vec::new();
        if let Err(e) = &created {
            failures.push(Failure {
                task: None,
                host: None,
                message: format!("{}: {e}", work.display()),
            });
        }
        for (spec, r) in s.hosts.iter().zip(results) {
            match r {
                Ok(h) => hosts.push(h),
                Err(e) => failures.push(Failure {
                    task: None,
                    host: Some(spec.name.clone()),
                    message: e.to_string(),
                }),
            }
        }
        let inventory = work.join("inventory.ini");
        if failures.is_empty() {
            let text = inventory_text(&s.hosts, &hosts, driver);
            if let Err(e) = std::fs::write(&inventory, text) {
                failures.push(Failure {
                    task: None,
                    host: None,
                    message: format!("{}: {e}", inventory.display()),
                });
            }
        }
        let host_reports: Vec<HostReport> = hosts
            .iter()
            .map(|h| HostReport {
                name: h.hostname.clone(),
                container: h.container.clone(),
                address: h.address.clone(),
                shell: driver.shell_command(h),
            })
            .collect();
        self.update(|r| {
            r.hosts = host_reports;
            r.work_dir = Some(work.clone());
        });
        let create_ok = failures.is_empty();
        self.record(PhaseReport {
            phase: Phase::Create,
            status: if create_ok {
                Status::Ok
            } else {
                Status::Failed
            },
            duration: t.elapsed(),
            changed: Vec::new(),
            failures,
            log: None,
        });
        let mut ok = create_ok;
        if create_ok {
            ok = self.play_phases(&work, &inventory).await;
            for h in &hosts {
                let _ = driver.harvest(h);
            }
        }
        // Destroy (or keep).
        let t = self.start(Phase::Destroy);
        let keep = self.options.keep;
        if !keep {
            futures::future::join_all(hosts.iter().map(|h| driver.destroy(h))).await;
            // Hosts that failed to start were destroyed by `create`.
            lock(&self.live).retain(|(_, n)| !names.contains(n));
        }
        self.record(PhaseReport {
            phase: Phase::Destroy,
            status: if keep { Status::Skipped } else { Status::Ok },
            duration: t.elapsed(),
            changed: Vec::new(),
            failures: Vec::new(),
            log: None,
        });
        let keep_work = keep || !ok;
        if !keep_work {
            let _ = std::fs::remove_dir_all(&work);
        }
        self.update(|r| {
            r.status = if ok { Status::Ok } else { Status::Failed };
            r.duration = started.elapsed();
            r.kept = keep;
            if !keep_work {
                r.work_dir = None;
                for p in &mut r.phases {
                    p.log = None;
                }
            }
        });
    }

    /// Prepare, converge, idempotence, verify. True when all passed.
    async fn play_phases(&self, work: &Path, inventory: &Path) -> bool {
        let s = self.scenario;
        let mut vars = s.vars.clone();
        drover_core::vars::merge_into(&mut vars, &self.options.extra_vars);
        let mut ctx = PlayContext {
            registry: self.registry.clone(),
            config: self.options.config.clone(),
            inventory: inventory.to_path_buf(),
            extra_vars: vars,
            vault: self.options.vault.clone(),
        };
        if let Some(prepare) = &s.prepare {
            if self.step(Phase::Prepare, prepare, work, &mut ctx).await != Status::Ok {
                return false;
            }
        }
        if self
            .step(Phase::Converge, &s.converge, work, &mut ctx)
            .await
            != Status::Ok
        {
            return false;
        }
        let idempotent = self
            .step(Phase::Idempotence, &s.converge, work, &mut ctx)
            .await;
        let verified = match &s.verify {
            Some(v) => self.step(Phase::Verify, v, work, &mut ctx).await,
            None => Status::Ok,
        };
        idempotent == Status::Ok && verified == Status::Ok
    }

    /// Runs one playbook phase. On the idempotence run a changed task is a failure.
    async fn step(&self, phase: Phase, step: &Step, work: &Path, ctx: &mut PlayContext) -> Status {
        let t = self.start(phase);
        let file = if phase == Phase::Idempotence {
            "converge"
        } else {
            phase.name()
        };
        let (playbook, roles_dir) = match playbook_for(step, work, file) {
            Ok(p) => p,
            Err(e) => {
                let outcome = PlayOutcome {
                    changed: Vec::new(),
                    failures: vec![Failure {
                        task: None,
                        host: None,
                        message: format!("{}: {e}", work.display()),
                    }],
                };
                return self.finish(phase, t, outcome, None);
            }
        };
        if let Some(dir) = roles_dir {
            if !ctx.config.roles_path.contains(&dir) {
                ctx.config.roles_path.insert(0, dir);
            }
        }
        let log = work.join(format!("{}.log", phase.name()));
        let mut outcome = run_playbook(ctx, &playbook, &log).await;
        if phase == Phase::Idempotence && outcome.ok() && !outcome.changed.is_empty() {
            let names: Vec<String> = outcome
                .changed
                .iter()
                .map(|c| format!("'{}' on {}", c.task, c.host))
                .collect();
            outcome.failures.push(Failure {
                task: None,
                host: None,
                message: format!(
                    "not idempotent: changed on the second run: {}",
                    names.join(", ")
                ),
            });
        }
        self.finish(phase, t, outcome, Some(log))
    }
}
