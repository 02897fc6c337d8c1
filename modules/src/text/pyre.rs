//! Python `re` compatibility for the text modules: drover-core's [`drover_core::pyre`] (linear
//! `regex` engine, with `fancy-regex` for lookaround and backreferences).

pub use drover_core::pyre::{compile, search_line, subn, translate, PyRegex, Template};
