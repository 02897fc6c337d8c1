//! Running playbooks and modules from a Rust program: everything `drover play` does before and
//! around a run, as a library.
//!
//! A [`Session`] owns the settings of a run — `ansible.cfg` ([`AnsibleConfig`]), inventory
//! sources with their `group_vars`/`host_vars`, the `group_vars`/`host_vars` beside each
//! playbook, extra vars, vault passwords (held by the session, not the process), connection
//! and become settings — plus the module registry, a [`Prompter`] that answers questions
//! (`vars_prompt`, `pause`, key passphrases; the default answers none and never reads stdin)
//! and extra transports ([`ConnectionFactory`]).
//!
//! ```no_run
//! # async fn demo(registry: drover_core::module::ModuleRegistry) -> Result<(), drover_core::session::SessionError> {
//! use drover_core::session::Session;
//!
//! let session = Session::builder()
//!     .registry(registry) // e.g. drover_modules::registry()
//!     .inventory(["inventory.ini"])
//!     .collect_results(true)
//!     .build();
//! let result = session.run_playbook("site.yml").await?;
//! for task in &result.tasks {
//!     println!("{} on {}: {:?}", task.task, task.result.host, task.result.status);
//! }
//! std::process::exit(result.exit_code);
//! # }
//! ```
//!
//! See the `examples/` crate of the repository for complete programs.

mod error;
mod host;
mod options;
mod outcome;
mod preflight;
mod prompt;
mod transport;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use error::SessionError;
pub use host::HostTarget;
pub use outcome::{FnSink, PlaybookResult, TaskOutcome};
pub use preflight::{PreflightFailure, PreflightReport};
pub use prompt::{
    current_prompter, scope_prompter, NoPrompter, Prompt, PromptError, PromptKind, Prompter,
    SharedPrompter,
};
pub use transport::{ConnectionFactory, Transports};

use crate::config::AnsibleConfig;
use crate::events::{Event, EventSink};
use crate::executor::{ConnectionPool, Executor, RunOptions};
use crate::inventory::Inventory;
use crate::module::ModuleRegistry;
use crate::playbook::{
    check_playbook_with, check_variables, external_variable_names, load_playbook_with,
    CheckOptions, CheckReport, Keywords, Playbook, PlaybookError,
};
use crate::vars::Vars;
use crate::vault::VaultSecrets;
use outcome::{NullSink, RunSink};

/// Builds a [`Session`]. Every setting has a default: no `ansible.cfg`, no inventory (only the
/// implicit localhost), no modules, no vault passwords, no prompter, events dropped.
#[derive(Default)]
pub struct SessionBuilder {
    config: AnsibleConfig,
    options: Option<RunOptions>,
    inventory: Option<Vec<String>>,
    extra_vars: Vars,
    vault: VaultSecrets,
    registry: ModuleRegistry,
    prompter: Option<SharedPrompter>,
    transports: Transports,
    sink: Option<Arc<dyn EventSink>>,
    strict: Option<bool>,
    collect: bool,
}

