//! Test harness: real Debian hosts (LXC containers) for integration tests.
