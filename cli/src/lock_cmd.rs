//! Deploy-lock options of `drover play`, and `drover lock status|acquire|release` (see
//! `docs/LOCKING.md`).

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use drover_core::config::AnsibleConfig;
use drover_core::executor::{LockTargets, RunOptions};
use drover_core::lock::{
    controller_name, now_secs, parse_duration, process_alive, valid_lock_dir, valid_lock_name,
    LockConfig, LockError, LockInfo, LockKind, LockSet, LockSettings, LockTarget, NamedLock,
    DEFAULT_HELD_TTL, DEFAULT_LOCK_DIR, DEFAULT_RUN_TTL, HOST_LOCK,
};

use crate::{fail, EXIT_BAD_OPTIONS, EXIT_ERROR};

/// Exit status when a deploy lock is held by someone else.
pub(crate) const EXIT_LOCKED: u8 = 3;
/// Exit status when a host could not be reached.
const EXIT_UNREACHABLE: u8 = 4;

/// Deploy-lock options (`drover play` and `drover lock`); each also comes from `DROVER_LOCK_*`
/// and the `[drover]` section of ansible.cfg.
#[derive(Debug, Args, Default)]
pub struct LockArgs {
    /// Take no deploy locks (also DROVER_NO_LOCK=1, or `lock = false` under `[drover]`).
    #[arg(long = "no-lock")]
    pub no_lock: bool,
    /// Holder name written in the locks (default: user@controller-hostname).
    #[arg(long = "lock-owner", value_name = "NAME")]
    pub owner: Option<String>,
    /// Wait this long (e.g. 90s, 5m, 1h) for held locks to be released before refusing.
    #[arg(long = "lock-wait", value_name = "DURATION")]
    pub wait: Option<String>,
    /// Directory of the locks on the targets (default /var/lib/drover/locks).
    #[arg(long = "lock-dir", value_name = "DIR")]
    pub dir: Option<String>,
    /// A lock older than this counts as stale (default 6h for runs, 12h for held tokens).
    #[arg(long = "lock-ttl", value_name = "DURATION")]
    pub ttl: Option<String>,
    /// Also take this named lock (e.g. `deploy`), kept on --lock-host: one deployer for all
    /// servers.
    #[arg(long = "lock-name", value_name = "NAME", requires = "host")]
    pub name: Option<String>,
    /// The inventory host that keeps the named lock.
    #[arg(long = "lock-host", value_name = "HOST")]
    pub host: Option<String>,
}

impl LockArgs {
    /// The lock settings from these options over `cfg`; `None` when locking is off.
    pub fn settings(
        &self,
        cfg: &LockConfig,
        default_ttl: std::time::Duration,
    ) -> Result<Option<LockSettings>, String> {
        if self.no_lock || cfg.enabled == Some(false) {
            return Ok(None);
        }
        let duration = |flag: &str, v: &Option<String>, c: &Option<String>| {
            v.as_ref()
                .or(c.as_ref())
                .map(|d| parse_duration(d).map_err(|e| format!("{flag}: {e}")))
                .transpose()
        };
        let dir = self
            .dir
            .clone()
            .or_else(|| cfg.dir.clone())
            .unwrap_or_else(|| DEFAULT_LOCK_DIR.into());
        valid_lock_dir(&dir).map_err(|e| format!("--lock-dir: {e}"))?;
        let owner = self
            .owner
            .clone()
            .or_else(|| cfg.owner.clone())
            .unwrap_or_else(drover_core::lock::default_owner);
        if owner.trim().is_empty() {
            return Err("--lock-owner: the holder name is empty".into());
        }
        let named = match (
            self.name.clone().or_else(|| cfg.name.clone()),
            self.host.clone().or_else(|| cfg.host.clone()),
        ) {
            (Some(name), Some(host)) => {
                valid_lock_name(&name).map_err(|e| format!("--lock-name: {e}"))?;
                Some(NamedLock { name, host })
            }
            (Some(_), None) => {
                return Err("--lock-name needs --lock-host (the host that keeps the lock)".into())
            }
            (None, _) => None,
        };
        Ok(Some(LockSettings {
            dir,
            owner,
            wait: duration("--lock-wait", &self.wait, &cfg.wait)?,
            ttl: duration("--lock-ttl", &self.ttl, &cfg.ttl)?.unwrap_or(default_ttl),
            named,
        }))
    }
}