impl SessionBuilder {
    /// Uses `config` (e.g. [`AnsibleConfig::load`], which reads `ansible.cfg` as
    /// ansible-playbook finds it): its inventory, roles path and the options
    /// [`RunOptions::from_config`] takes from it.
    pub fn config(mut self, config: AnsibleConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets every run option at once (instead of [`RunOptions::from_config`] of the config).
    /// Extra vars, the prompter and transports given to this builder are added to them.
    pub fn options(mut self, options: RunOptions) -> Self {
        self.options = Some(options);
        self
    }

    /// Inventory sources (files, directories, or `host1,host2,` lists), instead of the
    /// config's. Their `group_vars/` and `host_vars/` are read too.
    pub fn inventory<I, S>(mut self, sources: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.inventory = Some(sources.into_iter().map(Into::into).collect());
        self
    }

    /// Extra vars (highest precedence), merged over any earlier ones.
    pub fn extra_vars(mut self, vars: Vars) -> Self {
        crate::vars::merge_into(&mut self.extra_vars, &vars);
        self
    }

    /// Vault passwords for encrypted files and `!vault` values of this session.
    pub fn vault_secrets(mut self, secrets: VaultSecrets) -> Self {
        self.vault = secrets;
        self
    }

    /// The modules tasks may use; pass `drover_modules::registry()` for drover's own,
    /// with any of yours registered on it.
    pub fn registry(mut self, registry: ModuleRegistry) -> Self {
        self.registry = registry;
        self
    }

    /// Who answers questions (default: [`NoPrompter`]).
    pub fn prompter(mut self, prompter: Arc<dyn Prompter>) -> Self {
        self.prompter = Some(SharedPrompter(prompter));
        self
    }

    /// Connects hosts whose `ansible_connection` is `name` through `factory`.
    pub fn transport(
        mut self,
        name: impl Into<String>,
        factory: Arc<dyn ConnectionFactory>,
    ) -> Self {
        self.transports.insert(name, factory);
        self
    }

    /// Where run events go (progress, task results, warnings, the recap).
    pub fn events(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Calls `f` for every run event.
    pub fn on_event(self, f: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        self.events(Arc::new(FnSink(f)))
    }

    /// Every module argument problem stops a run before it starts (`--strict`); default:
    /// the config's `drover_strict`, else off.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = Some(strict);
        self
    }

    /// Keep every task result in [`PlaybookResult::tasks`].
    pub fn collect_results(mut self, collect: bool) -> Self {
        self.collect = collect;
        self
    }

    /// The session. Nothing is read yet: playbooks and inventory are loaded when used.
    pub fn build(self) -> Session {
        let mut options = self
            .options
            .unwrap_or_else(|| RunOptions::from_config(&self.config));
        crate::vars::merge_into(&mut options.extra_vars, &self.extra_vars);
        if let Some(p) = self.prompter {
            options.prompter = p;
        }
        for name in self.transports.names() {
            if let Some(f) = self.transports.get(name) {
                options.transports.insert(name, f.clone());
            }
        }
        let inventory = self
            .inventory
            .unwrap_or_else(|| self.config.inventory.clone());
        Session {
            strict: self.strict.or(self.config.strict).unwrap_or(false),
            config: self.config,
            options,
            inventory,
            vault: Arc::new(self.vault),
            registry: self.registry,
            sink: self.sink.unwrap_or_else(|| Arc::new(NullSink)),
            collect: self.collect,
        }
    }
}

/// Runs playbooks and modules with one set of settings (see the [module docs](self)).
pub struct Session {
    config: AnsibleConfig,
    options: RunOptions,
    inventory: Vec<String>,
    vault: Arc<VaultSecrets>,
    registry: ModuleRegistry,
    sink: Arc<dyn EventSink>,
    strict: bool,
    collect: bool,
}

impl Session {
    /// A builder with every default.
    pub fn builder() -> SessionBuilder {
        SessionBuilder::default()
    }

    /// The configuration in use.
    pub fn config(&self) -> &AnsibleConfig {
        &self.config
    }

    /// The run options in use.
    pub fn options(&self) -> &RunOptions {
        &self.options
    }

    /// The module registry.
    pub fn registry(&self) -> &ModuleRegistry {
        &self.registry
    }

    /// The inventory sources (given, or the config's).
    pub fn inventory_sources(&self) -> &[String] {
        &self.inventory
    }

    /// Runs `f` with this session's vault passwords current on this thread (for loading with
    /// the lower-level functions of [`crate::playbook`] and [`crate::inventory`]).
    pub fn with_vault<R>(&self, f: impl FnOnce() -> R) -> R {
        crate::vault::with_secrets(&self.vault, f)
    }

    /// Loads a playbook (roles from the config's roles path).
    pub fn load_playbook(&self, path: impl AsRef<Path>) -> Result<Playbook, SessionError> {
        let path = path.as_ref();
        if !path.is_file() {
            return Err(SessionError::PlaybookNotFound(path.to_path_buf()));
        }
        Ok(self.with_vault(|| load_playbook_with(path, &self.config.roles_path))?)
    }

