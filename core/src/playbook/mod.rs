//! The playbook model.
