//! Allocation of host slots (name + IP) shared by every process on the machine.
//!
//! A slot `n` means container `drvt-n` at `10.77.0.n`. Slots are the bridge's addresses, so their
//! leases live in one machine-wide place, [`LEASE_DIR`], whatever `DROVER_TEST_STATE` says (a fresh-mode
//! run with its own state directory shares the bridge with every other run). A lease is the file
//! `<LEASE_DIR>/<n>` holding the owner's pid and process start time, and `<n>.state` names the state
//! directory whose lxcpath holds the container; allocation runs under an exclusive lock on
//! `<LEASE_DIR>.lock`. Leases of dead processes (a test binary that was killed) are reclaimed and their
//! leftover container is destroyed first.

use std::fs::{self, File, OpenOptions};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::setup::{run_script_with_state, state_dir, DEFAULT_STATE_DIR};
use crate::HarnessError;

/// Where every slot's lease lives (the default state directory's `leases/`, as `cleanup.sh` reads it).
pub(crate) const LEASE_DIR: &str = "/var/lib/drover-test/leases";

/// First and last slot handed out (10.77.0.1 is the bridge).
const FIRST_SLOT: u8 = 10;
const LAST_SLOT: u8 = 249;

/// One leased slot; released (lease file removed) by [`Lease::release`].
#[derive(Debug)]
pub(crate) struct Lease {
    /// The slot number: last octet of the IP.
    pub slot: u8,
    path: PathBuf,
}

impl Lease {
    /// Container name of this slot.
    pub fn name(&self) -> String {
        format!("drvt-{}", self.slot)
    }

    /// IP of this slot on the harness bridge.
    pub fn ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 77, 0, self.slot)
    }

    /// Gives the slot back (the container must already be destroyed).
    pub fn release(self) {
        let _ = fs::remove_file(state_file(&self.path));
        let _ = fs::remove_file(&self.path);
    }
}

/// The file naming the state directory of the container behind lease file `lease`.
fn state_file(lease: &Path) -> PathBuf {
    lease.with_extension("state")
}

/// A machine-wide table of slots, each a lease file `<dir>/<n>` holding its owner's pid and start
/// time, locked (an exclusive lock on `<dir>.lock`) for as long as this value lives.
pub(crate) struct SlotTable {
    dir: PathBuf,
    owner: String,
    _lock: File,
}

impl SlotTable {
    /// Locks the table in `dir` (created if missing).
    pub(crate) fn lock(dir: &Path) -> Result<Self, HarnessError> {
        fs::create_dir_all(dir).map_err(HarnessError::io(format!("creating {}", dir.display())))?;
        let lock_path = dir.with_extension("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(HarnessError::io(format!("opening {}", lock_path.display())))?;
        lock.lock()
            .map_err(HarnessError::io(format!("locking {}", lock_path.display())))?;
        let owner = process_identity(std::process::id()).ok_or_else(|| HarnessError::Io {
            context: "reading this process's start time".into(),
            source: std::io::Error::other("/proc/self/stat unreadable"),
        })?;
        Ok(Self {
            dir: dir.to_path_buf(),
            owner,
            _lock: lock,
        })
    }

    /// The lease file of `slot`.
    pub(crate) fn path(&self, slot: u8) -> PathBuf {
        self.dir.join(slot.to_string())
    }

    /// Whether a running process holds `slot`.
    pub(crate) fn is_held(&self, slot: u8) -> bool {
        fs::read_to_string(self.path(slot)).is_ok_and(|holder| holder_is_alive(&holder))
    }

    /// Makes this process the holder of `slot`; returns its lease file.
    pub(crate) fn take(&self, slot: u8) -> Result<PathBuf, HarnessError> {
        let path = self.path(slot);
        fs::write(&path, &self.owner)
            .map_err(HarnessError::io(format!("writing {}", path.display())))?;
        Ok(path)
    }
}

/// Leases `count` free slots for this process.
pub(crate) fn acquire(count: usize) -> Result<Vec<Lease>, HarnessError> {
    let state = state_dir();
    let table = SlotTable::lock(Path::new(LEASE_DIR))?;
    let mut leases = Vec::with_capacity(count);
    for slot in FIRST_SLOT..=LAST_SLOT {
        if leases.len() == count {
            break;
        }
        if table.is_held(slot) {
            continue;
        }
        let lease = Lease {
            slot,
            path: table.path(slot),
        };
        // A dead owner (or a container without a lease) leaves a container behind, in the dead
        // owner's state directory or in ours: destroy it.
        let recorded = fs::read_to_string(state_file(&lease.path))
            .map(|dir| PathBuf::from(dir.trim()))
            .unwrap_or_else(|_| PathBuf::from(DEFAULT_STATE_DIR));
        for dir in [recorded, state.clone()] {
            if dir.join("lxc").join(lease.name()).exists() {
                run_script_with_state("host.sh", &["down", &lease.name()], &dir)?;
            }
        }
        fs::write(
            state_file(&lease.path),
            state.as_os_str().as_encoded_bytes(),
        )
        .map_err(HarnessError::io(format!(
            "writing {}",
            state_file(&lease.path).display()
        )))?;
        table.take(slot)?;
        leases.push(lease);
    }
    drop(table);
    if leases.len() < count {
        let free = leases.len();
        leases.into_iter().for_each(Lease::release);
        return Err(HarnessError::NoFreeSlots {
            wanted: count,
            free,
        });
    }
    Ok(leases)
}

/// `"<pid> <start time>"` of a running process, or `None` if it does not exist.
pub(crate) fn process_identity(pid: u32) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; the start time is field 22 overall.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let start_time = after_comm.split_whitespace().nth(19)?;
    Some(format!("{pid} {start_time}"))
}

/// Whether the process recorded in a lease file still runs (same pid and start time).
pub(crate) fn holder_is_alive(holder: &str) -> bool {
    let holder = holder.trim();
    let Some(pid) = holder
        .split_whitespace()
        .next()
        .and_then(|pid| pid.parse().ok())
    else {
        return false;
    };
    process_identity(pid).as_deref() == Some(holder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_and_a_bogus_start_time_is_not() {
        let me = process_identity(std::process::id()).expect("own /proc/self/stat");
        assert!(holder_is_alive(&me));
        let pid = std::process::id();
        assert!(!holder_is_alive(&format!("{pid} 1")));
        assert!(!holder_is_alive("not a lease"));
    }

    #[test]
    fn slot_maps_to_name_and_ip() {
        let lease = Lease {
            slot: 42,
            path: PathBuf::from("/nonexistent"),
        };
        assert_eq!(lease.name(), "drvt-42");
        assert_eq!(lease.ip(), Ipv4Addr::new(10, 77, 0, 42));
    }
}