    /// The static checks of a loaded playbook (module arguments, `when`/`loop` shapes, …),
    /// as `drover play` runs them before touching any host.
    pub fn check_playbook(&self, playbook: &Playbook) -> CheckReport {
        let options = CheckOptions {
            strict: self.strict,
            tags: self.options.tags.clone(),
            skip_tags: self.options.skip_tags.clone(),
        };
        // `vars_files` and `include_vars` files read by the checks may be vault-encrypted.
        self.with_vault(|| check_playbook_with(playbook, &self.registry, &options))
    }

    /// Reads the inventory sources with their `group_vars/` and `host_vars/`.
    pub fn load_inventory(&self) -> Result<Inventory, SessionError> {
        Ok(self.with_vault(|| Inventory::load(&self.inventory))?)
    }

    /// Variables `playbook` reads that nothing defines (inventory, extra vars, vars files,
    /// `register`, …): the static check `drover play` runs before connecting.
    pub fn undefined_variables(
        &self,
        playbook: &Playbook,
        inventory: &Inventory,
    ) -> Vec<PlaybookError> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        for s in &self.inventory {
            let p = Path::new(s);
            if p.is_dir() {
                dirs.push(p.to_path_buf());
            } else if let Some(parent) = p.parent().filter(|_| p.is_file()) {
                dirs.push(parent.to_path_buf());
            }
        }
        let mut inventory = inventory.clone();
        if self
            .with_vault(|| inventory.load_vars_dirs(&playbook.dir))
            .is_err()
        {
            return Vec::new();
        }
        dirs.push(playbook.dir.clone());
        let Some(external) = external_variable_names(&inventory, &self.options.extra_vars, &dirs)
        else {
            return Vec::new();
        };
        self.with_vault(|| check_variables(playbook, &self.registry, &external))
    }

    /// Runs a loaded playbook against `inventory`, reporting events to the session's sink.
    /// The `group_vars/` and `host_vars/` beside the playbook are added to `inventory` first
    /// (ranking above earlier ones), so that later playbooks of the same run see them too, as
    /// with several playbooks on one `drover play` command line.
    pub async fn run_loaded(
        &self,
        playbook: &Playbook,
        inventory: &mut Inventory,
    ) -> Result<PlaybookResult, SessionError> {
        self.with_vault(|| inventory.load_vars_dirs(&playbook.dir))?;
        let sink = Arc::new(RunSink::new(self.sink.clone(), self.collect));
        let executor = Executor::new(
            self.registry.clone(),
            inventory.clone(),
            self.options.clone(),
            sink.clone(),
        );
        let summary =
            crate::vault::scope_secrets(self.vault.clone(), executor.run(playbook)).await?;
        Ok(PlaybookResult::new(summary, sink.take()))
    }

    /// Loads, checks and runs a playbook: what `drover play PLAYBOOK` does. Check warnings
    /// go to the event sink; check errors and undefined variables stop it before any host is
    /// touched ([`SessionError::Check`]).
    pub async fn run_playbook(
        &self,
        path: impl AsRef<Path>,
    ) -> Result<PlaybookResult, SessionError> {
        let playbook = self.load_playbook(path)?;
        let report = self.check_playbook(&playbook);
        for w in &report.warnings {
            self.sink.emit(&Event::Warning {
                message: format!("{}: {}", w.location, w.message),
            });
        }
        if !report.errors.is_empty() {
            return Err(SessionError::Check(report.errors));
        }
        let mut inventory = self.load_inventory()?;
        let undefined = self.undefined_variables(&playbook, &inventory);
        if !undefined.is_empty() {
            return Err(SessionError::Check(undefined));
        }
        self.run_loaded(&playbook, &mut inventory).await
    }

