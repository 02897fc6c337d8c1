//! `drover galaxy install|init`: roles and collections from git repositories, directories and
//! tarballs (like ansible-galaxy, without Galaxy's server), and new role skeletons.

mod init;
mod install;
mod requirements;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use drover_core::config::AnsibleConfig;

use crate::{fail, EXIT_BAD_OPTIONS, EXIT_ERROR};
use requirements::{Kind, Requirement, Source};

/// `drover galaxy` arguments.
#[derive(Debug, Args)]
pub struct GalaxyArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: GalaxyAction,
}

/// `drover galaxy` actions.
#[derive(Debug, Subcommand)]
pub enum GalaxyAction {
    /// Install roles and collections from a requirements file or role specs
    /// (`git+URL[,version[,name]]`, a .git URL, a directory or a tarball).
    Install(InstallArgs),
    /// Create a role skeleton (defaults, meta, tasks, handlers, README, tests) with a
    /// `drover test` scenario.
    Init(InitArgs),
}

/// `drover galaxy install` arguments.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Roles to install: `git+URL[,version[,name]]`, a URL ending in .git, a directory or a tarball.
    #[arg(required_unless_present = "role_file")]
    pub roles: Vec<String>,
    /// A requirements file: a list of roles, or a map with `roles:` and `collections:`.
    #[arg(
        short = 'r',
        long = "role-file",
        alias = "requirements-file",
        value_name = "FILE"
    )]
    pub role_file: Option<PathBuf>,
    /// Install roles here (default: the first entry of roles_path, ~/.ansible/roles).
    #[arg(short = 'p', long = "roles-path", value_name = "DIR")]
    pub roles_path: Option<PathBuf>,
    /// Install collections here (default: the first entry of collections_path,
    /// ~/.ansible/collections).
    #[arg(long = "collections-path", value_name = "DIR")]
    pub collections_path: Option<PathBuf>,
    /// Reinstall what is already installed.
    #[arg(long)]
    pub force: bool,
}

/// `drover galaxy init` arguments.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The role's name (its directory's name).
    pub name: String,
    /// Create the role in this directory (default: the current one).
    #[arg(long = "init-path", value_name = "DIR", default_value = ".")]
    pub init_path: PathBuf,
    /// Replace an existing directory of that name.
    #[arg(long)]
    pub force: bool,
}

/// Runs `drover galaxy`.
pub fn run(args: &GalaxyArgs) -> ExitCode {
    match &args.action {
        GalaxyAction::Init(a) => match init::init(&a.name, &a.init_path, a.force) {
            Ok(dir) => {
                println!("- Role {} was created successfully", a.name);
                println!("  test it with: drover test {}", dir.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(e, None, EXIT_ERROR),
        },
        GalaxyAction::Install(a) => install_all(a),
    }
}

fn first_or(paths: &[PathBuf], fallback: &str) -> PathBuf {
    paths.first().cloned().unwrap_or_else(|| {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        home.join(fallback)
    })
}

fn install_all(args: &InstallArgs) -> ExitCode {
    let mut reqs: Vec<Requirement> = Vec::new();
    if let Some(file) = &args.role_file {
        match requirements::read_file(file) {
            Ok(mut r) => reqs.append(&mut r),
            Err(e) => {
                return fail(
                    e,
                    Some("see docs/GALAXY.md for the requirements format"),
                    EXIT_ERROR,
                )
            }
        }
    }
    for spec in &args.roles {
        reqs.push(requirements::from_spec(
            Kind::Role,
            spec,
            Path::new("."),
            "command line".into(),
        ));
    }
    // Nothing is installed when a requirement needs Galaxy's server.
    let unsupported: Vec<String> = reqs
        .iter()
        .filter_map(|r| match &r.source {
            Source::Unsupported(name) => Some(install::unsupported(r, name)),
            _ => None,
        })
        .collect();
    if !unsupported.is_empty() {
        return fail(
            unsupported.join("\n"),
            Some("drover installs from git URLs, local directories and tarballs only"),
            EXIT_ERROR,
        );
    }
    let cfg = AnsibleConfig::load();
    let target = install::Target {
        roles_dir: absolute(
            args.roles_path
                .clone()
                .unwrap_or_else(|| first_or(&cfg.roles_path, ".ansible/roles")),
        ),
        collections_dir: absolute(
            args.collections_path
                .clone()
                .unwrap_or_else(|| first_or(&cfg.collections_path, ".ansible/collections")),
        ),
        force: args.force,
    };
    if reqs.is_empty() {
        return fail(
            "nothing to install",
            Some("give role specs or -r requirements.yml"),
            EXIT_BAD_OPTIONS,
        );
    }
    let mut started = (false, false);
    for r in &reqs {
        let first = match r.kind {
            Kind::Role => !std::mem::replace(&mut started.0, true),
            Kind::Collection => !std::mem::replace(&mut started.1, true),
        };
        if first {
            let what = if r.kind == Kind::Role {
                "role"
            } else {
                "collection"
            };
            println!("Starting galaxy {what} install process");
        }
        if let Err(e) = install::install(r, &target) {
            return fail(e, None, EXIT_ERROR);
        }
    }
    ExitCode::SUCCESS
}

fn absolute(p: PathBuf) -> PathBuf {
    std::path::absolute(&p).unwrap_or(p)
}
