//! scratch
use drover_integration::TestHosts;

#[test]
#[ignore]
fn scratch_host() {
    let hosts = TestHosts::start(1);
    let dir = std::path::Path::new("/tmp/ome-scratch");
    std::fs::write(dir.join("hosts.ini"), hosts.inventory_text("ome", "root")).unwrap();
    while !dir.join("stop").exists() {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}