/// The run lock settings of `drover play`.
pub fn play_settings(args: &LockArgs, cfg: &AnsibleConfig) -> Result<Option<LockSettings>, String> {
    args.settings(&cfg.lock, DEFAULT_RUN_TTL)
}

/// `drover lock` arguments.
#[derive(Debug, Args)]
pub struct LockCommand {
    /// What to do.
    #[command(subcommand)]
    pub action: LockAction,
}

/// `drover lock` actions.
#[derive(Debug, Subcommand)]
pub enum LockAction {
    /// Show who holds the locks of the hosts matching PATTERN (and the named lock).
    Status(LockCmdArgs),
    /// Take the locks as a token held across runs: your runs proceed, others are refused.
    Acquire(LockCmdArgs),
    /// Release your held locks; with --force, break anyone's (stale ones included).
    Release(LockCmdArgs),
}

/// Arguments shared by the `drover lock` actions.
#[derive(Debug, Args)]
pub struct LockCmdArgs {
    /// Hosts whose per-host locks to act on (an inventory pattern such as `web*:&prod`).
    pub pattern: Option<String>,
    /// Inventory file, directory or comma-separated host list (repeatable).
    #[arg(short = 'i', long = "inventory", value_name = "INVENTORY")]
    pub inventory: Vec<String>,
    /// acquire: break stale locks first; release: break locks whoever holds them.
    #[arg(long)]
    pub force: bool,
    /// Connect as this user.
    #[arg(short = 'u', long = "user", value_name = "REMOTE_USER")]
    pub user: Option<String>,
    /// Private key file for SSH.
    #[arg(long = "private-key", value_name = "PRIVATE_KEY_FILE")]
    pub private_key: Option<std::path::PathBuf>,
    /// Use become (sudo) for the lock directory.
    #[arg(short = 'b', long = "become")]
    pub become_: bool,
    /// Extra arguments for every ssh connection.
    #[arg(
        long = "ssh-common-args",
        value_name = "SSH_COMMON_ARGS",
        allow_hyphen_values = true
    )]
    pub ssh_common_args: Option<String>,
    /// Connect timeout in seconds.
    #[arg(short = 'T', long = "timeout", value_name = "TIMEOUT")]
    pub timeout: Option<u64>,
    /// Lock options.
    #[command(flatten)]
    pub lock: LockArgs,
}

