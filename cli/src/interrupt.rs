//! Ctrl-C and SIGTERM for `drover play`: the first signal stops the run cleanly (no new task, the
//! running commands killed on the targets, the recap printed, the locks released: exit 99); a
//! second one exits at once with 130.

use drover_core::interrupt::Interrupt;

/// Exit status when a second signal cut the clean stop short.
const EXIT_CUT_SHORT: i32 = 130;

/// Installs the SIGINT and SIGTERM handlers on `runtime` (at once, so a signal arriving while
/// the run starts is not lost); the first triggers `interrupt`.
pub fn install(runtime: &tokio::runtime::Runtime, interrupt: Interrupt) {
    use tokio::signal::unix::{signal, SignalKind};
    let _entered = runtime.enter();
    let mut int = signal(SignalKind::interrupt()).ok();
    let mut term = signal(SignalKind::terminate()).ok();
    let trigger = interrupt;
    runtime.spawn(async move {
        let mut seen = 0u32;
        loop {
            let got = tokio::select! {
                Some(()) = recv(&mut int) => true,
                Some(()) = recv(&mut term) => true,
                else => false,
            };
            if !got {
                return;
            }
            seen += 1;
            if seen == 1 {
                eprintln!(
                    "\n[drover] interrupted: stopping the running tasks, then the recap and the lock release (press Ctrl-C again to exit at once)"
                );
                trigger.trigger();
            } else {
                eprintln!("[drover] exiting at once: running commands and locks may be left behind (`drover lock status`)");
                std::process::exit(EXIT_CUT_SHORT);
            }
        }
    });
}

async fn recv(sig: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match sig {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}
