//! Service modules: `systemd` (`systemd_service`) and `service` (systemd, with a SysV init
//! script fallback).

pub mod service;
pub mod systemd;
pub mod sysv;
