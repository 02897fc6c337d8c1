//! `drover test`: the command around drover-testbed — reads targets, runs the scenarios, prints
//! progress (stderr), the summary table or the JSON result (stdout), and maps the result to an
//! exit code: 0 every scenario passed, 1 a bad scenario file or the testbed could not be set up
//! (e.g. not root), 2 a scenario failed, 5 bad options, 130 interrupted.

use std::path::Path;
use std::process::ExitCode;

use drover_core::config::AnsibleConfig;
use drover_core::vars::Vars;
use drover_testbed::{
    load_target, DockerSettings, DriverKind, Phase, PhaseReport, Progress, RunReport,
    RunnerOptions, Scenario, ScenarioError, Status,
};

use crate::args::{OutputFormat, TestArgs, TestDriver};
use crate::{async_runtime, fail, EXIT_BAD_OPTIONS, EXIT_ERROR};

/// Exit status when a scenario failed.
const EXIT_FAILED: u8 = 2;
/// Exit status after Ctrl-C or SIGTERM (128 + SIGINT).
const EXIT_INTERRUPTED: u8 = 130;

/// Prints each phase as it ends, on stderr.
struct StderrProgress;

impl Progress for StderrProgress {
    fn phase_finished(&self, scenario: &str, r: &PhaseReport) {
        if r.phase == Phase::Destroy && r.status == Status::Skipped {
            return;
        }
        eprintln!(
            "[{scenario}] {} {} ({:.1} s)",
            r.phase.name(),
            r.status.name(),
            r.duration.as_secs_f64()
        );
        for f in &r.failures {
            let mut at = Vec::new();
            if let Some(t) = &f.task {
                at.push(format!("task '{t}'"));
            }
            if let Some(h) = &f.host {
                at.push(format!("on {h}"));
            }
            let at = if at.is_empty() {
                String::new()
            } else {
                format!("{}: ", at.join(" "))
            };
            eprintln!("[{scenario}]   {at}{}", f.message.replace('\n', "\n    "));
        }
    }
}

