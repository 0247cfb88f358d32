//! The integration suite's harness lives in the test kit (`countersign-kit`, module `app`);
//! this crate's tests (`tests/tests/*.rs`) use it under this crate's name.

pub use countersign_kit::app::*;
