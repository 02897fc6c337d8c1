//! The module contract: every registered module describes its parameters (so the static checks,
//! `--list-*` and docs read the description), and each description lists exactly the keys its
//! params type deserializes — each key (and alias) of the description is one serde knows.

#[test]
fn every_module_describes_its_parameters_as_its_type_reads_them() {
    let registry = drover_modules::registry();
    let mut undescribed = Vec::new();
    let mut unknown = Vec::new();
    let mut checked = 0;
    for name in registry.names() {
        let Some(module) = registry.get(name) else {
            continue;
        };
        if module.name() != name {
            continue; // an alias (`ansible.builtin.copy`, `yum`)
        }
        checked += 1;
        if module.params_spec().is_none() {
            undescribed.push(name.to_string());
        }
        for key in module.keys_unknown_to_params() {
            unknown.push(format!("{name}: {key}"));
        }
    }
    assert!(checked >= 50, "only {checked} modules checked");
    assert!(
        undescribed.is_empty(),
        "modules without a parameters description: {undescribed:?}"
    );
    assert!(
        unknown.is_empty(),
        "described but not deserialized: {unknown:?}"
    );
}

#[test]
fn the_check_catches_a_description_the_type_disagrees_with() {
    use drover_core::params::ModuleParams;
    use serde::Deserialize;

    /// Described as taking `path`, but its (hand-written) deserializer only reads `dest`.
    #[derive(ModuleParams)]
    #[allow(dead_code)]
    struct Drifted {
        /// Where.
        path: Option<String>,
    }
    impl<'de> Deserialize<'de> for Drifted {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            #[allow(dead_code)]
            struct Only {
                #[serde(default)]
                dest: Option<String>,
            }
            Only::deserialize(d).map(|_| Drifted { path: None })
        }
    }
    assert_eq!(Drifted::keys_unknown_to_type(), vec!["path".to_string()]);

    #[derive(Deserialize, ModuleParams)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Agrees {
        /// Destination.
        #[serde(default)]
        dest: Option<String>,
    }
    assert!(Agrees::keys_unknown_to_type().is_empty());
}