/// Runs `drover lock ...`.
pub fn run(command: &LockCommand) -> ExitCode {
    let (action, args) = match &command.action {
        LockAction::Status(a) => ("status", a),
        LockAction::Acquire(a) => ("acquire", a),
        LockAction::Release(a) => ("release", a),
    };
    if args.lock.no_lock {
        return fail("--no-lock makes no sense here", None, EXIT_BAD_OPTIONS);
    }
    let mut cfg = AnsibleConfig::load();
    // `DROVER_NO_LOCK` / `lock = false` turn locking off for runs, not for `drover lock`.
    cfg.lock.enabled = None;
    let ttl = if action == "acquire" {
        DEFAULT_HELD_TTL
    } else {
        DEFAULT_RUN_TTL
    };
    let settings = match args.lock.settings(&cfg.lock, ttl) {
        Ok(Some(s)) => s,
        Ok(None) => return fail("no lock settings", None, EXIT_BAD_OPTIONS),
        Err(e) => return fail(e, None, EXIT_BAD_OPTIONS),
    };
    if args.pattern.is_none() && settings.named.is_none() {
        return fail(
            "say which locks: a host PATTERN, or --lock-name NAME --lock-host HOST",
            None,
            EXIT_BAD_OPTIONS,
        );
    }
    let sources = if args.inventory.is_empty() {
        cfg.inventory.clone()
    } else {
        args.inventory.clone()
    };
    let inventory = match drover_core::inventory::Inventory::load(&sources) {
        Ok(i) => i,
        Err(e) => return fail(e.to_string(), Some("check the inventory (-i)"), EXIT_ERROR),
    };
    let hosts = match &args.pattern {
        Some(p) => match inventory.select_limited(p, None) {
            Ok(h) => h,
            Err(e) => return fail(e.to_string(), None, EXIT_ERROR),
        },
        None => Vec::new(),
    };
    let base = RunOptions::from_config(&cfg);
    let opts = RunOptions {
        become_: args.become_ || base.become_,
        remote_user: args.user.clone().or(base.remote_user.clone()),
        private_key: args.private_key.clone().or(base.private_key.clone()),
        ssh_common_args: args
            .ssh_common_args
            .clone()
            .or(base.ssh_common_args.clone()),
        connect_timeout: args
            .timeout
            .map(std::time::Duration::from_secs)
            .unwrap_or(base.connect_timeout),
        ..base
    };
    let runtime = match crate::async_runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let mut order: Vec<(String, String)> = Vec::new();
        if let Some(n) = &settings.named {
            order.push((n.host.clone(), n.name.clone()));
        }
        let per_host = LockTargets::connect(inventory.clone(), opts.clone(), &hosts, false).await;
        let named = match &settings.named {
            Some(n) => Some(
                LockTargets::connect(inventory, opts, std::slice::from_ref(&n.host), true).await,
            ),
            None => None,
        };
        let mut all: Vec<(String, String, Result<Arc<LockTarget>, String>)> = Vec::new();
        if let (Some(n), Some(t)) = (&settings.named, &named) {
            for (h, r) in &t.targets {
                all.push((h.clone(), n.name.clone(), r.clone()));
            }
        }
        for (h, r) in &per_host.targets {
            all.push((h.clone(), HOST_LOCK.to_string(), r.clone()));
        }
        let code = match action {
            "status" => status(&all, &settings).await,
            "acquire" => acquire(&all, &settings, args.force).await,
            _ => release(&all, &settings, args.force).await,
        };
        per_host.close().await;
        if let Some(t) = named {
            t.close().await;
        }
        ExitCode::from(code)
    })
}

fn label(host: &str, name: &str) -> String {
    if name == HOST_LOCK {
        host.to_string()
    } else {
        format!("{host} [lock '{name}']")
    }
}

fn stale_note(info: &LockInfo) -> String {
    match info.staleness(now_secs(), &controller_name(), process_alive) {
        Some(s) => format!(" — STALE ({s}; break it with `drover lock release --force`)"),
        None => String::new(),
    }
}

fn holder_text(info: &Option<LockInfo>) -> String {
    match info {
        Some(i) => format!("{}{}", i.describe(now_secs()), stale_note(i)),
        None => "being taken (no info file yet)".into(),
    }
}

type Targets = [(String, String, Result<Arc<LockTarget>, String>)];

async fn status(all: &Targets, settings: &LockSettings) -> u8 {
    let mut code = 0;
    for (host, name, target) in all {
        let target = match target {
            Ok(t) => t,
            Err(e) if e.starts_with("not locked") => {
                println!("{}: {e}", label(host, name));
                continue;
            }
            Err(e) => {
                println!("{}: UNREACHABLE: {e}", label(host, name));
                code = EXIT_UNREACHABLE;
                continue;
            }
        };
        match target.ops(&settings.dir).read(name).await {
            Ok(state) => {
                match &state.main {
                    None => println!("{}: free", label(host, name)),
                    Some(info) => println!("{}: held by {}", label(host, name), holder_text(info)),
                }
                if let Some(run) = &state.run {
                    println!("  run in progress under it: {}", holder_text(run));
                }
            }
            Err(e) => {
                println!("{}: {e}", label(host, name));
                code = code.max(EXIT_ERROR);
            }
        }
    }
    code
}

