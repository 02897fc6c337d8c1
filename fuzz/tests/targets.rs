//! Bounded fuzz runs of every target (a few seconds each in the normal test suite).
//! `DROVER_FUZZ_CASES` sets the number of cases per target (default 64); proptest keeps the
//! seed of any failure in `fuzz/proptest-regressions/` and replays it first on the next run.

use std::sync::OnceLock;

use drover_fuzz::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

fn config() -> Config {
    let cases = std::env::var("DROVER_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64);
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..Config::default()
    }
}

fn input(seeds: &'static [Vec<u8>]) -> impl Strategy<Value = String> {
    (0..seeds.len(), prop::collection::vec(mutation(), 0..10))
        .prop_map(move |(i, muts)| mutate(&seeds[i], &muts))
}

macro_rules! corpus {
    ($name:ident, $dirs:expr, $exts:expr) => {
        fn $name() -> &'static [Vec<u8>] {
            static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
            SEEDS.get_or_init(|| seeds(&$dirs, &$exts, 40))
        }
    };
}

corpus!(
    yaml_seeds,
    ["playbooks", "examples/playbooks"],
    [".yml", ".yaml"]
);
corpus!(ini_seeds, ["inventories"], [".ini"]);
corpus!(inv_yaml_seeds, ["inventories"], ["hosts.yml"]);
corpus!(kv_seeds, [], [".txt"]);
corpus!(template_seeds, ["playbooks"], [".j2"]);

fn encrypted_seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| vault_seeds(yaml_seeds()))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_yaml_loader(text in input(yaml_seeds())) {
        run(yaml_loader, text);
    }

    #[test]
    fn fuzz_inventory_ini(text in input(ini_seeds())) {
        run(inventory_ini, text);
    }

    #[test]
    fn fuzz_inventory_yaml(text in input(inv_yaml_seeds())) {
        run(inventory_yaml, text);
    }

    #[test]
    fn fuzz_key_values(text in input(kv_seeds())) {
        run(key_values, text);
    }

    #[test]
    fn fuzz_extra_vars(text in input(kv_seeds())) {
        run(extra_vars, text);
    }

    #[test]
    fn fuzz_extra_vars_yaml(text in input(yaml_seeds())) {
        run(extra_vars, text);
    }

    #[test]
    fn fuzz_vault_decoder(text in input(encrypted_seeds())) {
        run(vault_decoder, text);
    }

    #[test]
    fn fuzz_template_bridge(text in input(template_seeds())) {
        run(template_bridge, text);
    }
}

/// The seeds themselves load (a harness whose seeds all fail would fuzz nothing but errors).
#[test]
fn seeds_are_real_inputs() {
    assert!(yaml_seeds().len() > 5, "playbook seeds found");
    assert!(drover_core::yaml::parse_str(
        std::str::from_utf8(&yaml_seeds()[0]).expect("utf-8"),
        "seed.yml"
    )
    .is_ok());
    let mut secrets = drover_core::vault::VaultSecrets::new();
    secrets.push(drover_core::vault::VaultSecret::new(
        "default",
        VAULT_PASSWORD,
    ));
    let sealed = std::str::from_utf8(&encrypted_seeds()[0]).expect("utf-8");
    assert!(secrets.decrypt(sealed, "seed").is_ok());
}