/// Runs `drover test`.
pub fn run(args: &TestArgs) -> ExitCode {
    let dir = drover_testbed::testbed_dir();
    let runtime = match async_runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let driver = args.driver.map(|d| match d {
        TestDriver::Lxc => DriverKind::Lxc,
        TestDriver::Docker => DriverKind::Docker,
    });
    let docker = DockerSettings {
        host: args.docker_host.clone(),
        privileged: args.privileged,
    };
    if args.cleanup {
        let kind = driver.unwrap_or(DriverKind::Lxc);
        return match runtime.block_on(drover_testbed::cleanup(kind, &dir, &docker)) {
            Ok(removed) => {
                for name in &removed {
                    println!("destroyed {name}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(e.to_string(), None, EXIT_ERROR),
        };
    }
    let config = AnsibleConfig::load();
    let vault = match crate::vault::collect_secrets(&args.vault, &config) {
        Ok(v) => v,
        Err(e) => return fail(e, None, EXIT_BAD_OPTIONS),
    };
    // `-e @file` may be vault-encrypted.
    let shared = std::sync::Arc::new(vault.clone());
    let mut extra_vars = Vars::new();
    for e in &args.extra_vars {
        let merged = drover_core::vault::with_secrets(&shared, || {
            crate::extra_vars::merge_extra_vars(e, &mut extra_vars)
        });
        if let Err(e) = merged {
            return fail(e, None, EXIT_BAD_OPTIONS);
        }
    }
    let scenarios = match load_all(&args.targets) {
        Ok(s) => s,
        Err(e) => {
            let code = match e {
                ScenarioError::NotFound(_) | ScenarioError::UnknownTarget(_) => EXIT_BAD_OPTIONS,
                _ => EXIT_ERROR,
            };
            return fail(
                e.to_string(),
                Some("the format is described in docs/TESTING.md"),
                code,
            );
        }
    };
    let options = RunnerOptions {
        dir,
        keep: args.keep,
        parallel: usize::from(args.parallel),
        config,
        extra_vars,
        vault,
        driver,
        docker,
    };
    let registry = drover_modules::registry();
    let report = match runtime.block_on(drover_testbed::run(
        &scenarios,
        &registry,
        &options,
        &StderrProgress,
    )) {
        Ok(r) => r,
        Err(e) => return fail(e.to_string(), None, EXIT_ERROR),
    };
    match args.output {
        OutputFormat::Json => match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(e) => return fail(format!("cannot write the result: {e}"), None, EXIT_ERROR),
        },
        OutputFormat::Human => print_summary(&report),
    }
    print_kept(&report, args.docker_host.as_deref());
    if report.interrupted {
        eprintln!(
            "interrupted: {}",
            if args.keep {
                "hosts kept"
            } else {
                "hosts destroyed"
            }
        );
        ExitCode::from(EXIT_INTERRUPTED)
    } else if report.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}

/// Every target's scenarios; a name used twice gets `-2`, `-3`, … appended.
fn load_all(targets: &[std::path::PathBuf]) -> Result<Vec<Scenario>, ScenarioError> {
    let mut out: Vec<Scenario> = Vec::new();
    for t in targets {
        for mut s in load_target(t)? {
            let base = s.name.clone();
            let mut n = 1;
            while out.iter().any(|o| o.name == s.name) {
                n += 1;
                s.name = format!("{base}-{n}");
            }
            out.push(s);
        }
    }
    Ok(out)
}

/// scenario | converge | idempotence | verify | time
fn print_summary(report: &RunReport) {
    let rows: Vec<[String; 5]> = report
        .scenarios
        .iter()
        .map(|s| {
            let cell = |p: Phase| match s.phase(p) {
                Some(r) => r.status.name().to_string(),
                None if s.status == Status::Skipped => "skipped".to_string(),
                None if s.status == Status::Interrupted => "interrupted".to_string(),
                None if s.phase_status(Phase::Create) == Status::Failed => "(create failed)".into(),
                None => "-".to_string(),
            };
            let verify = match s.phase(Phase::Verify) {
                None if s.status == Status::Ok => "(none)".to_string(),
                _ => cell(Phase::Verify),
            };
            [
                s.name.clone(),
                cell(Phase::Converge),
                cell(Phase::Idempotence),
                verify,
                format!("{:.1} s", s.duration.as_secs_f64()),
            ]
        })
        .collect();
    let header = ["scenario", "converge", "idempotence", "verify", "time"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let line = |cells: [&str; 5]| {
        let parts: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", parts.join(" | ").trim_end());
    };
    println!();
    line(header);
    println!("{}", widths.map(|w| "-".repeat(w)).join("-|-"));
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3], &r[4]]);
    }
    for s in report.scenarios.iter().filter(|s| s.skip_reason.is_some()) {
        println!(
            "{}: skipped: {}",
            s.name,
            s.skip_reason.as_deref().unwrap_or_default()
        );
    }
    let failed = report
        .scenarios
        .iter()
        .filter(|s| s.status == Status::Failed)
        .count();
    println!(
        "\n{} scenarios: {} passed, {} failed, {} skipped in {:.1} s",
        report.scenarios.len(),
        report
            .scenarios
            .iter()
            .filter(|s| s.status == Status::Ok)
            .count(),
        failed,
        report
            .scenarios
            .iter()
            .filter(|s| s.status == Status::Skipped)
            .count(),
        report.duration.as_secs_f64()
    );
    for s in report
        .scenarios
        .iter()
        .filter(|s| s.status == Status::Failed)
    {
        if let Some(dir) = &s.work_dir {
            println!("{}: logs in {}", s.name, dir.display());
        }
    }
}

/// How to reach hosts left running by `--keep` (stderr).
fn print_kept(report: &RunReport, docker_host: Option<&str>) {
    for s in report
        .scenarios
        .iter()
        .filter(|s| s.kept && !s.hosts.is_empty())
    {
        eprintln!("[{}] hosts kept:", s.name);
        for h in &s.hosts {
            eprintln!("  {} ({}): {}", h.name, h.address, h.shell);
        }
        if let Some(dir) = &s.work_dir {
            eprintln!(
                "  inventory: {}",
                Path::new(dir).join("inventory.ini").display()
            );
        }
        match s.driver {
            DriverKind::Lxc => eprintln!("  remove them with: drover test --cleanup"),
            DriverKind::Docker => eprintln!(
                "  remove them with: drover test --cleanup --driver docker{}",
                docker_host
                    .map(|h| format!(" --docker-host {h}"))
                    .unwrap_or_default()
            ),
        }
    }
}
