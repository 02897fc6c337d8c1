//! Service modules: `systemd` (`systemd_service`), `service` (systemd, with a SysV init
//! script fallback) and `supervisorctl`.

pub mod service;
pub mod supervisorctl;
pub mod systemd;
pub mod sysv;