async fn acquire(all: &Targets, settings: &LockSettings, force: bool) -> u8 {
    let mut targets = Vec::new();
    for (host, name, target) in all {
        match target {
            Ok(t) => targets.push((t.clone(), name.clone())),
            Err(e) if e.starts_with("not locked") => println!("{}: {e}", label(host, name)),
            Err(e) => {
                eprintln!("{}: UNREACHABLE: {e}", label(host, name));
                return EXIT_UNREACHABLE;
            }
        }
    }
    if force {
        for (t, name) in &targets {
            if let Ok(state) = t.ops(&settings.dir).read(name).await {
                let stale = state.main.as_ref().and_then(|i| i.as_ref()).and_then(|i| {
                    i.staleness(now_secs(), &controller_name(), process_alive)
                        .map(|s| (i.clone(), s))
                });
                if let Some((info, why)) = stale {
                    if t.ops(&settings.dir)
                        .force_release(name)
                        .await
                        .unwrap_or(false)
                    {
                        println!(
                            "{}: broke the stale lock of {} ({why})",
                            label(&t.host, name),
                            info.owner
                        );
                    }
                }
            }
        }
    }
    let info = LockInfo {
        owner: settings.owner.clone(),
        controller: controller_name(),
        pid: std::process::id(),
        pid_start: None,
        kind: LockKind::Held,
        playbook: "-".into(),
        started: now_secs(),
        expires: now_secs().saturating_add(settings.ttl.as_secs()),
        token: String::new(),
    };
    let interrupt = drover_core::interrupt::Interrupt::new();
    match LockSet::acquire(&targets, settings, &info, &interrupt).await {
        Ok(set) => {
            let hosts: Vec<String> = targets.iter().map(|(t, n)| label(&t.host, n)).collect();
            println!(
                "held by {} until {} UTC: {} ({} newly taken; release with `drover lock release`)",
                settings.owner,
                drover_core::lock::format_utc(info.expires),
                hosts.join(", "),
                set.len()
            );
            0
        }
        Err(e) => lock_refused(&e),
    }
}

/// Prints why locks were refused; the exit status for it (3, or 99 when interrupted).
pub(crate) fn lock_refused(e: &LockError) -> u8 {
    let interrupted = drover_core::interrupt::EXIT_INTERRUPTED as u8;
    let (hint, code) = match e {
        LockError::Held {
            stale: Some(_),
            host,
            ..
        } => (
            Some(format!(
                "the holder looks gone: `drover lock release --force {host}` breaks the lock"
            )),
            EXIT_LOCKED,
        ),
        LockError::Held { .. } => (
            Some("wait for it (--lock-wait 10m) or ask the holder; `drover lock status PATTERN` shows the locks".to_string()),
            EXIT_LOCKED,
        ),
        LockError::Failed { .. } => (
            Some("nothing was changed on any host".to_string()),
            EXIT_LOCKED,
        ),
        LockError::Interrupted => (None, interrupted),
    };
    fail(format!("refusing to run: {e}"), hint.as_deref(), code);
    code
}

async fn release(all: &Targets, settings: &LockSettings, force: bool) -> u8 {
    let mut code = 0;
    for (host, name, target) in all {
        let who = label(host, name);
        let target = match target {
            Ok(t) => t,
            Err(e) if e.starts_with("not locked") => {
                println!("{who}: {e}");
                continue;
            }
            Err(e) => {
                eprintln!("{who}: UNREACHABLE: {e}");
                code = code.max(EXIT_UNREACHABLE);
                continue;
            }
        };
        let ops = target.ops(&settings.dir);
        let state = match ops.read(name).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{who}: {e}");
                code = code.max(EXIT_ERROR);
                continue;
            }
        };
        let Some(main) = &state.main else {
            println!("{who}: not locked");
            continue;
        };
        if force {
            match ops.force_release(name).await {
                Ok(_) => println!("{who}: broke the lock held by {}", holder_text(main)),
                Err(e) => {
                    eprintln!("{who}: {e}");
                    code = code.max(EXIT_ERROR);
                }
            }
            continue;
        }
        let ours = main
            .as_ref()
            .filter(|i| i.owner == settings.owner && i.kind == LockKind::Held);
        let Some(info) = ours else {
            eprintln!(
                "{who}: not yours: held by {} (use --force to break it)",
                holder_text(main)
            );
            code = code.max(EXIT_LOCKED);
            continue;
        };
        if let Some(run) = &state.run {
            eprintln!(
                "{who}: a run is in progress under your token: {} (use --force to break both)",
                holder_text(run)
            );
            code = code.max(EXIT_LOCKED);
            continue;
        }
        let path = drover_core::lock::lock_path(&settings.dir, name);
        match ops.release_path(&path, Some(&info.token)).await {
            Ok(true) => println!("{who}: released"),
            Ok(false) => println!("{who}: not locked by you any more"),
            Err(e) => {
                eprintln!("{who}: {e}");
                code = code.max(EXIT_ERROR);
            }
        }
    }
    code
}