    /// Connects to `host` (an inventory host or the implicit localhost) with its variables,
    /// to run modules on it directly.
    pub async fn host(&self, host: &str) -> Result<HostTarget, SessionError> {
        let inventory = self.load_inventory()?;
        if !inventory.has_host(host) && !inventory.is_implicit_localhost(host) {
            return Err(SessionError::UnknownHost(host.to_string()));
        }
        let vars = host_vars(host, &inventory, &self.options);
        let templar = crate::template::Templar::with_options(crate::template::TemplateOptions {
            allow_broken_conditionals: true,
            ..Default::default()
        });
        // The rendered `ansible_*` connection variables (as the executor gives a transport).
        let render_conn_vars = |vars: &Vars| -> Vars {
            self.with_vault(|| {
                vars.iter()
                    .filter(|(k, _)| k.starts_with("ansible_") && !k.starts_with("ansible_facts"))
                    .filter(|(k, _)| !k.starts_with("ansible_become"))
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            templar.render_value(v, vars).unwrap_or(v.clone()),
                        )
                    })
                    .collect()
            })
        };
        let conn_vars = render_conn_vars(&vars);
        // A container whose Docker or LXC host is another inventory host.
        let via =
            crate::executor::via_host(host, &conn_vars, &self.options, |h| inventory.has_host(h))
                .ok()
                .flatten()
                .map(|via| {
                    let v = render_conn_vars(&host_vars(&via, &inventory, &self.options));
                    (via, v)
                });
        let executor = Executor::new(
            self.registry.clone(),
            inventory,
            self.options.clone(),
            self.sink.clone(),
        );
        let settings = self
            .with_vault(|| executor.task_settings(&Keywords::default(), &vars))
            .map_err(SessionError::Options)?;
        let pool = Arc::new(ConnectionPool::default());
        let conn = crate::vault::scope_secrets(
            self.vault.clone(),
            pool.get_via(
                host,
                &conn_vars,
                via.as_ref().map(|(h, v)| (h.as_str(), v)),
                &self.options,
                self.sink.as_ref(),
            ),
        )
        .await?;
        let cwd = std::env::current_dir().unwrap_or_default();
        Ok(HostTarget {
            name: host.to_string(),
            conn: crate::connection::HostConnection::new(conn, settings.become_)
                .with_env(settings.env),
            vars,
            templar,
            context: crate::template::TemplateContext::with_search_paths(vec![cwd]),
            verbosity: self.options.verbosity,
            check_mode: settings.check_mode,
            diff: settings.diff,
            registry: self.registry.clone(),
            pool,
            vault: self.vault.clone(),
        })
    }

    /// Runs the registered module `module` with `args` on `host`, e.g.
    /// `session.run_module("web1", "copy", json!({"dest": "/etc/motd", "content": "hi"}))`.
    pub async fn run_module(
        &self,
        host: &str,
        module: &str,
        args: serde_json::Value,
    ) -> Result<crate::module::ModuleResult, SessionError> {
        let target = self.host(host).await?;
        let result = target.run(module, args).await;
        target.close().await;
        result
    }
}

/// The variables a module sees on `host` outside any play: inventory, extra vars and the magic
/// variables.
fn host_vars(host: &str, inventory: &Inventory, opts: &RunOptions) -> Vars {
    use crate::executor::{task_vars, HostState, PlayVars, VarsInput};
    use crate::vars::Value;
    let state = HostState {
        inventory_vars: inventory.host_vars(host),
        group_names: inventory.group_names(host),
        ..HostState::default()
    };
    let play = PlayVars {
        groups: inventory
            .groups_map()
            .into_iter()
            .map(|(g, hs)| (g, Value::Array(hs.into_iter().map(Value::String).collect())))
            .collect(),
        playbook_dir: std::env::current_dir()
            .unwrap_or_default()
            .display()
            .to_string(),
        ..PlayVars::default()
    };
    let hosts = [host.to_string()];
    let input = VarsInput {
        play: &play,
        task_vars: &Vars::new(),
        extra_vars: &opts.extra_vars,
        play_hosts: &hosts,
        play_batch: &hosts,
        check_mode: opts.check,
        diff_mode: opts.diff,
        verbosity: opts.verbosity,
        hostvars: None,
        role: None,
    };
    task_vars(host, &state, &input)
}
