#[test]
#[ignore]
fn scratch_engine() {
    let engine = drover_integration::TestDockerEngine::start();
    let reg = engine.registry();
    std::fs::write("/tmp/dkimg/engine", format!("{}\n{}\n", engine.docker_host(), reg)).unwrap();
    while std::path::Path::new("/tmp/dkimg/engine").exists() {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}
