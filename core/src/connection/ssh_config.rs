//! Reading OpenSSH client settings: `~/.ssh/config` and `-o Key=Value` options.
//!
//! STUB: replaced by the full implementation.
