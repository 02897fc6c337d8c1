//! The `drover` command.

fn main() {
    let _ = drover_modules::registry();
}
