//! One apt package cache shared by every throwaway host, without sharing apt's lock.
//!
//! apt holds `/var/cache/apt/archives/lock` for a whole run, so one directory bind-mounted into
//! several running hosts would serialise or fail them. Instead each host starts with the pool's
//! `.deb` files hard-linked into its own `/var/cache/apt/archives/` (written into the clone's
//! overlay upper directory before it boots), and after the run the `.deb` files it downloaded are
//! hard-linked back into the pool. Package lists are seeded the same way (hard links keep their
//! mtimes, so `cache_valid_time` sees their real age) while the pool's are younger than
//! [`LISTS_MAX_AGE`]; a host whose `apt-get update` fetched newer lists hands them back whole.

use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::error::DriverError;

/// Package lists older than this are not seeded: a stale list names package versions the archive
/// may no longer have.
pub const LISTS_MAX_AGE: Duration = Duration::from_secs(6 * 3600);

const ARCHIVES: &str = "var/cache/apt/archives";
const LISTS: &str = "var/lib/apt/lists";

/// The shared pool under the testbed directory.
pub struct AptCache {
    dir: PathBuf,
}

/// What the shared apt cache put into a host before it booted.
#[derive(Debug, Default, Clone, Copy)]
pub struct Seeded {
    /// `.deb` files linked in.
    pub debs: usize,
    /// Package list files linked in (0: the pool's lists were missing or too old).
    pub lists: usize,
}

impl AptCache {
    /// The pool in `<dir>/apt`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.join("apt"),
        }
    }

    fn with_lock<R>(&self, f: impl FnOnce() -> R) -> Result<R, DriverError> {
        std::fs::create_dir_all(self.dir.join("archives"))
            .map_err(|e| DriverError::io(&self.dir, e))?;
        let path = self.dir.join(".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| DriverError::io(&path, e))?;
        lock.lock().map_err(|e| DriverError::io(&path, e))?;
        Ok(f())
    }

    /// Links the pool's `.deb` files (and fresh lists) into a host's overlay upper dir `upper` (an
    /// LXC clone's or a Docker container's writable layer).
    pub fn seed(&self, upper: &Path) -> Result<Seeded, DriverError> {
        self.with_lock(|| {
            let mut seeded = Seeded::default();
            let archives = upper.join(ARCHIVES);
            std::fs::create_dir_all(&archives).map_err(|e| DriverError::io(&archives, e))?;
            seeded.debs = link_files(&self.dir.join("archives"), &archives, is_deb)?;
            let lists = self.dir.join("lists");
            let updated = modified(&lists);
            let fresh = updated
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|a| a < LISTS_MAX_AGE);
            if let (true, Some(updated)) = (fresh, updated) {
                let target = upper.join(LISTS);
                std::fs::create_dir_all(&target).map_err(|e| DriverError::io(&target, e))?;
                seeded.lists = link_files(&lists, &target, is_list)?;
                // apt (and drover's `cache_valid_time`) date the cache by the lists directory.
                set_modified(&target, updated)?;
            }
            Ok(seeded)
        })?
    }

    /// Links the `.deb` files a host downloaded into the pool, and takes its package lists when
    /// they are newer than the pool's. Returns the number of new `.deb` files.
    pub fn harvest(&self, upper: &Path) -> Result<usize, DriverError> {
        self.with_lock(|| {
            let pool = self.dir.join("archives");
            let new = link_files(&upper.join(ARCHIVES), &pool, is_deb)?;
            let host_lists = upper.join(LISTS);
            let host_updated = modified(&host_lists).filter(|_| has_release(&host_lists));
            let pool_updated = modified(&self.dir.join("lists"));
            if let Some(updated) = host_updated.filter(|h| pool_updated.is_none_or(|p| h > &p)) {
                self.replace_lists(&host_lists, updated)?;
            }
            Ok(new)
        })?
    }

    /// Replaces the pool's lists by `from`'s, as a whole (lists and their Release files belong
    /// together: apt checks one against the other).
    fn replace_lists(&self, from: &Path, updated: SystemTime) -> Result<(), DriverError> {
        let staging = self.dir.join(format!("lists.new-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).map_err(|e| DriverError::io(&staging, e))?;
        link_files(from, &staging, is_list)?;
        set_modified(&staging, updated)?;
        let lists = self.dir.join("lists");
        let old = self.dir.join(format!("lists.old-{}", std::process::id()));
        if lists.exists() {
            std::fs::rename(&lists, &old).map_err(|e| DriverError::io(&lists, e))?;
        }
        std::fs::rename(&staging, &lists).map_err(|e| DriverError::io(&lists, e))?;
        let _ = std::fs::remove_dir_all(&old);
        Ok(())
    }
}

fn is_deb(name: &str) -> bool {
    name.ends_with(".deb")
}

fn is_list(name: &str) -> bool {
    name != "lock" && !name.starts_with('.')
}

/// Hard-links the regular files of `from` accepted by `keep` into `to` (existing names are
/// left alone). Returns how many were linked. A missing `from` links nothing.
fn link_files(from: &Path, to: &Path, keep: fn(&str) -> bool) -> Result<usize, DriverError> {
    let entries = match std::fs::read_dir(from) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(DriverError::io(from, e)),
    };
    let mut count = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(text) = name.to_str() else { continue };
        if !keep(text) || !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        match std::fs::hard_link(entry.path(), to.join(&name)) {
            Ok(()) => count += 1,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            // Another file system (a Docker data root elsewhere): copy instead.
            Err(e) if e.kind() == ErrorKind::CrossesDevices => {
                std::fs::copy(entry.path(), to.join(&name))
                    .map_err(|e| DriverError::io(to.join(&name), e))?;
                count += 1;
            }
            Err(e) => return Err(DriverError::io(to.join(&name), e)),
        }
    }
    Ok(count)
}

/// The modification time of `path`.
fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).ok()?.modified().ok()
}

fn set_modified(dir: &Path, time: SystemTime) -> Result<(), DriverError> {
    std::fs::File::open(dir)
        .and_then(|f| f.set_modified(time))
        .map_err(|e| DriverError::io(dir, e))
}

/// Whether `dir` holds a `*Release` file (an `apt-get update` ran there).
fn has_release(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with("Release"))
    })
}
