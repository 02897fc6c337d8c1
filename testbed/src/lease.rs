//! Addresses on the testbed bridge, leased under a lock so parallel runs never collide.
//!
//! Lease `<dir>/leases/<octet>` holds the container's name and the leasing process's pid. A lease
//! is free again when neither its container exists nor its process runs (a run that was killed),
//! so hosts kept with `--keep` hold their address until they are destroyed.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::error::DriverError;

/// The first and last host octets handed out (10.79.0.10 – 10.79.0.250).
const FIRST: u8 = 10;
const LAST: u8 = 250;

/// Hands out host octets of the bridge's /24.
pub struct Leases {
    dir: PathBuf,
    lxc_path: PathBuf,
}

impl Leases {
    /// Leases under `dir`, for containers in `lxc_path`.
    pub fn new(dir: &Path, lxc_path: &Path) -> Self {
        Self {
            dir: dir.join("leases"),
            lxc_path: lxc_path.to_path_buf(),
        }
    }

    /// Leases a free octet for `container`.
    pub fn acquire(&self, container: &str) -> Result<u8, DriverError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| DriverError::io(&self.dir, e))?;
        let lock_path = self.dir.join(".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| DriverError::io(&lock_path, e))?;
        lock.lock().map_err(|e| DriverError::io(&lock_path, e))?;
        let result = (FIRST..=LAST)
            .find(|octet| self.is_free(*octet))
            .ok_or(DriverError::NoFreeAddress(usize::from(LAST - FIRST) + 1))
            .and_then(|octet| {
                let path = self.dir.join(octet.to_string());
                std::fs::write(&path, format!("{container}\n{}\n", std::process::id()))
                    .map_err(|e| DriverError::io(&path, e))?;
                Ok(octet)
            });
        drop::<File>(lock);
        result
    }

    /// Frees `octet` (when it is still `container`'s).
    pub fn release(&self, octet: u8, container: &str) {
        let path = self.dir.join(octet.to_string());
        if self.holder(octet).is_some_and(|(c, _)| c == container) {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Frees every address leased to one of `containers`.
    pub fn release_containers(&self, containers: &[String]) {
        for octet in FIRST..=LAST {
            if self
                .holder(octet)
                .is_some_and(|(c, _)| containers.contains(&c))
            {
                let _ = std::fs::remove_file(self.dir.join(octet.to_string()));
            }
        }
    }

    /// The container and pid holding `octet`.
    fn holder(&self, octet: u8) -> Option<(String, u32)> {
        let text = std::fs::read_to_string(self.dir.join(octet.to_string())).ok()?;
        let mut lines = text.lines();
        let container = lines.next()?.to_string();
        let pid = lines.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        Some((container, pid))
    }

    fn is_free(&self, octet: u8) -> bool {
        match self.holder(octet) {
            None => true,
            Some((container, pid)) => {
                !self.lxc_path.join(&container).exists()
                    && (pid == 0 || !Path::new(&format!("/proc/{pid}")).exists())
            }
        }
    }
}
