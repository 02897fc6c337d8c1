pub mod supervisorctl;
